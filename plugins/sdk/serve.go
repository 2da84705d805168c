package sdk

import (
	"github.com/segconn/connector/plugins/sdk/wire"
)

// Serve serves p as a plugin until the host disconnects; it is the whole
// of a plugin's main function:
//
//	func main() { sdk.Serve(myplugin.New()) }
//
// Run by hand with --describe, the binary prints what it offers (its
// protocol versions and Describe's answer) as JSON instead of serving.
func Serve(p Plugin) {
	wire.Serve(Adapt(p))
}
