package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/pluginhost"
)

func (a *cli) configCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Check and show the configuration",
	}
	c.AddCommand(&cobra.Command{
		Use:   "validate",
		Short: "Validate the configuration and report every problem with its path",
		Long: `Validate loads the configuration (file, environment, --set), checks it
against the schema of every enabled platform and plugin, and reports every
problem at once, each with its dotted path. It never contacts a platform.
Exit code 3 means the configuration is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := a.validConfig(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "configuration is valid: %d platform(s), %d plugin(s), %d segment definition(s)\n",
				len(enabledPlatforms(l)), len(l.Plugins), len(l.Segments))
			return nil
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration with secrets redacted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			l, err := a.loadConfig()
			if err != nil {
				return err
			}
			red := config.Redact(l.Raw)
			if a.output == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(red)
			}
			enc := yaml.NewEncoder(a.stdout)
			enc.SetIndent(2)
			if err := enc.Encode(red); err != nil {
				return fmt.Errorf("encoding configuration: %w", err)
			}
			return enc.Close()
		},
	})
	return c
}

// enabledPlatforms returns the names of platform sections not disabled
// with enabled: false, sorted.
func enabledPlatforms(l *config.Loaded) []string {
	var names []string
	for name, sec := range l.Platforms {
		if en, ok := sec["enabled"].(bool); ok && !en {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// validConfig loads the configuration and validates every platform
// section against its built-in adapter, and the segment definitions.
func (a *cli) validConfig(ctx context.Context) (*config.Loaded, error) {
	l, ps, err := a.loadConfigPartial()
	if err != nil {
		return nil, err
	}
	log := a.logger(l)
	for _, name := range enabledPlatforms(l) {
		prefix := "platforms." + name
		newAdapter, ok := a.builtin(name)
		if !ok {
			ps = append(ps, config.Problem{Path: prefix, Message: fmt.Sprintf("unknown platform %q (built in: %s)", name, a.builtinNames())})
			continue
		}
		ad := newAdapter(log)
		desc, err := ad.Describe(ctx)
		if err != nil {
			return nil, fmt.Errorf("describing %s: %w", name, err)
		}
		sec := app.WithoutEnabled(l.Platforms[name])
		schemaProblems := config.ValidatePlatform(prefix, sec, desc.ConfigSchema)
		ps = append(ps, schemaProblems...)
		diags, err := ad.ValidateConfig(ctx, sec)
		if err != nil {
			return nil, fmt.Errorf("validating %s configuration: %w", name, err)
		}
		seen := map[string]bool{}
		for _, p := range schemaProblems {
			seen[p.Path] = true
		}
		for _, d := range diags {
			if d.Severity != adapter.SeverityError {
				log.Warn("configuration warning", "path", d.Path, "summary", d.Summary)
				continue
			}
			path := d.Path
			if path == "" {
				path = prefix
			}
			if seen[path] {
				continue // the schema check already named this key
			}
			seen[path] = true
			msg := d.Summary
			if d.Detail != "" {
				msg += " (" + d.Detail + ")"
			}
			ps = append(ps, config.Problem{Path: path, Message: msg})
		}
	}
	ps = append(ps, a.validatePlugins(ctx, l)...)
	ps = append(ps, a.validateSegments(l)...)
	if len(ps) > 0 {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Path < ps[j].Path })
		return nil, ps
	}
	return l, nil
}

// validatePlugins starts each configured plugin (after its checksum is
// verified), checks its config section against the schema it describes and
// its own ValidateConfig, and stops it.
func (a *cli) validatePlugins(ctx context.Context, l *config.Loaded) config.Problems {
	var ps config.Problems
	for i, pc := range l.Plugins {
		prefix := fmt.Sprintf("plugins[%d]", i)
		if pc.Path == "" || pc.SHA256 == "" {
			continue // already reported
		}
		pl, err := pluginhost.Open(ctx, app.PluginSpec(pc), pluginhost.Options{Logger: a.logger(l)})
		if err != nil {
			ps = append(ps, config.Problem{Path: prefix, Message: err.Error()})
			continue
		}
		desc, err := pl.Describe(ctx)
		if err == nil {
			ps = append(ps, config.ValidatePlatform(prefix+".config", pc.Config, desc.ConfigSchema)...)
			var diags []adapter.Diagnostic
			diags, err = pl.ValidateConfig(ctx, pc.Config)
			for _, d := range diags {
				if d.Severity == adapter.SeverityError {
					ps = append(ps, config.Problem{Path: prefix + ".config." + strings.TrimPrefix(d.Path, prefix+".config."), Message: d.Summary})
				}
			}
		}
		if err != nil {
			ps = append(ps, config.Problem{Path: prefix, Message: "asking the plugin: " + err.Error()})
		}
		_ = pl.Close(ctx)
	}
	return ps
}
