package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/segconn/connector/internal/store"
)

// RunStart implements store.Runs.
func (e *Engine) RunStart(ctx context.Context, r store.Run) (int64, error) {
	var id int64
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, e.q(`INSERT INTO runs (kind, platforms, by_user, started_at) VALUES (?, ?, ?, ?) RETURNING id`),
			r.Kind, r.Platforms, r.By, ts(r.StartedAt)).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("recording the start of a %s run: %w", r.Kind, err)
	}
	return id, nil
}

// RunFinish implements store.Runs.
func (e *Engine) RunFinish(ctx context.Context, id int64, at time.Time, counts map[string]int, errMsg string) error {
	if counts == nil {
		counts = map[string]int{}
	}
	b, err := json.Marshal(counts)
	if err != nil {
		return fmt.Errorf("encoding run counts: %w", err)
	}
	err = e.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, e.q(`UPDATE runs SET finished_at = ?, counts = ?, error = ? WHERE id = ?`), ts(at), string(b), errMsg, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording the end of run %d: %w", id, err)
	}
	return nil
}

// Runs implements store.Runs.
func (e *Engine) Runs(ctx context.Context, f store.RunFilter) ([]store.Run, error) {
	q := `SELECT id, kind, platforms, by_user, started_at, finished_at, counts, error FROM runs WHERE 1 = 1`
	var args []any
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.BeforeID > 0 {
		q += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, limit)
	rows, err := e.r.QueryContext(ctx, e.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	defer rows.Close()
	out := []store.Run{}
	for rows.Next() {
		var (
			r              store.Run
			started, ended int64
			counts         string
		)
		if err := rows.Scan(&r.ID, &r.Kind, &r.Platforms, &r.By, &started, &ended, &counts, &r.Error); err != nil {
			return nil, fmt.Errorf("reading a run: %w", err)
		}
		r.StartedAt, r.FinishedAt = fromTS(started), fromTS(ended)
		r.Counts = map[string]int{}
		if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
			return nil, fmt.Errorf("decoding the counts of run %d: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SessionPut implements store.WebState.
func (e *Engine) SessionPut(ctx context.Context, s store.WebSession) error {
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, e.q(`INSERT INTO web_sessions (session_key, name, role, csrf, expires_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (session_key) DO UPDATE SET name = excluded.name, role = excluded.role, csrf = excluded.csrf, expires_at = excluded.expires_at`),
			s.Key, s.Name, s.Role, s.CSRF, ts(s.Expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("storing a session: %w", err)
	}
	return nil
}

// Session implements store.WebState.
func (e *Engine) Session(ctx context.Context, key string, now time.Time) (store.WebSession, error) {
	s := store.WebSession{Key: key}
	var exp int64
	err := e.r.QueryRowContext(ctx, e.q(`SELECT name, role, csrf, expires_at FROM web_sessions WHERE session_key = ? AND expires_at > ?`), key, ts(now)).
		Scan(&s.Name, &s.Role, &s.CSRF, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("reading a session: %w", err)
	}
	s.Expires = fromTS(exp)
	return s, nil
}

// SessionDelete implements store.WebState.
func (e *Engine) SessionDelete(ctx context.Context, key string, now time.Time) error {
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, e.q(`DELETE FROM web_sessions WHERE session_key = ? OR expires_at <= ?`), key, ts(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting a session: %w", err)
	}
	return nil
}

// PlanPut implements store.WebState.
func (e *Engine) PlanPut(ctx context.Context, p store.SavedPlan) error {
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, e.q(`INSERT INTO web_plans (fingerprint, made_at, view) VALUES (?, ?, ?)
			ON CONFLICT (fingerprint) DO UPDATE SET made_at = excluded.made_at, view = excluded.view`),
			p.Fingerprint, ts(p.MadeAt), string(p.View))
		return err
	})
	if err != nil {
		return fmt.Errorf("storing plan %s: %w", p.Fingerprint, err)
	}
	return nil
}

// SavedPlan implements store.WebState.
func (e *Engine) SavedPlan(ctx context.Context, fingerprint string) (store.SavedPlan, error) {
	p := store.SavedPlan{Fingerprint: fingerprint}
	var made int64
	var view string
	err := e.r.QueryRowContext(ctx, e.q(`SELECT made_at, view FROM web_plans WHERE fingerprint = ?`), fingerprint).Scan(&made, &view)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("plan %s: %w", fingerprint, store.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("reading plan %s: %w", fingerprint, err)
	}
	p.MadeAt, p.View = fromTS(made), []byte(view)
	return p, nil
}

// SavedPlans implements store.WebState.
func (e *Engine) SavedPlans(ctx context.Context, limit int) ([]store.SavedPlan, error) {
	if limit <= 0 {
		limit = 20
	}
	rows, err := e.r.QueryContext(ctx, fmt.Sprintf(`SELECT fingerprint, made_at, view FROM web_plans ORDER BY made_at DESC, fingerprint LIMIT %d`, limit))
	if err != nil {
		return nil, fmt.Errorf("listing plans: %w", err)
	}
	defer rows.Close()
	var out []store.SavedPlan
	for rows.Next() {
		var p store.SavedPlan
		var made int64
		var view string
		if err := rows.Scan(&p.Fingerprint, &made, &view); err != nil {
			return nil, fmt.Errorf("reading a plan: %w", err)
		}
		p.MadeAt, p.View = fromTS(made), []byte(view)
		out = append(out, p)
	}
	return out, rows.Err()
}

// DefinitionPut implements store.WebState.
func (e *Engine) DefinitionPut(ctx context.Context, d store.StoredDefinition) error {
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, e.q(`INSERT INTO segment_definitions (name, definition, updated_at, updated_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at, updated_by = excluded.updated_by`),
			d.Name, string(d.Definition), ts(d.UpdatedAt), d.UpdatedBy)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing segment definition %s: %w", d.Name, err)
	}
	return nil
}

// DefinitionDelete implements store.WebState.
func (e *Engine) DefinitionDelete(ctx context.Context, name string) error {
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, e.q(`DELETE FROM segment_definitions WHERE name = ?`), name)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting segment definition %s: %w", name, err)
	}
	return nil
}

// Definitions implements store.WebState.
func (e *Engine) Definitions(ctx context.Context) ([]store.StoredDefinition, error) {
	rows, err := e.r.QueryContext(ctx, `SELECT name, definition, updated_at, updated_by FROM segment_definitions ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing stored segment definitions: %w", err)
	}
	defer rows.Close()
	var out []store.StoredDefinition
	for rows.Next() {
		var d store.StoredDefinition
		var def string
		var at int64
		if err := rows.Scan(&d.Name, &def, &at, &d.UpdatedBy); err != nil {
			return nil, fmt.Errorf("reading a stored segment definition: %w", err)
		}
		d.Definition, d.UpdatedAt = []byte(def), fromTS(at)
		out = append(out, d)
	}
	return out, rows.Err()
}
