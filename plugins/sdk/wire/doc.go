// Package wire is the plugin protocol as Go code on both sides: the
// go-plugin handshake and versioned plugin sets, the gRPC server that
// serves an adapter.Adapter (Serve, NewServer), the client that turns a
// plugin back into an adapter.Adapter (NewClient), and the mapping of
// typed errors both ways. Hosts and the conformance kit use it; plugin
// authors write against package sdk and never import it.
//
// Protocol 1.1 adds the Hints and WatchHTTP calls (write pacing, quota and
// request metrics). A 1.1 plugin says so in DescribeResponse.protocol_minor;
// the client asks a plugin that says nothing (a 1.0 plugin) for neither.
// Protocol 1.2 adds Erase (adapter.Eraser); the client calls it only on a
// plugin that announced 1.2, and reports older plugins, and plugins
// without erasure, as unable to erase (adapter.ErrUnsupported).
//
// Why these libraries: go-plugin gives process isolation, a handshake,
// version negotiation, AutoMTLS, checksum pinning and stdio/log plumbing
// that we would otherwise write ourselves; gRPC (rather than net/rpc) gives
// streams for pulls, context cancellation across the process boundary and a
// language-neutral contract; protobuf is what gRPC speaks. The package
// imports only adapter, domain and the generated stubs of this module,
// never the host's internal packages.
package wire
