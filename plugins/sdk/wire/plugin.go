package wire

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/segconn/connector/plugins/sdk/adapter"
	pb "github.com/segconn/connector/plugins/sdk/proto/connector/v1"
)

// GRPCPlugin is the go-plugin glue for protocol 1: on the plugin side it
// registers Impl as the Adapter service; on the host side it returns an
// adapter.Adapter calling that service. It speaks gRPC only.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the adapter served; nil on the host side.
	Impl adapter.Adapter
	// Service builds the service from Impl; nil means NewServer. Tests set
	// NewServer10 to stand in for a plugin built against protocol 1.0.
	Service func(adapter.Adapter) pb.AdapterServer
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the adapter service.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	mk := p.Service
	if mk == nil {
		mk = NewServer
	}
	pb.RegisterAdapterServer(s, mk(p.Impl))
	return nil
}

// GRPCClient returns an adapter.Adapter over conn.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewClient(conn), nil
}
