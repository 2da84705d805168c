package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Cursor implements store.Store.
func (e *Engine) Cursor(ctx context.Context, platform, account, object string) (string, error) {
	var c string
	err := e.r.QueryRowContext(ctx, e.q(`SELECT cursor FROM cursors WHERE platform = ? AND account = ? AND object = ?`), platform, account, object).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading cursor of %s/%s/%s: %w", platform, account, object, err)
	}
	return c, nil
}

// SetCursor implements store.Store.
func (e *Engine) SetCursor(ctx context.Context, platform, account, object, cursor string) error {
	cols := []string{"platform", "account", "object", "cursor", "updated_at"}
	if _, err := e.w.ExecContext(ctx, e.q(`INSERT INTO cursors (platform, account, object, cursor, updated_at) VALUES (?, ?, ?, ?, ?) `+upsertSuffix(cols, "platform", "account", "object")),
		platform, account, object, cursor, ts(e.now())); err != nil {
		return fmt.Errorf("setting cursor of %s/%s/%s: %w", platform, account, object, err)
	}
	return nil
}
