package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/scalebench"
)

func (a *cli) benchCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure the connector on generated data",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(a.benchScaleCommand())
	return c
}

func (a *cli) benchScaleCommand() *cobra.Command {
	o := scalebench.Options{}
	var dir string
	c := &cobra.Command{
		Use:   "scale",
		Short: "Time every phase of the pipeline at a number of customers",
		Long: `Scale generates a business of --customers people with the sandbox's seeded
generator, serves it from the fake platforms on loopback and times each
phase against a new store: fill (a full sync), load (reading every profile
and order), engine (the segment engine alone), recompute, plan_from_empty,
apply (recording the plan and writing it back), settle_plan (the plan
after the write-back), change (1% of customers place an order, pulled by
an incremental sync) and steady_plan.

Each phase shows wall time, CPU time (user + system), peak resident set
and CPU time as a multiple of the engine's alone in the same run. The
SQLite file goes in a temporary directory (--dir to keep it elsewhere);
--store postgres needs --dsn and a new --schema.

The fake platforms hold about 30 KB a customer, so beyond some 200,000
customers use --platforms memory: the generated records are handed to
the connector without HTTP and every write-back is taken at once. The
connectors' own work (HTTP, paging, mapping) is then left out; everything
from the store on is measured as before. --purchase-rate 4 gives about
ten orders a customer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			if o.Store == "" || o.Store == "sqlite" {
				if dir == "" {
					tmp, err := os.MkdirTemp("", "connector-bench-")
					if err != nil {
						return fmt.Errorf("making a directory for the store: %w", err)
					}
					defer os.RemoveAll(tmp)
					dir = tmp
				}
				o.Dir = dir
			}
			// Progress goes to standard error in every format, so a long run
			// shows how far it got; JSON on standard output stays clean.
			o.OnPhase = func(p scalebench.Phase) {
				fmt.Fprintf(a.stderr, "%s: %.1f s wall, %.2f CPU-s, peak %.0f MB %s\n", p.Phase, p.WallS, p.CPUS, p.PeakRSSMB, p.Detail)
			}
			rep, err := scalebench.Run(cmd.Context(), o)
			if err != nil {
				// An interrupted or failed run still prints the phases it finished.
				if rep != nil && len(rep.Phases) > 0 && a.output == "json" {
					if perr := a.printJSON(rep.Phases); perr != nil {
						return fmt.Errorf("%w (and printing the finished phases: %v)", err, perr)
					}
				}
				return err
			}
			if a.output == "json" {
				return a.printJSON(rep.Phases)
			}
			fmt.Fprintf(a.stdout, "%d customers, %d profiles, %s store", rep.Customers, rep.Profiles, rep.Store)
			if !rep.PeakPerPhase {
				fmt.Fprint(a.stdout, " (peak RSS is since start, not per phase)")
			}
			fmt.Fprintln(a.stdout)
			rows := make([][]string, 0, len(rep.Phases))
			for _, p := range rep.Phases {
				rows = append(rows, []string{p.Phase, f2(p.WallS), f2(p.CPUS), strconv.FormatFloat(p.PeakRSSMB, 'f', 0, 64),
					strconv.FormatFloat(p.Ratio(), 'f', 1, 64) + "x", p.Detail})
			}
			return table(a.stdout, []string{"PHASE", "WALL S", "CPU S", "PEAK RSS MB", "CPU / ENGINE", "DETAIL"}, rows)
		},
	}
	f := c.Flags()
	f.IntVar(&o.Customers, "customers", 10000, "people the generator makes")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the generated data")
	f.StringVar(&o.Store, "store", "sqlite", "store to measure: sqlite or postgres")
	f.StringVar(&dir, "dir", "", "directory for the SQLite file (default a temporary one, removed after)")
	f.StringVar(&o.DSN, "dsn", "", "PostgreSQL connection string (with --store postgres)")
	f.StringVar(&o.Schema, "schema", "", "PostgreSQL schema to fill, empty or new (with --store postgres)")
	f.StringVar(&o.ProfileDir, "cpuprofile-dir", "", "directory to write a CPU profile of each phase (<phase>.pprof) and the heap live as it ends (<phase>.heap) to")
	f.Float64Var(&o.ChangedShare, "changed", 0.01, "share of customers given a new order before the steady-state plan")
	f.StringVar(&o.Platforms, "platforms", "fakes", "what serves the business: fakes (the fake platforms on loopback) or memory (the generated records without HTTP; write-back taken at once)")
	f.Float64Var(&o.PurchaseRate, "purchase-rate", 1, "multiplies every customer's mean purchase rate (1: about 2.4 orders a customer)")
	return c
}

func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
