package wire

import (
	plugin "github.com/hashicorp/go-plugin"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// ProtocolVersion is the major version of the plugin protocol this SDK
// serves (connector.v1). It is negotiated through go-plugin's
// VersionedPlugins; a host refuses a plugin offering none of the versions
// it supports.
const ProtocolVersion = 1

// PluginName is the key of the adapter in every plugin set.
const PluginName = "adapter"

// The magic cookie never changes, whatever the protocol version. It is a
// user-experience guard, not a security measure: it only stops someone from
// running a plugin binary by hand and staring at a handshake line. Trust
// comes from the SHA-256 pin and AutoMTLS on the host side.
const (
	MagicCookieKey   = "SEGCONN_CONNECTOR_PLUGIN"
	MagicCookieValue = "5f0c8a3e-segment-connector-adapter"
)

// Handshake returns the go-plugin handshake shared by host and plugins.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   MagicCookieKey,
		MagicCookieValue: MagicCookieValue,
	}
}

// VersionedPlugins returns the plugin sets for the given protocol
// versions, each serving impl (nil on the host side). Versions this SDK
// does not implement are left out, so a host asking for them negotiates
// nothing. Only version 1 exists today; a v2 adds its own plugin type.
func VersionedPlugins(impl adapter.Adapter, versions ...int) map[int]plugin.PluginSet {
	out := make(map[int]plugin.PluginSet, len(versions))
	for _, v := range versions {
		if v == ProtocolVersion {
			out[v] = plugin.PluginSet{PluginName: &GRPCPlugin{Impl: impl}}
		}
	}
	return out
}

// SupportedVersions lists the protocol versions this SDK implements.
func SupportedVersions() []int { return []int{ProtocolVersion} }
