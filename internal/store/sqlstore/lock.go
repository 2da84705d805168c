package sqlstore

import (
	"context"
	"fmt"
	"sync"
)

// locks are the named in-process locks of a store whose database has no
// lock of its own to offer (SQLite). Waiting honours the context.
type locks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

func (l *locks) lock(ctx context.Context, name string) (func(), error) {
	for {
		l.mu.Lock()
		if l.held == nil {
			l.held = map[string]chan struct{}{}
		}
		ch, busy := l.held[name]
		if !busy {
			ch = make(chan struct{})
			l.held[name] = ch
			l.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					l.mu.Lock()
					delete(l.held, name)
					l.mu.Unlock()
					close(ch)
				})
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the %s lock: %w", name, ctx.Err())
		}
	}
}

// Lock implements store.Locker: the dialect's lock across processes
// (PostgreSQL's advisory locks), or else a lock of this store in this
// process.
func (e *Engine) Lock(ctx context.Context, name string) (func(), error) {
	if e.d.Lock != nil {
		return e.d.Lock(ctx, name)
	}
	return e.locks.lock(ctx, name)
}
