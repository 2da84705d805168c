package outbound

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteTable prints deliveries for `connector webhooks list`: one line
// each, endpoint URLs without query strings, errors cut to one line.
func WriteTable(w io.Writer, ds []Delivery) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tEVENT\tSEGMENT\tPROFILE\tENDPOINT\tATTEMPTS\tNEXT/DONE\tLAST ERROR")
	for _, d := range ds {
		when := d.NextAttemptAt
		if d.Status != StatusPending {
			when = d.DoneAt
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n",
			d.ID, d.Status, d.Event.Type, d.Event.Segment, d.Event.ProfileID, DisplayURL(d.Endpoint),
			d.Attempts, formatTime(when), oneLine(d.LastError, 80))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing outbound deliveries: %w", err)
	}
	return nil
}

// WriteCounts prints the per-endpoint summary of Queue.Counts.
func WriteCounts(w io.Writer, cs []Count) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDPOINT\tSTATUS\tDELIVERIES")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", DisplayURL(c.Endpoint), c.Status, c.N)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing outbound delivery counts: %w", err)
	}
	return nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func oneLine(s string, n int) string {
	r := []rune(s)
	for i, c := range r {
		if c == '\n' || c == '\r' || c == '\t' {
			r[i] = ' '
		}
	}
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return string(r)
}
