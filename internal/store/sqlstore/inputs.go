package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/segconn/connector/internal/store"
)

// Saved segment inputs (migration 0016). A row counts only while no
// change of its profile is numbered after its mark: on SQLite the
// trigger that deletes a profile's row on every change already makes
// that so; on PostgreSQL a change committed while SaveInputs writes can
// miss the row the trigger would delete, and this condition leaves it
// out.

// changedAfterMark is the condition, on a segment_inputs row v, that its
// profile changed after the row's mark.
func (e *Engine) changedAfterMark() string {
	if e.d.Name == "postgres" {
		return `EXISTS (SELECT 1 FROM profile_changes c WHERE c.profile_id = v.profile_id AND c.xid >= v.mark)`
	}
	return `EXISTS (SELECT 1 FROM profile_changes c WHERE c.profile_id = v.profile_id AND c.seq > v.mark)`
}

// EachSavedInput implements store.Store: one ordered scan of profiles
// joined to their saved inputs. On SQLite every row is current (see
// above), so the change log is not looked up for each.
func (e *Engine) EachSavedInput(ctx context.Context, version uint64, fn func(id string, data []byte) error) error {
	current := ""
	if e.d.Name == "postgres" {
		current = ` AND NOT ` + e.changedAfterMark()
	}
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT p.id, v.data FROM profiles p
		LEFT JOIN segment_inputs v ON v.profile_id = p.id AND v.version = ?`+current+`
		ORDER BY p.id`), int64(version))
	if err != nil {
		return fmt.Errorf("reading saved segment inputs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return fmt.Errorf("reading saved segment inputs: %w", err)
		}
		if err := fn(id, data); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading saved segment inputs: %w", err)
	}
	return nil
}

// saveBatch is how many inputs one transaction of SaveInputs writes:
// SQLite's one writer is held for a batch, not for a million rows.
const saveBatch = 5000

// SaveInputs implements store.Store.
func (e *Engine) SaveInputs(ctx context.Context, version uint64, mark int64, inputs []store.SavedInput) error {
	for start := 0; start < len(inputs); start += saveBatch {
		batch := inputs[start:min(start+saveBatch, len(inputs))]
		var err error
		if e.d.Name == "postgres" {
			err = e.inTx(ctx, func(tx *sql.Tx) error { return e.saveInputsPG(ctx, tx, version, mark, batch) })
		} else {
			err = e.inTx(ctx, func(tx *sql.Tx) error { return e.saveInputsSQLite(ctx, tx, version, mark, batch) })
		}
		if err != nil {
			return fmt.Errorf("saving segment inputs: %w", err)
		}
	}
	return nil
}

const upsertInput = ` ON CONFLICT (profile_id) DO UPDATE SET version = excluded.version, mark = excluded.mark, data = excluded.data`

// saveInputsSQLite writes one batch with a prepared statement. SQLite
// has one writer, so a change either came before (and is seen by the
// condition) or comes after (and its trigger deletes the row).
func (e *Engine) saveInputsSQLite(ctx context.Context, tx *sql.Tx, version uint64, mark int64, batch []store.SavedInput) error {
	st, err := tx.PrepareContext(ctx, `INSERT INTO segment_inputs (profile_id, version, mark, data)
		SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM profile_changes WHERE profile_id = ?1 AND seq > ?3)`+upsertInput)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, in := range batch {
		if _, err := st.ExecContext(ctx, in.ProfileID, int64(version), mark, in.Data); err != nil {
			return fmt.Errorf("profile %s: %w", in.ProfileID, err)
		}
	}
	return nil
}

// saveInputsPG writes one batch in one statement. The profiles are
// locked for share first, so an erasure (which writes the profile row)
// either committed before, and its change is seen, or waits for this
// transaction, and its trigger then deletes what it wrote.
func (e *Engine) saveInputsPG(ctx context.Context, tx *sql.Tx, version uint64, mark int64, batch []store.SavedInput) error {
	ids := make([]string, len(batch))
	data := make([][]byte, len(batch))
	for i, in := range batch {
		ids[i], data[i] = in.ProfileID, in.Data
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM profiles WHERE id = ANY($1) ORDER BY id FOR SHARE`, ids); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO segment_inputs (profile_id, version, mark, data)
		SELECT i.id, $1, $2, i.data FROM unnest($3::text[], $4::bytea[]) AS i(id, data)
		WHERE NOT EXISTS (SELECT 1 FROM profile_changes c WHERE c.profile_id = i.id AND c.xid >= $2)`+upsertInput,
		int64(version), mark, ids, data)
	return err
}

// dropStaleInputs deletes the saved inputs whose profiles changed after
// them, before pruning forgets the changes that tell.
func (e *Engine) dropStaleInputs(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM segment_inputs AS v WHERE `+e.changedAfterMark()); err != nil {
		return fmt.Errorf("dropping stale segment inputs: %w", err)
	}
	return nil
}
