package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/segconn/connector/internal/daemon"
)

// openEnv validates the configuration and opens store, adapters and engine.
func (a *app) openEnv(ctx context.Context) (*daemon.Env, error) {
	l, err := a.validConfig(ctx)
	if err != nil {
		return nil, err
	}
	return daemon.Open(ctx, l, a.logger(l), a.factories())
}

// factories adapts the built-in constructors to daemon.Factory.
func (a *app) factories() map[string]daemon.Factory {
	out := map[string]daemon.Factory{}
	for name, f := range builtinAdapters() {
		out[name] = daemon.Factory(f)
	}
	return out
}

// printJSON writes v as indented JSON.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes rows aligned in columns.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for i, h := range header {
		if i > 0 {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprint(tw, h)
	}
	fmt.Fprintln(tw)
	for _, r := range rows {
		for i, c := range r {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
