// Package sdk is everything a third party needs to ship an adapter for a
// platform the connector does not cover, as a separate executable:
//
//	func main() { sdk.Serve(myadapter.New()) }
//
// The plugin implements adapter.Adapter (plain Go types from the adapter
// and domain packages); Serve runs it as a hashicorp/go-plugin gRPC server
// speaking protocol 1 of plugins/proto/connector/v1. The package also
// holds the pieces the host shares with plugins: the handshake, the
// versioned plugin sets, the gRPC client that turns a plugin back into an
// adapter.Adapter, and the mapping of typed errors both ways.
//
// Config sections arrive as adapter.Config, in which the protocol has made
// every number a float64. DecodeConfig and ConfigSchema read a struct
// tagged for package adapter/spec instead, the same decoder the built-in
// connectors use, so a plugin gets defaults, typed values, errors with
// paths and a published schema from one struct.
//
// Why these libraries: go-plugin gives process isolation, a handshake,
// version negotiation, AutoMTLS, checksum pinning and stdio/log plumbing
// that we would otherwise write ourselves; gRPC (rather than net/rpc) gives
// streams for pulls, context cancellation across the process boundary and a
// language-neutral contract; protobuf is what gRPC speaks. The package
// imports only adapter, domain and the generated stubs of this module, never
// the host's internal packages.
package sdk
