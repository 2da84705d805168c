package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/store"
)

// quarantinedView is a quarantined record as the commands print it.
type quarantinedView struct {
	ID       int64     `json:"id"`
	Platform string    `json:"platform"`
	Account  string    `json:"account,omitempty"`
	Object   string    `json:"object"`
	Record   string    `json:"record"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"quarantined_at"`
	Raw      string    `json:"raw,omitempty"`
}

func viewOf(q store.Quarantined, withRaw bool) quarantinedView {
	v := quarantinedView{ID: q.ID, Platform: q.Platform, Account: q.Account, Object: q.Object, Record: q.Ref.ID, Reason: q.Reason, At: q.At.UTC()}
	if withRaw {
		v.Raw = string(q.Raw)
	}
	return v
}

func (a *cli) quarantineCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "quarantine",
		Short: "See and replay records that could not be stored",
		Long: `A platform record that cannot be mapped (a malformed date, an unknown
currency, a missing id) is quarantined with the reason, and the rest of its
page is stored. These commands list them, show one with the platform's raw
record, and retry them once fixed at the source: retry fetches each record
afresh from its platform and stores it if it now maps.`,
	}
	var platform string
	list := &cobra.Command{
		Use:   "list",
		Short: "List quarantined records and their reasons, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			qs, err := st.Quarantined(cmd.Context(), platform, 100000)
			if err != nil {
				return err
			}
			views := make([]quarantinedView, 0, len(qs))
			for _, q := range qs {
				views = append(views, viewOf(q, false))
			}
			if a.output == "json" {
				return a.printJSON(views)
			}
			if len(views) == 0 {
				fmt.Fprintln(a.stdout, "No quarantined records.")
				return nil
			}
			rows := make([][]string, 0, len(views))
			for _, v := range views {
				rows = append(rows, []string{strconv.FormatInt(v.ID, 10), v.Platform, v.Object, v.Record, v.At.Format(time.DateTime), v.Reason})
			}
			return table(a.stdout, []string{"ID", "PLATFORM", "OBJECT", "RECORD", "QUARANTINED (UTC)", "REASON"}, rows)
		},
	}
	list.Flags().StringVar(&platform, "platform", "", "only this `PLATFORM`'s records")
	show := &cobra.Command{
		Use:   "show <id>",
		Short: "Show one quarantined record with the platform's raw record",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseIDs(args)
			if err != nil {
				return err
			}
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			q, err := app.FindQuarantined(cmd.Context(), st, id[0])
			if err != nil {
				return err
			}
			v := viewOf(q, true)
			if a.output == "json" {
				return a.printJSON(v)
			}
			fmt.Fprintf(a.stdout, "Quarantined record %d\n  platform:    %s\n  object:      %s\n  record id:   %s\n  quarantined: %s UTC\n  reason:      %s\n\nRaw record as the platform sent it:\n%s\n",
				v.ID, v.Platform, v.Object, v.Record, v.At.Format(time.DateTime), v.Reason, v.Raw)
			return nil
		},
	}
	var all bool
	retry := &cobra.Command{
		Use:   "retry <id>... | --all",
		Short: "Fetch quarantined records afresh and store those that now map",
		Long: `Retry fetches each given quarantined record (or, with --all, every one,
or every one of --platform) afresh from its platform and stores it if it
now maps; it then leaves the quarantine. A record that still cannot be
mapped stays, with its reason. Stored records count from the next segment
run (segments plan / apply). Exit code 1 when a record could not be
retried or is still rejected.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return usageError{fmt.Errorf("give quarantined record ids or --all")}
			}
			ids, err := parseIDs(args)
			if err != nil {
				return err
			}
			ap, err := a.openApp(cmd.Context(), app.Options{})
			if err != nil {
				return err
			}
			defer ap.Close(cmd.Context())
			if all {
				qs, err := ap.Quarantined(cmd.Context(), platform)
				if err != nil {
					return err
				}
				for _, q := range qs {
					ids = append(ids, q.ID)
				}
			}
			res, retryErr := ap.RetryQuarantined(cmd.Context(), ids)
			if res == nil && retryErr != nil {
				return retryErr
			}
			if a.output == "json" {
				if err := a.printJSON(res); err != nil {
					return err
				}
			} else {
				rows := make([][]string, 0, len(res))
				for _, r := range res {
					rows = append(rows, []string{strconv.FormatInt(r.ID, 10), r.Platform, r.Object, r.Record, r.Outcome, r.Error})
				}
				if err := table(a.stdout, []string{"ID", "PLATFORM", "OBJECT", "RECORD", "OUTCOME", "DETAIL"}, rows); err != nil {
					return err
				}
			}
			if retryErr != nil {
				return retryErr
			}
			left := 0
			for _, r := range res {
				if r.Outcome != app.RetryStored && r.Outcome != app.RetryDeleted {
					left++
				}
			}
			if left > 0 {
				return fmt.Errorf("%d of %d records are still quarantined", left, len(res))
			}
			return nil
		},
	}
	retry.Flags().BoolVar(&all, "all", false, "retry every quarantined record (of --platform, when given)")
	retry.Flags().StringVar(&platform, "platform", "", "with --all: only this `PLATFORM`'s records")
	c.AddCommand(list, show, retry)
	return c
}

// parseIDs reads quarantined record ids.
func parseIDs(args []string) ([]int64, error) {
	ids := make([]int64, 0, len(args))
	for _, s := range args {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return nil, usageError{fmt.Errorf("%q is not a quarantined record id (see quarantine list)", s)}
		}
		ids = append(ids, id)
	}
	return ids, nil
}
