package app

import (
	"context"
)

// LockSegments serialises recomputing segments and recording the result,
// within this process and, on PostgreSQL, across every replica and CLI
// sharing the database (the store's "segments" lock). Without it two
// replicas could plan from different snapshots and the older plan could be
// applied after the newer one.
func (a *App) LockSegments(ctx context.Context) (unlock func(), err error) {
	local := a.Pipeline.Serialize()
	release, err := a.Store.Lock(ctx, "segments")
	if err != nil {
		local()
		return nil, err
	}
	return func() {
		release()
		local()
	}, nil
}
