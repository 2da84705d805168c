// Package adapter is the contract between the host and every platform
// adapter: the three built-in connectors and third-party plugins alike.
//
// The lifecycle of an Adapter is New → Describe → ValidateConfig →
// Configure → (Pull | Fetch | EnsureTargets | Push | VerifyWebhook)* →
// Close. ValidateConfig is fast, deterministic and never touches the
// network; Configure may. Adapters are stateless between calls apart from
// their configuration and connections: cursors, write-back target ids and
// ownership of memberships belong to the host, which passes them in.
//
// Every type here is plain data that maps one to one onto the protobuf
// messages of plugins/proto/connector/v1, so a plugin process and an
// in-process adapter look the same to the host.
package adapter
