// Package sdk is what a third party needs to ship an adapter for a
// platform the connector does not cover, as a separate executable:
//
//	func main() { sdk.Serve(myplugin.New()) }
//
// A plugin implements Plugin: Describe, Configure, Pull and Close, the
// four methods of a read-only adapter. It opts into more by implementing
// more: ConfigValidator, Fetcher (records by id, after a webhook), Writer
// (segment membership written back), WebhookVerifier, and the hints of
// protocol 1.1 that let the host pace and measure it: WritePacer,
// QuotaReporter and Observable, and Eraser (protocol 1.2), which deletes a
// person's record for a privacy erasure. Embedding Unimplemented answers every
// opt-in method with adapter.ErrUnsupported and keeps a plugin compiling
// when a later SDK adds one. The values exchanged are the plain Go types
// of packages adapter and domain.
//
// Config sections arrive as adapter.Config, in which the protocol has made
// every number a float64. DecodeConfig and ConfigSchema read a struct
// tagged for package adapter/spec instead, the same decoder the built-in
// connectors use, so a plugin gets defaults, typed values, errors with
// paths and a published schema from one struct.
//
// The wire (gRPC over hashicorp/go-plugin, the handshake, version
// negotiation, error mapping) is package plugins/wire, which hosts and
// the conformance kit use; plugin authors never need it. Package
// plugins/sdktest is the conformance kit a plugin runs against itself.
package sdk
