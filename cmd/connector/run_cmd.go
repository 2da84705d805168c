package main

import (
	"errors"
	"fmt"
	"sync"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/pipeline"
)

func (a *app) runCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the daemon: scheduled pulls, webhooks, resegmentation, write-back, metrics",
		Long: `Run starts the daemon: periodic incremental pulls and full reconciles per
platform, a webhook endpoint per platform at /webhooks/<platform>, /healthz,
/readyz and /metrics (Prometheus). Every scheduled step runs as a durable job.
SIGTERM or Ctrl-C stops taking new work and finishes or releases in-flight
work within server.shutdown_timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, err := a.openEnv(cmd.Context())
			if err != nil {
				return err
			}
			defer env.Close(cmd.Context())
			return daemon.New(env, daemon.Options{}).Run(cmd.Context())
		},
	}
}

func (a *app) syncCommand() *cobra.Command {
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
			env, err := a.openEnv(cmd.Context())
			if err != nil {
				return err
			}
			defer env.Close(cmd.Context())
			names := args
			if len(names) == 0 {
				names = env.Pipeline.Platforms()
			}
			if len(names) == 0 {
				return daemon.ErrNoPlatforms
			}
			stats := make([]pipeline.SyncStats, len(names))
			errs := make([]error, len(names))
			var wg sync.WaitGroup
			for i, n := range names {
				wg.Add(1)
				go func() {
					defer wg.Done()
					stats[i], errs[i] = env.Pipeline.Sync(cmd.Context(), n, full)
				}()
			}
			wg.Wait()
			if a.output == "json" {
				if err := a.printJSON(stats); err != nil {
					return err
				}
			} else {
				for _, st := range stats {
					fmt.Fprintf(a.stdout, "%-12s %d pages, records %v, %d quarantined\n", st.Platform, st.Pages, st.Records, st.Quarantined)
				}
			}
			return errors.Join(errs...)
		},
	}
	c.Flags().BoolVar(&full, "full", false, "pull everything from the beginning (reconcile)")
	return c
}
