package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/identity"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func (a *cli) profilesCommand() *cobra.Command {
	c := &cobra.Command{Use: "profiles", Short: "Inspect unified customer profiles"}
	var limit int
	var after string
	list := &cobra.Command{
		Use:   "list",
		Short: "List profiles, ordered by id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			ps, err := st.ListProfiles(cmd.Context(), after, limit)
			if err != nil {
				return fmt.Errorf("listing profiles: %w", err)
			}
			if a.output == "json" {
				return a.printJSON(ps)
			}
			rows := make([][]string, 0, len(ps))
			for _, p := range ps {
				rows = append(rows, []string{p.ID, p.PrimaryEmail(), strings.TrimSpace(p.FirstName + " " + p.LastName), platformsOf(p), strconv.Itoa(len(p.Refs))})
			}
			return table(a.stdout, []string{"ID", "EMAIL", "NAME", "PLATFORMS", "LINKS"}, rows)
		},
	}
	list.Flags().IntVar(&limit, "limit", 50, "profiles per page")
	list.Flags().StringVar(&after, "after", "", "list profiles after this id (paging)")
	show := &cobra.Command{
		Use:   "show <email|id>",
		Short: "Show one profile and explain its links, merges and field sources",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			p, err := app.FindProfile(cmd.Context(), st, args[0])
			if err != nil {
				return err
			}
			ex, err := st.Explain(cmd.Context(), p.ID)
			if err != nil {
				return fmt.Errorf("explaining profile %s: %w", p.ID, err)
			}
			if a.output == "json" {
				return a.printJSON(ex)
			}
			return printExplanation(a, ex)
		},
	}
	c.AddCommand(list, show)
	return c
}

func platformsOf(p domain.Profile) string {
	seen := map[string]bool{}
	var out []string
	for _, r := range p.Refs {
		if !seen[r.Platform] {
			seen[r.Platform] = true
			out = append(out, r.Platform)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func printExplanation(a *cli, ex store.Explanation) error {
	p := ex.Profile
	w := a.stdout
	fmt.Fprintf(w, "Profile %s\n", p.ID)
	fmt.Fprintf(w, "  emails:  %s\n", strings.Join(p.Emails, ", "))
	if name := strings.TrimSpace(p.FirstName + " " + p.LastName); name != "" {
		fmt.Fprintf(w, "  name:    %s\n", name)
	}
	if p.Address.Country != "" {
		fmt.Fprintf(w, "  country: %s\n", p.Address.Country)
	}
	if p.Company != nil && p.Company.Name != "" {
		fmt.Fprintf(w, "  company: %s (%s, %d employees)\n", p.Company.Name, p.Company.Industry, p.Company.Employees)
	}
	fmt.Fprintf(w, "\nLinks (%d):\n", len(ex.Links))
	for _, l := range ex.Links {
		extra := ""
		if l.MergedInto != "" {
			extra = " → merged into " + l.MergedInto
		}
		if l.Placeholder {
			extra += " (known from an order only)"
		}
		fmt.Fprintf(w, "  %-10s %-8s %s/%s  linked %s%s\n", l.Ref.Platform, l.State, l.Ref.ObjectType, l.Ref.ID, l.LinkedAt.Format("2006-01-02 15:04"), extra)
	}
	if len(ex.Merges) > 0 {
		fmt.Fprintf(w, "\nMerges (%d):\n", len(ex.Merges))
		for _, m := range ex.Merges {
			fmt.Fprintf(w, "  %s  %s merged into %s by %s (%s)\n", m.At.Format("2006-01-02 15:04"), m.From, m.Into, m.Reason, m.Evidence)
		}
	}
	if fields := identity.Describe(&p); len(fields) > 0 {
		fmt.Fprintf(w, "\nFields (value, then the record it came from):\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, f := range fields {
			src := f.Source
			if src == "" {
				src = "-"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Field, f.Value, src)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("printing fields: %w", err)
		}
	}
	if len(ex.Events) > 0 {
		fmt.Fprintf(w, "\nHistory:\n")
		for _, e := range ex.Events {
			fmt.Fprintf(w, "  %s  %-9s %s %s\n", e.At.Format("2006-01-02 15:04"), e.Kind, e.RefKey, e.Detail)
		}
	}
	return nil
}
