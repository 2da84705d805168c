package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/analyze"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/outbound"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/mailchimp"
	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// extraCommands are the commands other packages contribute.
func (a *cli) extraCommands() []*cobra.Command {
	builtins := map[string]func() adapter.Adapter{}
	for name, f := range builtinAdapters() {
		builtins[name] = func() adapter.Adapter { return f(sdk.Logger()) } // hclog-shaped JSON the host re-levels
	}
	// The Mailchimp adapter plugin, built on the public SDK alone, so the
	// demo runs it as a plugin process without a separate binary.
	builtins[mailchimp.Name] = func() adapter.Adapter { return sdk.Adapt(mailchimp.New()) }
	return []*cobra.Command{
		analyze.NewCommand(),
		sandbox.NewCommand(a.sandboxSegments),
		outbound.NewCommand(a.openOutboundQueue),
		pluginhost.NewCommand(a.loadPlugins, a.pluginsInstallCommand()),
		pluginhost.NewServeCommand(builtins),
		a.benchCommand(),
	}
}

// sandboxSegments are the segments the sandbox prepares its Salesforce
// org for: the default set over the sandbox's platforms, which the config
// it writes uses, and those of the -c configuration when it exists.
func (a *cli) sandboxSegments(platforms []string) ([]segment.Definition, error) {
	l := &config.Loaded{Config: config.Defaults()}
	l.Platforms = map[string]adapter.Config{}
	for _, p := range platforms {
		l.Platforms[p] = adapter.Config{}
	}
	defs, err := app.SegmentDefinitions(l)
	if err != nil {
		return nil, err
	}
	if a.configFile == "" {
		return defs, nil
	}
	if _, err := os.Stat(a.configFile); err != nil {
		return defs, nil // the file --write-config is about to write
	}
	own, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	more, err := app.SegmentDefinitions(own)
	if err != nil {
		return nil, err
	}
	return append(defs, more...), nil
}

func (a *cli) openOutboundQueue(ctx context.Context) (outbound.Queue, func(), error) {
	st, _, err := a.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	q, err := app.OutboundQueue(ctx, st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return q, func() { st.Close() }, nil
}

// loadPlugins loads the configuration for the plugins commands. It makes
// the loader's checks but does not start the plugins to validate them:
// verifying them is what these commands do, with their own exit codes.
func (a *cli) loadPlugins(context.Context) ([]pluginhost.Spec, pluginhost.Options, error) {
	l, err := a.loadConfig()
	if err != nil {
		return nil, pluginhost.Options{}, err
	}
	specs := make([]pluginhost.Spec, 0, len(l.Plugins))
	for _, pc := range l.Plugins {
		specs = append(specs, app.PluginSpec(pc))
	}
	return specs, pluginhost.Options{Logger: a.logger(l)}, nil
}
