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

// try takes name if it is free, without waiting.
func (l *locks) try(name string) (func(), bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		l.held = map[string]chan struct{}{}
	}
	if _, busy := l.held[name]; busy {
		return nil, false
	}
	ch := make(chan struct{})
	l.held[name] = ch
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.held, name)
			l.mu.Unlock()
			close(ch)
		})
	}, true
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

// TryLock implements store.Locker.
func (e *Engine) TryLock(ctx context.Context, name string) (func(), bool, error) {
	if e.d.TryLock != nil {
		return e.d.TryLock(ctx, name)
	}
	unlock, ok := e.locks.try(name)
	return unlock, ok, nil
}
