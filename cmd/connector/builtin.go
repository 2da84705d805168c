package main

import (
	"log/slog"

	"github.com/segconn/connector/connectors"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// builtinAdapters lists the connectors compiled into the binary.
func builtinAdapters() map[string]func(*slog.Logger) adapter.Adapter {
	return connectors.Builtin()
}
