package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// OpenQueue opens the queue for a CLI command and returns a function that
// releases it; the caller (cmd/connector) opens the configured store.
type OpenQueue func(ctx context.Context) (Queue, func(), error)

// NewCommand returns `webhooks` with `list` (pending and dead-lettered
// outbound deliveries, or per-endpoint counts with --summary) and `retry`
// (re-queue dead letters). It honours a persistent -o/--output flag
// (table or json) defined by the root command.
func NewCommand(open OpenQueue) *cobra.Command {
	root := &cobra.Command{
		Use:   "webhooks",
		Short: "Inspect and retry outbound segment webhooks",
	}
	var (
		status, endpoint string
		limit            int
		summary          bool
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List pending and dead-lettered outbound webhook deliveries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, release, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer release()
			asJSON := jsonOutput(cmd)
			if summary {
				cs, err := q.Counts(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(cmd, cs)
				}
				return WriteCounts(cmd.OutOrStdout(), cs)
			}
			var ds []Delivery
			switch status {
			case "pending", "dead", "delivered":
				ds, err = q.List(cmd.Context(), ListFilter{Status: Status(status), Endpoint: endpoint, Limit: limit})
			case "open":
				// Pending first, then the dead letters.
				ds, err = q.List(cmd.Context(), ListFilter{Status: StatusPending, Endpoint: endpoint, Limit: limit})
				if err == nil {
					var dead []Delivery
					dead, err = q.List(cmd.Context(), ListFilter{Status: StatusDead, Endpoint: endpoint, Limit: limit})
					ds = append(ds, dead...)
				}
			default:
				return fmt.Errorf("--status must be open, pending, dead or delivered, got %q", status)
			}
			if err != nil {
				return err
			}
			if asJSON {
				if ds == nil {
					ds = []Delivery{}
				}
				return writeJSON(cmd, ds)
			}
			return WriteTable(cmd.OutOrStdout(), ds)
		},
	}
	lf := list.Flags()
	lf.StringVar(&status, "status", "open", "which deliveries: open (pending and dead), pending, dead or delivered")
	lf.StringVar(&endpoint, "endpoint", "", "only deliveries to this URL")
	lf.IntVar(&limit, "limit", 100, "at most this many deliveries per status (0: all)")
	lf.BoolVar(&summary, "summary", false, "print counts per endpoint and status instead")

	retry := &cobra.Command{
		Use:   "retry [DELIVERY-ID...]",
		Short: "Re-queue dead-lettered deliveries (all of them without ids)",
		RunE: func(cmd *cobra.Command, args []string) error {
			ids := make([]int64, 0, len(args))
			for _, a := range args {
				id, err := strconv.ParseInt(a, 10, 64)
				if err != nil {
					return fmt.Errorf("delivery id %q is not a number", a)
				}
				ids = append(ids, id)
			}
			q, release, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer release()
			n, err := q.Requeue(cmd.Context(), ids, time.Now())
			if err != nil {
				return err
			}
			if jsonOutput(cmd) {
				return writeJSON(cmd, map[string]int{"requeued": n})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "re-queued %d dead-lettered deliveries\n", n)
			return nil
		},
	}
	root.AddCommand(list, retry)
	return root
}

func jsonOutput(cmd *cobra.Command) bool {
	f := cmd.Flag("output")
	return f != nil && f.Value.String() == "json"
}

func writeJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("printing outbound deliveries: %w", err)
	}
	return nil
}
