package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/store"
)

// openApp validates the configuration and opens store, adapters and
// engine.
func (a *cli) openApp(ctx context.Context, opts app.Options) (*app.App, error) {
	l, err := a.validConfig(ctx)
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, l, a.logger(l), a.factories(), opts)
}

// openStore validates the configuration and opens only its store, for
// commands that read what is stored and need no platform.
func (a *cli) openStore(ctx context.Context) (store.Store, *config.Loaded, error) {
	l, err := a.validConfig(ctx)
	if err != nil {
		return nil, nil, err
	}
	st, err := app.OpenStore(ctx, l.Store, a.logger(l))
	if err != nil {
		return nil, nil, err
	}
	return st, l, nil
}

// factories adapts the built-in constructors to app.Factory.
func (a *cli) factories() map[string]app.Factory {
	out := map[string]app.Factory{}
	for name, f := range builtinAdapters() {
		out[name] = app.Factory(f)
	}
	return out
}

// printJSON writes v as indented JSON.
func (a *cli) printJSON(v any) error {
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
