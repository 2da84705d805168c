package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/pluginhost"
)

// pluginsInstallCommand is `connector plugins install PATH`: copy a plugin
// binary into the plugin folder and pin it in the config.
//
// The plugin folder is --dir, else "plugins" beside the config file. The
// config file (-c) is edited in place when that is safe (see
// pluginhost.AddToConfig: one YAML mapping, rewritten only if nothing but
// the plugin's entry changes); otherwise, or with --print or without a
// config file, the command prints the entry to add and changes no config.
func (a *cli) pluginsInstallCommand() *cobra.Command {
	var name, dir string
	var printOnly bool
	cmd := &cobra.Command{
		Use:   "install PATH",
		Short: "Copy a plugin binary into the plugin folder and pin its sha256 in the config",
		Long: "Copy a plugin binary into the plugin folder (--dir, default: plugins/ beside the config file) and declare it\n" +
			"in the config with its sha256. The binary is run once with --describe (empty environment) to learn its name.\n" +
			"When the config file cannot be edited safely (or with --print) the entry to add is printed instead.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				if a.configFile == "" {
					return usageError{errors.New("plugins install: give --dir, or a config file (-c) to install beside")}
				}
				dir = filepath.Join(filepath.Dir(a.configFile), "plugins")
			}
			in, err := pluginhost.Install(cmd.Context(), args[0], dir, name)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "installed plugin %q (%s %s, protocol %v) at %s\nsha256 %s\n",
				in.Name, in.Description.Adapter.Name, in.Description.Adapter.Version, in.Description.ProtocolVersions, in.Path, in.SHA256)
			if a.configFile == "" || printOnly {
				fmt.Fprintf(out, "add to the config:\n%s", pluginhost.Snippet(in))
				return nil
			}
			if err := pluginhost.AddToConfig(a.configFile, in); err != nil {
				if !errors.Is(err, pluginhost.ErrUnsafeEdit) {
					return err
				}
				fmt.Fprintf(out, "left %s unchanged (%v); add to it:\n%s", a.configFile, err, pluginhost.Snippet(in))
				return nil
			}
			fmt.Fprintf(out, "declared it in %s; check with: connector plugins verify %s\n", a.configFile, in.Name)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "name in the config (default: the adapter's own name)")
	cmd.Flags().StringVar(&dir, "dir", "", "plugin folder (default: plugins/ beside the config file)")
	cmd.Flags().BoolVar(&printOnly, "print", false, "print the config entry instead of editing the config file")
	return cmd
}
