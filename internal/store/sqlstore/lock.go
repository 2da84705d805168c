package sqlstore

import (
	"context"
	"fmt"
	"sync"
)

// locks are the named in-process locks of a store: the whole lock where
// the database has no lock of its own to offer (SQLite), and the first
// step of one where it has (see Engine.Lock). Waiting honours the
// context.
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

// Lock implements store.Locker: a lock of this store in this process,
// then the dialect's lock across processes (PostgreSQL's advisory locks)
// when it has one. Taking the in-process lock first makes the callers of
// one process that want a held lock queue here, without each pinning a
// database connection while it waits.
func (e *Engine) Lock(ctx context.Context, name string) (func(), error) {
	local, err := e.locks.lock(ctx, name)
	if err != nil {
		return nil, err
	}
	if e.d.Lock == nil {
		return local, nil
	}
	unlock, err := e.d.Lock(ctx, name)
	if err != nil {
		local()
		return nil, err
	}
	return func() {
		unlock()
		local()
	}, nil
}

// TryLock implements store.Locker, in the same two steps as Lock.
func (e *Engine) TryLock(ctx context.Context, name string) (func(), bool, error) {
	local, ok := e.locks.try(name)
	if !ok || e.d.TryLock == nil {
		return local, ok, nil
	}
	unlock, ok, err := e.d.TryLock(ctx, name)
	if err != nil || !ok {
		local()
		return nil, ok, err
	}
	return func() {
		unlock()
		local()
	}, true, nil
}
