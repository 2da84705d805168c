// Command serve serves the built-in connectors as plugins, exactly as the
// hidden `connector plugin-serve <name>` does, without linking the rest of
// the daemon: `serve hubspot`.
package main

import (
	"os"

	"github.com/segconn/connector/connectors"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

func main() {
	builtins := map[string]func() adapter.Adapter{}
	for name, mk := range connectors.Builtin() {
		builtins[name] = func() adapter.Adapter { return mk(sdk.Logger()) }
	}
	cmd := pluginhost.NewServeCommand(builtins)
	cmd.SetArgs(os.Args[1:])
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
