package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/app"
)

func (a *cli) storeCommand() *cobra.Command {
	c := &cobra.Command{Use: "store", Short: "Manage the database"}
	c.AddCommand(&cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema",
		Long:  "Migrate applies every pending schema migration to the configured store (SQLite file or PostgreSQL) and prints the schema version.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := a.validConfig(cmd.Context())
			if err != nil {
				return err
			}
			st, err := app.OpenStore(cmd.Context(), l.Store, a.logger(l))
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := st.Migrate(cmd.Context())
			if err != nil {
				return fmt.Errorf("migrating the store: %w", err)
			}
			if a.output == "json" {
				return a.printJSON(map[string]any{"driver": l.Store.Driver, "schema_version": v})
			}
			_, err = fmt.Fprintf(a.stdout, "%s store at schema version %d\n", l.Store.Driver, v)
			return err
		},
	})
	return c
}
