package sqlstore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
)

// MigrateRiver applies River's migrations through driver, for a dialect's
// AfterMigrations; the caller holds the migration lock. It logs what it
// applied (River's migrator itself stays quiet: it would announce "no
// migrations to apply" on every command).
func MigrateRiver[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], schema string, log *slog.Logger) error {
	mig, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: schema, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("preparing the job queue's migrations: %w", err)
	}
	res, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("migrating the job queue's tables: %w", err)
	}
	if log != nil {
		for _, v := range res.Versions {
			log.InfoContext(ctx, "applied job queue migration", "version", v.Version, "name", v.Name, "took", v.Duration)
		}
	}
	return nil
}
