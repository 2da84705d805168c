package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync"
)

// maxCachedStmts bounds the statement cache; the statements ApplyPage
// runs number a few dozen (bulkInsert's chunk sizes are powers of two).
const maxCachedStmts = 256

// stmtCache holds statements prepared on the writer database, by their
// text. SQLite parses a statement afresh on every Exec that is not
// prepared, and parsing a 500-row INSERT costs about as much as running
// it; PostgreSQL's driver caches prepared statements itself, so only
// dialects with Dialect.PrepareOnce use this. A statement cannot be
// prepared on the database while a transaction holds SQLite's one writer
// connection, so one that is not yet cached runs unprepared and is noted
// in wanted; inTx prepares the wanted ones after its commit.
type stmtCache struct {
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	wanted map[string]bool
}

// stmt returns q prepared for tx, or nil when it is not (yet) prepared
// (then the caller runs q directly).
func (e *Engine) stmt(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	if !e.d.PrepareOnce {
		return nil
	}
	c := &e.stmts
	c.mu.Lock()
	st, ok := c.m[q]
	if !ok && len(c.m)+len(c.wanted) < maxCachedStmts {
		if c.wanted == nil {
			c.wanted = map[string]bool{}
		}
		c.wanted[q] = true
	}
	c.mu.Unlock()
	if st == nil {
		return nil
	}
	return tx.StmtContext(ctx, st)
}

// prepareWanted prepares the statements stmt noted; it runs outside any
// transaction. A failure leaves them unprepared, which costs only time.
func (e *Engine) prepareWanted(ctx context.Context) {
	// Not under c.mu while preparing: preparing waits for the writer
	// connection, which a transaction calling stmt may hold.
	c := &e.stmts
	c.mu.Lock()
	qs := slices.Collect(maps.Keys(c.wanted))
	clear(c.wanted)
	c.mu.Unlock()
	for _, q := range qs {
		st, err := e.w.PrepareContext(ctx, q)
		if err != nil {
			e.log.DebugContext(ctx, "preparing a statement", "err", err)
			continue
		}
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]*sql.Stmt{}
		}
		if old := c.m[q]; old != nil {
			_ = old.Close()
		}
		c.m[q] = st
		c.mu.Unlock()
	}
}

// exec runs q in tx, prepared once when the dialect wants it.
func (e *Engine) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) error {
	var err error
	if st := e.stmt(ctx, tx, q); st != nil {
		_, err = st.ExecContext(ctx, args...)
	} else {
		_, err = tx.ExecContext(ctx, q, args...)
	}
	return err
}

// query is exec for statements that return rows.
func (e *Engine) query(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	if st := e.stmt(ctx, tx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, q, args...)
}

// closeStmts closes the cached statements (Close).
func (e *Engine) closeStmts() error {
	c := &e.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for q, st := range c.m {
		err = errors.Join(err, st.Close())
		delete(c.m, q)
	}
	return err
}

// keysIn returns the tail of a condition that a column is one of keys
// ("col " + tail), with its single argument, so a page's lookups are one
// statement of fixed text however many keys they carry: on SQLite
// IN (SELECT value FROM json_each(?)) with the keys as a JSON array, on
// PostgreSQL = ANY(?) with a text array.
func (e *Engine) keysIn(keys []string) (string, any) {
	if e.d.Name == "postgres" {
		return "= ANY(?)", keys
	}
	b, _ := json.Marshal(keys) // strings: cannot fail
	return "IN (SELECT value FROM json_each(?))", string(b)
}
