package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/logging"
)

// Exit codes, documented in `connector --help` and README.md.
const (
	exitOK      = 0 // success
	exitError   = 1 // the command failed
	exitUsage   = 2 // bad flags or arguments
	exitConfig  = 3 // the configuration is invalid
	exitRefused = 4 // a safety check refused the action (plan changed, checksum mismatch)
)

// usageError marks errors in how the command was called.
type usageError struct{ error }

// exitCodeError carries a specific exit code.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

// cli holds what every command shares: output streams, the environment and
// global flag values. It replaces package-level state.
type cli struct {
	stdout, stderr io.Writer
	environ        []string
	configFile     string
	sets           []string
	output         string
	logLevel       string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	a := &cli{stdout: stdout, stderr: stderr, environ: environ}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ps config.Problems
	var ue usageError
	var ce *exitCodeError
	switch {
	case errors.As(err, &ps):
		fmt.Fprintf(stderr, "invalid configuration (%d problems):\n", len(ps))
		for _, p := range ps {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
		return exitConfig
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "error: %v\n", err)
		return ce.code
	default:
		if strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") ||
			strings.Contains(err.Error(), "arg(s)") || strings.HasPrefix(err.Error(), "invalid argument") ||
			strings.HasPrefix(err.Error(), "required flag(s)") || strings.HasPrefix(err.Error(), "if any flags in the group") ||
			strings.HasPrefix(err.Error(), "--") { // a flag's value, as the commands other packages contribute report it
			fmt.Fprintf(stderr, "error: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitError
	}
}

func (a *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "connector",
		Short: "Segment your customers across HubSpot, Salesforce and WooCommerce",
		Long: `connector pulls contacts and orders from the platforms a business already
uses, merges them into one profile per real customer, computes segments
(RFM, value tiers, behaviour, lifecycle, predicted lifetime value, clusters
and rules) and writes the membership back to every platform.

Configuration comes from a YAML file (-c), then CONNECTOR_* environment
variables (CONNECTOR_PLATFORMS__HUBSPOT__TOKEN sets platforms.hubspot.token),
then --set path=value flags.

Exit codes:
  0  success
  1  the command failed
  2  bad flags or arguments
  3  the configuration is invalid
  4  a safety check refused the action`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVarP(&a.configFile, "config", "c", "", "configuration file (YAML)")
	pf.StringArrayVar(&a.sets, "set", nil, "override a configuration value: --set path=value (repeatable)")
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	pf.StringVar(&a.logLevel, "log-level", "", "log level: debug, info, warn or error (overrides log.level)")

	root.AddCommand(
		a.versionCommand(),
		a.configCommand(),
		a.storeCommand(),
		a.profilesCommand(),
		a.syncCommand(),
		a.segmentsCommand(),
		a.runCommand(),
		a.statusCommand(),
		a.quarantineCommand(),
		a.demoCommand(),
		a.reportCommand(),
		a.exportCommand(),
		a.writebackCommand(),
		a.usersCommand(),
		a.privacyCommand(),
	)
	for _, c := range a.extraCommands() {
		root.AddCommand(c)
	}
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return a.checkOutput() }
	strictGroups(root)
	return root
}

// strictGroups makes every command that only groups others refuse an
// unknown subcommand with a usage error (exit 2); cobra would print the
// help and exit 0. Without arguments it prints its help.
func strictGroups(c *cobra.Command) {
	for _, sub := range c.Commands() {
		strictGroups(sub)
	}
	if c.HasParent() && c.HasSubCommands() && !c.Runnable() {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if cmd.SuggestionsMinimumDistance <= 0 {
				cmd.SuggestionsMinimumDistance = 2
			}
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
			}
			return usageError{errors.New(msg)}
		}
	}
}

// loadConfig loads the configuration the global flags point at and makes
// the loader's own checks (not the adapters': see validConfig).
func (a *cli) loadConfig() (*config.Loaded, error) {
	l, ps, err := a.loadConfigPartial()
	if err != nil {
		return nil, err
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return l, nil
}

// loadConfigPartial is loadConfig that also returns what could be decoded
// when the configuration has problems, so validation can add its own.
func (a *cli) loadConfigPartial() (*config.Loaded, config.Problems, error) {
	set := map[string]string{}
	for _, s := range a.sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, nil, usageError{fmt.Errorf("--set %q: want path=value", s)}
		}
		set[k] = v
	}
	if a.logLevel != "" {
		set["log.level"] = a.logLevel
	}
	if a.configFile != "" {
		if _, err := os.Stat(a.configFile); err != nil {
			return nil, nil, usageError{fmt.Errorf("-c: %w", err)}
		}
	}
	l, err := config.Load(config.Source{File: a.configFile, Environ: a.environ, Set: set})
	var ps config.Problems
	if errors.As(err, &ps) && l != nil {
		return l, ps, nil
	}
	return l, nil, err
}

// logger builds the process logger for a loaded configuration; logs go to stderr.
func (a *cli) logger(l *config.Loaded) *slog.Logger {
	return logging.New(a.stderr, l.Log.Level, l.Log.Format, l.SecretValues)
}

// checkOutput validates -o.
func (a *cli) checkOutput() error {
	switch a.output {
	case "table", "json":
		return nil
	default:
		return usageError{fmt.Errorf("-o %q: want table or json", a.output)}
	}
}
