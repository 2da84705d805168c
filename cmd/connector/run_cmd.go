package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

func (a *cli) runCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the daemon: scheduled pulls, webhooks, resegmentation, write-back, metrics",
		Long: `Run starts the daemon: periodic incremental pulls and full reconciles per
platform, a webhook endpoint per platform at /webhooks/<platform>, /healthz,
/readyz and /metrics (Prometheus; behind server.metrics_token when set). The
web app and its API (/api/v1) listen apart on server.admin_listen (default
127.0.0.1:8081); add users with ` + "`connector users add`" + `. Every
scheduled step runs as a durable job.
SIGTERM or Ctrl-C stops taking new work and finishes or releases in-flight
work within server.shutdown_timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m := daemon.NewMetrics()
			tracker := health.New(health.Options{})
			observe := func(p string) adapter.HTTPObserver { return tracker.Observer(p, m.HTTPObserver(p)) }
			ap, err := a.openApp(cmd.Context(), app.Options{ObserveHTTP: observe})
			if err != nil {
				return err
			}
			defer ap.Close(cmd.Context())
			return daemon.New(ap, daemon.Options{Metrics: m, Health: tracker.Snapshot}).Run(cmd.Context())
		},
	}
}

func (a *cli) syncCommand() *cobra.Command {
	var full bool
	c := &cobra.Command{
		Use:   "sync [platform...]",
		Short: "Pull platforms into the store once (all configured platforms by default)",
		Long: `Sync pulls each platform from its stored cursor (or from the beginning
with --full, which also reconciles deletions) into the store, platforms in
parallel so a slow one does not hold up the others. It does not compute or
write segments: see "segments plan" and "segments apply".`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			prog := a.newProgress("pulling", "records")
			ap, err := a.openApp(cmd.Context(), app.Options{Hooks: prog.hooks()})
			if err != nil {
				prog.done()
				return err
			}
			defer ap.Close(cmd.Context())
			for _, name := range args {
				if !slices.Contains(ap.Platforms(), name) {
					prog.done()
					return usageError{fmt.Errorf("no platform %q is configured (configured: %s)", name, strings.Join(ap.Platforms(), ", "))}
				}
			}
			stats, syncErr := ap.SyncAll(cmd.Context(), args, full)
			prog.done()
			if errors.Is(syncErr, app.ErrNoPlatforms) {
				return syncErr
			}
			if a.output == "json" {
				if err := a.printJSON(stats); err != nil {
					return err
				}
			} else {
				for _, st := range stats {
					fmt.Fprintf(a.stdout, "%-12s %d %s read: %s; %d quarantined\n", st.Platform, st.Pages, plural("page", st.Pages), counts(st.Records), st.Quarantined)
				}
			}
			return syncErr
		},
	}
	c.Flags().BoolVar(&full, "full", false, "pull everything from the beginning (reconcile)")
	return c
}
