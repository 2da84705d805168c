package daemon

import (
	"context"
	"sync"

	"github.com/segconn/connector/internal/store"
)

// batchInbox is implemented by stores that can store many webhook events
// in one transaction (both SQL stores).
type batchInbox interface {
	InboxAddBatch(ctx context.Context, items []store.InboxItem) error
}

// maxGroup bounds the events one group commit writes.
const maxGroup = 512

// groupCommit lets concurrent webhook requests share inbox transactions.
// A request that finds no commit under way leads: it writes every event
// waiting at that moment in one transaction and tells their requests the
// outcome; requests arriving meanwhile wait for the next commit, which one
// of them leads. No request is answered before the transaction holding
// its events has committed, so an acknowledgement still means stored.
// There is no timer: under light load a commit holds one request, under
// heavy load as many as arrived during the previous commit.
type groupCommit struct {
	add func(context.Context, []store.InboxItem) error

	mu      sync.Mutex
	busy    bool
	pending []*groupReq
}

type groupReq struct {
	items []store.InboxItem
	done  chan groupResult // buffered 1
}

type groupResult struct {
	err  error
	lead bool // take over as the leader instead
}

func newGroupCommit(add func(context.Context, []store.InboxItem) error) *groupCommit {
	return &groupCommit{add: add}
}

// store writes items and returns once they are committed, or the error
// that kept them from being committed.
func (g *groupCommit) store(ctx context.Context, items []store.InboxItem) error {
	req := &groupReq{items: items, done: make(chan groupResult, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, req)
	if g.busy {
		g.mu.Unlock()
		res := <-req.done
		if !res.lead {
			return res.err
		}
		g.mu.Lock()
	}
	g.busy = true
	g.mu.Unlock()
	return g.lead(ctx, req)
}

// lead commits the waiting requests, one group at a time, until its own is
// answered; then it hands leadership to the next waiting request, if any.
func (g *groupCommit) lead(ctx context.Context, own *groupReq) error {
	// The commit serves other requests too: the leader's cancellation
	// must not fail theirs.
	ctx = context.WithoutCancel(ctx)
	for {
		g.mu.Lock()
		n, end := 0, 0
		for end < len(g.pending) && (end == 0 || n+len(g.pending[end].items) <= maxGroup) {
			n += len(g.pending[end].items)
			end++
		}
		group := g.pending[:end:end]
		g.pending = g.pending[end:]
		g.mu.Unlock()

		var items []store.InboxItem
		for _, r := range group {
			items = append(items, r.items...)
		}
		err := g.add(ctx, items)
		mine := false
		for _, r := range group {
			if r == own {
				mine = true
				continue
			}
			r.done <- groupResult{err: err}
		}
		if !mine {
			continue
		}
		g.mu.Lock()
		if len(g.pending) > 0 {
			next := g.pending[0]
			g.mu.Unlock()
			next.done <- groupResult{lead: true}
		} else {
			g.busy = false
			g.mu.Unlock()
		}
		return err
	}
}
