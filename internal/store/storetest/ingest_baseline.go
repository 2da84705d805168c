package storetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// baselineTables are the baseline's tables: a row per contact (its
// columns and the contact as JSON, as a CRM record has fields no column
// holds), per order and per line item.
var baselineTables = []string{
	`CREATE TABLE bench_contacts (ref_key TEXT PRIMARY KEY, platform TEXT NOT NULL, account TEXT NOT NULL, ext_id TEXT NOT NULL,
		email TEXT NOT NULL, updated_at BIGINT NOT NULL, data TEXT NOT NULL)`,
	`CREATE TABLE bench_orders (ref_key TEXT PRIMARY KEY, platform TEXT NOT NULL, account TEXT NOT NULL, ext_id TEXT NOT NULL,
		customer_key TEXT NOT NULL, billing_email TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
		status TEXT NOT NULL, raw_status TEXT NOT NULL, currency TEXT NOT NULL, total BIGINT NOT NULL, refunded BIGINT NOT NULL,
		channel TEXT NOT NULL, device TEXT NOT NULL)`,
	`CREATE TABLE bench_items (order_key TEXT NOT NULL, line_no INTEGER NOT NULL, sku TEXT NOT NULL, name TEXT NOT NULL,
		category TEXT NOT NULL, quantity BIGINT NOT NULL, unit_price BIGINT NOT NULL, currency TEXT NOT NULL, PRIMARY KEY (order_key, line_no))`,
}

func setupBaseline(ctx context.Context, tb testing.TB, db *sql.DB) {
	for _, t := range []string{"bench_contacts", "bench_orders", "bench_items"} {
		if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS `+t); err != nil {
			tb.Fatal(err)
		}
	}
	for _, q := range baselineTables {
		if _, err := db.ExecContext(ctx, q); err != nil {
			tb.Fatal(err)
		}
	}
}

// baselineRows turns one page into the baseline's rows.
func baselineRows(tb testing.TB, p IngestPage) (contacts, orders, items [][]any) {
	for _, c := range p.Changes {
		if ct := c.Contact; ct != nil {
			data, err := json.Marshal(ct)
			if err != nil {
				tb.Fatal(err)
			}
			email := ""
			if len(ct.Emails) > 0 {
				email = domain.NormalizeEmail(ct.Emails[0])
			}
			contacts = append(contacts, []any{ct.Ref.Key(), ct.Ref.Platform, ct.Ref.Account, ct.Ref.ID, email, ct.UpdatedAt.UnixMicro(), string(data)})
		}
		if o := c.Order; o != nil {
			k := o.Ref.Key()
			ck := ""
			if !o.CustomerRef.IsZero() {
				ck = o.CustomerRef.Key()
			}
			orders = append(orders, []any{k, o.Ref.Platform, o.Ref.Account, o.Ref.ID, ck, domain.NormalizeEmail(o.BillingEmail),
				o.CreatedAt.UnixMicro(), o.UpdatedAt.UnixMicro(), string(o.Status), o.RawStatus, o.Currency, o.Total.Amount, o.Refunded.Amount,
				o.Channel, o.Device})
			for i, it := range o.Items {
				items = append(items, []any{k, i, it.SKU, it.Name, it.Category, it.Quantity, it.UnitPrice.Amount, it.UnitPrice.Currency})
			}
		}
	}
	return contacts, orders, items
}

// PreparedInsertBaseline writes each page in one transaction with one
// prepared INSERT per table, executed row by row (SQLite's fastest way
// in). rebind adapts '?' placeholders to the driver.
func PreparedInsertBaseline(rebind func(string) string) Baseline {
	return Baseline{
		Name:  "insert",
		Setup: func(ctx context.Context, tb testing.TB, db store.Database) { setupBaseline(ctx, tb, db.SQL) },
		Fill: func(ctx context.Context, tb testing.TB, db store.Database, pages []IngestPage) {
			qs := []string{
				rebind(`INSERT INTO bench_contacts VALUES (?,?,?,?,?,?,?)`),
				rebind(`INSERT INTO bench_orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`),
				rebind(`INSERT INTO bench_items VALUES (?,?,?,?,?,?,?,?)`),
			}
			for _, p := range pages {
				tx, err := db.SQL.BeginTx(ctx, nil)
				if err != nil {
					tb.Fatal(err)
				}
				contacts, orders, items := baselineRows(tb, p)
				for i, rows := range [][][]any{contacts, orders, items} {
					if len(rows) == 0 {
						continue
					}
					st, err := tx.PrepareContext(ctx, qs[i])
					if err != nil {
						tb.Fatal(err)
					}
					for _, r := range rows {
						if _, err := st.ExecContext(ctx, r...); err != nil {
							tb.Fatal(err)
						}
					}
					if err := st.Close(); err != nil {
						tb.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					tb.Fatal(err)
				}
			}
		},
	}
}

// CopyBaseline writes each page in one transaction with one COPY per
// table (pgx CopyFrom; PostgreSQL's fastest way in).
func CopyBaseline() Baseline {
	return Baseline{
		Name:  "copy",
		Setup: func(ctx context.Context, tb testing.TB, db store.Database) { setupBaseline(ctx, tb, db.SQL) },
		Fill: func(ctx context.Context, tb testing.TB, db store.Database, pages []IngestPage) {
			cols := [][]string{
				{"ref_key", "platform", "account", "ext_id", "email", "updated_at", "data"},
				{"ref_key", "platform", "account", "ext_id", "customer_key", "billing_email", "created_at", "updated_at",
					"status", "raw_status", "currency", "total", "refunded", "channel", "device"},
				{"order_key", "line_no", "sku", "name", "category", "quantity", "unit_price", "currency"},
			}
			tables := []string{"bench_contacts", "bench_orders", "bench_items"}
			for _, p := range pages {
				tx, err := db.Pool.Begin(ctx)
				if err != nil {
					tb.Fatal(err)
				}
				contacts, orders, items := baselineRows(tb, p)
				for i, rows := range [][][]any{contacts, orders, items} {
					if len(rows) == 0 {
						continue
					}
					if _, err := tx.CopyFrom(ctx, pgx.Identifier{tables[i]}, cols[i], pgx.CopyFromRows(rows)); err != nil {
						tb.Fatal(err)
					}
				}
				if err := tx.Commit(ctx); err != nil {
					tb.Fatal(err)
				}
			}
		},
	}
}
