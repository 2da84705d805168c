// Package connectorv1 holds the generated protobuf and gRPC code of
// protocol 1 (connector.proto in this directory). It is the wire level:
// the host and plugins/sdk use it, and authors of plugins in other
// languages generate their own stubs from the same .proto. Go plugin
// authors never need it; they write against package adapter.
package connectorv1

//go:generate protoc -I . -I /usr/include --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative connector.proto
