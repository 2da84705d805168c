package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/plugins/wire"
)

// LoadFunc returns the configured plugins and host options; the CLI
// supplies it from the loaded config.
type LoadFunc func(ctx context.Context) ([]Spec, Options, error)

// NewCommand returns `plugins` with list, verify and describe, and the
// extra subcommands the CLI adds (install).
func NewCommand(load LoadFunc, extra ...*cobra.Command) *cobra.Command {
	root := &cobra.Command{Use: "plugins", Short: "List, verify and describe adapter plugins", SilenceUsage: true}
	root.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List configured plugins: version, protocol, capabilities and whether their checksums match",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				specs, _, err := load(cmd.Context())
				if err != nil {
					return err
				}
				return List(cmd.OutOrStdout(), specs)
			},
		},
		&cobra.Command{
			Use:   "verify [name...]",
			Short: "Check checksums, start each plugin, negotiate the protocol and describe it",
			RunE: func(cmd *cobra.Command, args []string) error {
				specs, opts, err := load(cmd.Context())
				if err != nil {
					return err
				}
				specs, err = pick(specs, args)
				if err != nil {
					return err
				}
				return VerifyAll(cmd.Context(), cmd.OutOrStdout(), specs, opts)
			},
		},
		&cobra.Command{
			Use:   "describe <name>",
			Short: "Start a plugin and print what it says about itself as JSON",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				specs, opts, err := load(cmd.Context())
				if err != nil {
					return err
				}
				specs, err = pick(specs, args)
				if err != nil {
					return err
				}
				return Describe(cmd.Context(), cmd.OutOrStdout(), specs[0], opts)
			},
		},
	)
	root.AddCommand(extra...)
	return root
}

func pick(specs []Spec, names []string) ([]Spec, error) {
	if len(names) == 0 {
		return specs, nil
	}
	var out []Spec
	for _, n := range names {
		found := false
		for _, s := range specs {
			if s.Name == n {
				out, found = append(out, s), true
			}
		}
		if !found {
			return nil, fmt.Errorf("no plugin named %q in the config", n)
		}
	}
	return out, nil
}

// List writes one line per plugin: name, version, protocol version,
// capabilities, path, pinned digest and whether the file matches it.
// Version, protocol and capabilities come from running a plugin whose
// file matches its pin with --describe (outside the handshake, with its
// restricted environment); a plugin that does not match is never run.
func List(w io.Writer, specs []Spec) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tPROTOCOL\tCAPABILITIES\tPATH\tSHA256\tSTATUS")
	for _, s := range specs {
		status, version, protocol, caps := "ok", "-", "-", "-"
		if _, err := Verify(s); err != nil {
			switch {
			case errors.Is(err, ErrChecksumMismatch):
				status = "checksum mismatch"
			case errors.Is(err, ErrNoChecksum):
				status = "no sha256 pinned"
			default:
				status = err.Error()
			}
		} else if d, err := describeBinary(s); err != nil {
			status = "does not describe itself: " + err.Error()
		} else {
			version = d.Adapter.Version
			protocol = protocolString(d)
			caps = capabilityString(d.Adapter.Capabilities)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, version, protocol, caps, s.Path, short(s.SHA256), status)
	}
	return tw.Flush()
}

// protocolString is the newest protocol version a description offers,
// as major.minor.
func protocolString(d wire.Description) string {
	if len(d.ProtocolVersions) == 0 {
		return "-"
	}
	return fmt.Sprintf("%d.%d", slices.Max(d.ProtocolVersions), d.ProtocolMinor)
}

// capabilityString says in one cell what an adapter reads and writes,
// e.g. "read contact,order; write list; webhooks".
func capabilityString(c adapter.Capabilities) string {
	parts := []string{"read " + strings.Join(c.Objects, ",")}
	if len(c.Targets) > 0 {
		ts := make([]string, len(c.Targets))
		for i, t := range c.Targets {
			ts[i] = string(t)
		}
		parts = append(parts, "write "+strings.Join(ts, ","))
	}
	if c.Webhooks {
		parts = append(parts, "webhooks")
	}
	return strings.Join(parts, "; ")
}

func short(sum string) string {
	if len(sum) > 16 {
		return sum[:16] + "…"
	}
	return sum
}

// VerifyAll starts each plugin, negotiates, describes it and stops it,
// writing one line per plugin. It fails if any plugin fails.
func VerifyAll(ctx context.Context, w io.Writer, specs []Spec, o Options) error {
	var errs []error
	for _, s := range specs {
		p, err := Open(ctx, s, o)
		if err != nil {
			fmt.Fprintf(w, "%s: FAILED: %v\n", s.Name, err)
			errs = append(errs, err)
			continue
		}
		d, err := p.Describe(ctx)
		version := p.NegotiatedVersion()
		_ = p.Close(ctx)
		if err != nil {
			fmt.Fprintf(w, "%s: FAILED: %v\n", s.Name, err)
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(w, "%s: ok: protocol %s, adapter %s %s, objects %v\n", s.Name, versionString(version), d.Name, d.Version, d.Capabilities.Objects)
	}
	if len(errs) > 0 {
		return fmt.Errorf("verifying plugins: %w", errors.Join(errs...))
	}
	return nil
}

// Describe starts one plugin and writes its descriptor as JSON.
func Describe(ctx context.Context, w io.Writer, s Spec, o Options) error {
	p, err := Open(ctx, s, o)
	if err != nil {
		return err
	}
	defer p.Close(ctx)
	d, err := p.Describe(ctx)
	if err != nil {
		return err
	}
	out := struct {
		Plugin   string `json:"plugin"`
		Path     string `json:"path"`
		Protocol int    `json:"protocol"`
		Adapter  any    `json:"adapter"`
	}{s.Name, s.Path, p.NegotiatedVersion(), d}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("writing description: %w", err)
	}
	return nil
}
