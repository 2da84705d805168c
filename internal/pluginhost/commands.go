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

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/wire"
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
				if jsonOutput(cmd) {
					return writeJSON(cmd.OutOrStdout(), ListEntries(specs))
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
				if jsonOutput(cmd) {
					res := VerifyResults(cmd.Context(), specs, opts)
					if err := writeJSON(cmd.OutOrStdout(), res); err != nil {
						return err
					}
					return verifyErr(res)
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

// ListEntry is one configured plugin as list reports it.
type ListEntry struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Protocol     string `json:"protocol"`
	Capabilities string `json:"capabilities"`
	Path         string `json:"path"`
	SHA256       string `json:"sha256"`
	Status       string `json:"status"` // ok, checksum mismatch, no sha256 pinned, or the error
}

// ListEntries checks each plugin's file against its pinned digest and
// asks a plugin whose file matches for its version, protocol and
// capabilities by running it with --describe (outside the handshake,
// with its restricted environment); a plugin that does not match is never
// run.
func ListEntries(specs []Spec) []ListEntry {
	out := make([]ListEntry, 0, len(specs))
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
		out = append(out, ListEntry{Name: s.Name, Version: version, Protocol: protocol, Capabilities: caps, Path: s.Path, SHA256: s.SHA256, Status: status})
	}
	return out
}

// List writes one line per plugin: name, version, protocol version,
// capabilities, path, pinned digest and whether the file matches it.
func List(w io.Writer, specs []Spec) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tPROTOCOL\tCAPABILITIES\tPATH\tSHA256\tSTATUS")
	for _, e := range ListEntries(specs) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.Version, e.Protocol, e.Capabilities, e.Path, short(e.SHA256), e.Status)
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

// VerifyResult is one plugin's verification.
type VerifyResult struct {
	Name     string   `json:"name"`
	OK       bool     `json:"ok"`
	Protocol string   `json:"protocol,omitempty"`
	Adapter  string   `json:"adapter,omitempty"`
	Version  string   `json:"version,omitempty"`
	Objects  []string `json:"objects,omitempty"`
	Error    string   `json:"error,omitempty"`
	err      error
}

// VerifyResults starts each plugin, negotiates, describes it and stops
// it.
func VerifyResults(ctx context.Context, specs []Spec, o Options) []VerifyResult {
	out := make([]VerifyResult, 0, len(specs))
	for _, s := range specs {
		r := VerifyResult{Name: s.Name}
		p, err := Open(ctx, s, o)
		if err == nil {
			var d adapter.Descriptor
			d, err = p.Describe(ctx)
			r.Protocol = versionString(p.NegotiatedVersion())
			_ = p.Close(ctx)
			if err == nil {
				r.OK, r.Adapter, r.Version, r.Objects = true, d.Name, d.Version, d.Capabilities.Objects
			}
		}
		if err != nil {
			r.Error, r.err = err.Error(), err
		}
		out = append(out, r)
	}
	return out
}

func verifyErr(res []VerifyResult) error {
	var errs []error
	for _, r := range res {
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("verifying plugins: %w", errors.Join(errs...))
	}
	return nil
}

// VerifyAll starts each plugin, negotiates, describes it and stops it,
// writing one line per plugin. It fails if any plugin fails.
func VerifyAll(ctx context.Context, w io.Writer, specs []Spec, o Options) error {
	res := VerifyResults(ctx, specs, o)
	for _, r := range res {
		if !r.OK {
			fmt.Fprintf(w, "%s: FAILED: %s\n", r.Name, r.Error)
			continue
		}
		fmt.Fprintf(w, "%s: ok: protocol %s, adapter %s %s, objects %s\n", r.Name, r.Protocol, r.Adapter, r.Version, strings.Join(r.Objects, ", "))
	}
	return verifyErr(res)
}

func jsonOutput(cmd *cobra.Command) bool {
	f := cmd.Flag("output")
	return f != nil && f.Value.String() == "json"
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
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
