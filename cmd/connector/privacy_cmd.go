package main

import (
	"fmt"
	"os/user"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/store"
)

// privacyCommand is `connector privacy`: erasure on request and its status.
func (a *cli) privacyCommand() *cobra.Command {
	c := &cobra.Command{Use: "privacy", Short: "Erase a person everywhere (GDPR Art. 17, CCPA deletion) and follow the erasures"}
	var by string
	erase := &cobra.Command{
		Use:   "erase <email|profile-id>",
		Short: "Erase a person's data from the store and delete their records on every platform",
		Long: `Erase removes the person's personal data from every table of the store
(profile, platform records, order emails, webhook payloads, outbound
deliveries, quarantine), adds the hash of their email to the suppression
list so no later pull, webhook or import brings them back, records an audit
entry, and asks every platform holding one of their records to delete it.
A platform that does not answer is retried by the daemon until it
confirms; "privacy status" shows what is pending.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			if by == "" {
				u, err := user.Current()
				if err != nil || u.Username == "" {
					return usageError{fmt.Errorf("--by is required here (the user running the command is unknown): who asks for the erasure")}
				}
				by = "os-user:" + u.Username
			}
			env, err := a.openApp(cmd.Context(), app.Options{})
			if err != nil {
				return err
			}
			defer env.Close(cmd.Context())
			er, err := env.Erase(cmd.Context(), args[0], by)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(er)
			}
			return printErasures(a, []store.Erasure{er})
		},
	}
	erase.Flags().StringVar(&by, "by", "", "who asks for the erasure (an operator's name or ticket; kept in the audit; default the user running the command)")

	var all, retry bool
	status := &cobra.Command{
		Use:   "status",
		Short: "List erasures with platform deletions still pending (--all: every erasure)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			env, err := a.openApp(cmd.Context(), app.Options{})
			if err != nil {
				return err
			}
			defer env.Close(cmd.Context())
			if retry {
				if _, err := env.RetryErasures(cmd.Context(), time.Now()); err != nil {
					return err
				}
			}
			ers, err := env.Erasures(cmd.Context(), !all, 100)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(ers)
			}
			if len(ers) == 0 {
				fmt.Fprintln(a.stdout, "no erasure is pending")
				return nil
			}
			return printErasures(a, ers)
		},
	}
	status.Flags().BoolVar(&all, "all", false, "list every erasure, completed ones too")
	status.Flags().BoolVar(&retry, "retry", false, "retry the platform deletions that are due first")
	c.AddCommand(erase, status)
	return c
}

func printErasures(a *cli, ers []store.Erasure) error {
	rows := [][]string{}
	for _, er := range ers {
		done := "pending"
		if !er.CompletedAt.IsZero() {
			done = er.CompletedAt.Format(time.RFC3339)
		}
		for _, t := range er.Tasks {
			rows = append(rows, []string{strconv.FormatInt(er.ID, 10), er.RequestedAt.Format(time.RFC3339), er.RequestedBy, done,
				t.Ref.Platform, t.Ref.ID, string(t.Status), t.Answer})
		}
		if len(er.Tasks) == 0 {
			rows = append(rows, []string{strconv.FormatInt(er.ID, 10), er.RequestedAt.Format(time.RFC3339), er.RequestedBy, done, "-", "-", "-", ""})
		}
	}
	return table(a.stdout, []string{"ERASURE", "REQUESTED", "BY", "COMPLETED", "PLATFORM", "RECORD", "STATUS", "ANSWER"}, rows)
}
