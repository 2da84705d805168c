package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/config"
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
			var ps config.Problems
			if a.output == "json" && (err == nil || errors.As(err, &ps)) {
				rep := validateReport{Valid: err == nil, Problems: []problemView{}}
				for _, p := range ps {
					rep.Problems = append(rep.Problems, problemView{Path: p.Path, Message: p.Message})
				}
				if l != nil {
					rep.Platforms, rep.Plugins, rep.Segments = enabledPlatforms(l), len(l.Plugins), len(l.Segments)
				}
				if perr := a.printJSON(rep); perr != nil {
					return perr
				}
			}
			if err != nil {
				return err
			}
			if a.output != "json" {
				fmt.Fprintf(a.stdout, "configuration is valid: %d platform(s), %d plugin(s), %d segment definition(s)\n",
					len(enabledPlatforms(l)), len(l.Plugins), len(l.Segments))
			}
			return nil
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration with secrets redacted",
		Long: `Show prints the effective configuration (file, environment, --set) with
secrets redacted. It prints it even when it is invalid, then lists the
problems and exits 3, so a mistake can be found in what was loaded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			l, _, err := a.loadConfigPartial()
			if err != nil {
				return err
			}
			red := config.Redact(l.Raw)
			if a.output == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(red); err != nil {
					return err
				}
			} else {
				enc := yaml.NewEncoder(a.stdout)
				enc.SetIndent(2)
				if err := enc.Encode(red); err != nil {
					return fmt.Errorf("encoding configuration: %w", err)
				}
				if err := enc.Close(); err != nil {
					return err
				}
			}
			_, err = a.validConfig(cmd.Context())
			return err
		},
	})
	return c
}

// validateReport is `config validate -o json`.
type validateReport struct {
	Valid     bool          `json:"valid"`
	Problems  []problemView `json:"problems"`
	Platforms []string      `json:"platforms,omitempty"`
	Plugins   int           `json:"plugins"`
	Segments  int           `json:"segment_definitions"`
}

type problemView struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// enabledPlatforms returns the names of the enabled sections under
// platforms (each an instance of its adapter), sorted.
func enabledPlatforms(l *config.Loaded) []string {
	var names []string
	for _, in := range l.Instances() {
		if strings.HasPrefix(in.Path, "platforms.") {
			names = append(names, in.Name)
		}
	}
	return names
}

// validConfig loads the configuration and makes every check the commands
// and the daemon would make (app.Validate): every command calls it before
// it does anything, so what `config validate` accepts, `run` accepts.
func (a *cli) validConfig(ctx context.Context) (*config.Loaded, error) {
	l, ps, err := a.loadConfigPartial()
	if err != nil {
		return nil, err
	}
	more, err := app.Validate(ctx, l, a.factories(), a.logger(l))
	if err != nil {
		return nil, err
	}
	ps = append(ps, more...)
	if len(ps) > 0 {
		seen := map[string]bool{}
		var out config.Problems
		for _, p := range ps {
			if !seen[p.Path] {
				seen[p.Path] = true
				out = append(out, p)
			}
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
		return nil, out
	}
	return l, nil
}
