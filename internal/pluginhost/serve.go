package pluginhost

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/wire"
)

// ServeCommandName is the hidden subcommand that serves a built-in
// adapter as a plugin: `connector plugin-serve <name>`.
const ServeCommandName = "plugin-serve"

// ServeBuiltin serves a built-in adapter over the plugin protocol until
// the host disconnects, exactly as a third-party plugin would. args are
// the arguments after the adapter's name (for wire.DescribeFlag).
func ServeBuiltin(name string, a adapter.Adapter, args ...string) {
	_ = name // the adapter describes itself; the name is for the caller's lookup
	wire.Serve(a, wire.WithArgs(args))
}

// NewServeCommand returns the hidden `plugin-serve <name>` command over
// the given built-in constructors.
func NewServeCommand(builtins map[string]func() adapter.Adapter) *cobra.Command {
	return &cobra.Command{
		Use:                ServeCommandName + " <name>",
		Short:              "Serve a built-in adapter over the plugin protocol (used by the host and the conformance tests)",
		Hidden:             true,
		DisableFlagParsing: true,
		Args:               cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "-h" || args[0] == "--help" { // flag parsing is off
				return cmd.Help()
			}
			mk, ok := builtins[args[0]]
			if !ok {
				names := make([]string, 0, len(builtins))
				for n := range builtins {
					names = append(names, n)
				}
				sort.Strings(names)
				return fmt.Errorf("serving built-in adapter: no adapter %q (have %s)", args[0], strings.Join(names, ", "))
			}
			ServeBuiltin(args[0], mk(), args[1:]...)
			return nil
		},
	}
}

// BuiltinSpec returns a Spec that runs a built-in adapter through the
// plugin boundary by re-executing exe (normally os.Executable()) with
// `plugin-serve <name>`, pinned to exe's current digest.
func BuiltinSpec(exe, name string) (Spec, error) {
	sum, err := FileSHA256(exe)
	if err != nil {
		return Spec{}, fmt.Errorf("pinning built-in %q: %w", name, err)
	}
	return Spec{Name: name, Path: exe, SHA256: sum, Args: []string{ServeCommandName, name}, AllowEnv: []string{"TZ"}}, nil
}

// SelfExecutable is os.Executable, named for BuiltinSpec's callers.
func SelfExecutable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("locating own executable: %w", err)
	}
	return exe, nil
}
