package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/app"
)

// writebackCommand is `connector writeback`: the write-back items a
// platform refused, and requeueing them.
func (a *cli) writebackCommand() *cobra.Command {
	c := &cobra.Command{Use: "writeback", Short: "Inspect and requeue write-back items the platforms refused"}
	var platform string
	var limit int
	failed := &cobra.Command{
		Use:   "failed",
		Short: "List write-back items parked after a permanent failure",
		Long: "Failed lists the write-back items a platform refused for good (a validation error, a record that no longer exists), " +
			"newest first, with the platform, the record, the error and when it failed. Such items are not retried until " +
			"`connector writeback retry` requeues them.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			items, err := app.FailedWriteback(cmd.Context(), st, platform, limit)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(items)
			}
			if len(items) == 0 {
				_, err := fmt.Fprintln(a.stdout, "no failed write-back items")
				return err
			}
			rows := make([][]string, 0, len(items))
			for _, it := range items {
				rows = append(rows, []string{strconv.FormatInt(it.ID, 10), it.Platform, it.Record,
					it.FailedAt.UTC().Format(time.RFC3339), strconv.Itoa(it.Attempts), it.Error})
			}
			return table(a.stdout, []string{"ID", "PLATFORM", "RECORD", "FAILED AT", "ATTEMPTS", "ERROR"}, rows)
		},
	}
	failed.Flags().StringVar(&platform, "platform", "", "only this platform's items")
	failed.Flags().IntVar(&limit, "limit", 100, "list at most this many (0 for all)")

	var all bool
	retry := &cobra.Command{
		Use:   "retry [--all | ID...]",
		Short: "Requeue failed write-back items",
		Long: "Retry makes the named failed write-back items (or every one, with --all) due again. An item whose record " +
			"has a newer state queued is settled by that newer write instead of being sent over it.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			if all == (len(args) > 0) {
				return usageError{fmt.Errorf("give either item ids or --all")}
			}
			ids := make([]int64, 0, len(args))
			for _, s := range args {
				id, err := strconv.ParseInt(s, 10, 64)
				if err != nil || id <= 0 {
					return usageError{fmt.Errorf("item id %q is not a positive number", s)}
				}
				ids = append(ids, id)
			}
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := app.RetryWritebackIn(cmd.Context(), st, ids, all)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(rep)
			}
			_, err = fmt.Fprintf(a.stdout, "requeued %d write-back items; %d settled by a newer write of their record\n", rep.Requeued, rep.Superseded)
			return err
		},
	}
	retry.Flags().BoolVar(&all, "all", false, "requeue every failed item")
	c.AddCommand(failed, retry)
	return c
}
