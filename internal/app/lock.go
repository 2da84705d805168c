package app

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/segconn/connector/internal/store/postgres"
)

// LockSegments serialises recomputing segments and recording the result,
// within this process and, on PostgreSQL, across every replica and CLI
// sharing the database (a session advisory lock keyed by the schema).
// Without it two replicas could plan from different snapshots and the
// older plan could be applied after the newer one.
func (a *App) LockSegments(ctx context.Context) (unlock func(), err error) {
	local := a.Pipeline.Serialize()
	pg, ok := a.Store.(*postgres.Store)
	if !ok {
		return local, nil
	}
	conn, err := pg.PgxPool().Acquire(ctx)
	if err != nil {
		local()
		return nil, fmt.Errorf("acquiring a connection for the segment lock: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("segconn/segments/" + pg.Schema()))
	key := int64(h.Sum64())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		conn.Release()
		local()
		return nil, fmt.Errorf("taking the segment lock: %w", err)
	}
	return func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key); err != nil {
			// Closing the connection releases a session lock for sure.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
		conn.Release()
		local()
	}, nil
}
