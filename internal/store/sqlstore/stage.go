package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// stageMin is the fewest rows worth a staging table: below it the three
// statements of a staged write cost more than one multi-row INSERT.
const stageMin = 64

// bulkWrite writes rows to table like bulkInsert. When the dialect can
// COPY (Dialect.CopyFrom, PostgreSQL) and the unit holds its connection,
// it copies the rows into a temporary staging table of the same columns
// and merges them with one INSERT ... SELECT ... suffix, which spares the
// database parsing and planning thousands of bind parameters.
func (u *unit) bulkWrite(ctx context.Context, table string, cols []string, suffix string, rows [][]any) error {
	e := u.e
	if e.d.CopyFrom == nil || u.conn == nil || len(rows) < stageMin {
		return e.bulkInsert(ctx, u.tx, table, cols, suffix, rows)
	}
	if suffix == "" {
		// A plain insert needs no merge: COPY into the table itself.
		if err := e.d.CopyFrom(ctx, u.conn, table, cols, rows); err != nil {
			return fmt.Errorf("copying %d rows to %s: %w", len(rows), table, err)
		}
		return nil
	}
	stage := "stage_" + table
	list := strings.Join(cols, ", ")
	if u.staged[stage] {
		if _, err := u.tx.ExecContext(ctx, `DELETE FROM `+stage); err != nil {
			return fmt.Errorf("clearing %s: %w", stage, err)
		}
	} else {
		// A session's temporary table: created once per connection,
		// emptied by every commit.
		if _, err := u.tx.ExecContext(ctx, `CREATE TEMPORARY TABLE IF NOT EXISTS `+stage+` ON COMMIT DELETE ROWS AS SELECT `+list+` FROM `+table+` WITH NO DATA`); err != nil {
			return fmt.Errorf("creating %s: %w", stage, err)
		}
		if u.staged == nil {
			u.staged = map[string]bool{}
		}
		u.staged[stage] = true
	}
	if err := e.d.CopyFrom(ctx, u.conn, stage, cols, rows); err != nil {
		return fmt.Errorf("copying %d rows to %s: %w", len(rows), stage, err)
	}
	if _, err := u.tx.ExecContext(ctx, `INSERT INTO `+table+` (`+list+`) SELECT `+list+` FROM `+stage+` `+suffix); err != nil {
		return fmt.Errorf("merging %d rows into %s: %w", len(rows), table, err)
	}
	return nil
}

// bulkWriteSplit writes rows like bulkWrite with suffix, except that,
// when the dialect can COPY and serialises identity writers
// (Dialect.Serialize), the rows for which isNew reports true are copied
// straight into the table without a merge. isNew must report only rows
// whose key the unit looked up in this transaction and did not find:
// under the identity lock no other writer can have stored them since.
func (u *unit) bulkWriteSplit(ctx context.Context, table string, cols []string, suffix string, rows [][]any, isNew func(row []any) bool) error {
	e := u.e
	if e.d.CopyFrom == nil || e.d.Serialize == nil || u.conn == nil || len(rows) < stageMin {
		return u.bulkWrite(ctx, table, cols, suffix, rows)
	}
	var fresh, stored [][]any
	for _, r := range rows {
		if isNew(r) {
			fresh = append(fresh, r)
		} else {
			stored = append(stored, r)
		}
	}
	if len(fresh) < stageMin {
		return u.bulkWrite(ctx, table, cols, suffix, rows)
	}
	if err := u.bulkWrite(ctx, table, cols, "", fresh); err != nil {
		return err
	}
	return u.bulkWrite(ctx, table, cols, suffix, stored)
}

// inConnTx is inTx on a connection of its own, which fn gets too (for
// Dialect.CopyFrom) when the dialect can COPY.
func (e *Engine) inConnTx(ctx context.Context, fn func(tx *sql.Tx, conn *sql.Conn) error) error {
	if e.d.CopyFrom == nil {
		return e.inTx(ctx, func(tx *sql.Tx) error { return fn(tx, nil) })
	}
	conn, err := e.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("taking a connection: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(tx, conn); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}
