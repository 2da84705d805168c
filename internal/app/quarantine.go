package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// maxQuarantineList bounds how many quarantined records one listing reads.
const maxQuarantineList = 100000

// Retry outcomes.
const (
	RetryStored   = "stored"           // fetched, mapped and stored; no longer quarantined
	RetryDeleted  = "deleted"          // gone from the platform; stored as deleted
	RetryStill    = "still_rejected"   // the platform's record still cannot be mapped
	RetryNoRef    = "cannot_retry"     // the record has no id to fetch it by
	RetryNoSource = "platform_missing" // its platform is not configured (any more)
	RetryFailed   = "failed"           // fetching or storing failed; see Error
)

// QuarantineRetry is what retrying one quarantined record did.
type QuarantineRetry struct {
	ID       int64  `json:"id"`
	Platform string `json:"platform"`
	Object   string `json:"object"`
	Record   string `json:"record"`
	Outcome  string `json:"outcome"`
	Error    string `json:"error,omitempty"`
}

// Quarantined lists quarantined records, newest first: all of them, or
// one platform's.
func (a *App) Quarantined(ctx context.Context, platform string) ([]store.Quarantined, error) {
	return a.Store.Quarantined(ctx, platform, maxQuarantineList)
}

// FindQuarantined returns one quarantined record by its id.
func FindQuarantined(ctx context.Context, st store.Store, id int64) (store.Quarantined, error) {
	all, err := st.Quarantined(ctx, "", maxQuarantineList)
	if err != nil {
		return store.Quarantined{}, err
	}
	for _, q := range all {
		if q.ID == id {
			return q, nil
		}
	}
	return store.Quarantined{}, fmt.Errorf("no quarantined record has the id %d: %w", id, store.ErrNotFound)
}

// RetryQuarantined fetches the given quarantined records afresh from
// their platforms and stores what now maps, as a webhook would: a record
// fixed at the source leaves the quarantine, one that still cannot be
// mapped stays with its reason. The stored records count from the next
// segment run. It returns one entry per record, in the order of ids, and
// the fetch or store failures joined.
func (a *App) RetryQuarantined(ctx context.Context, ids []int64) ([]QuarantineRetry, error) {
	all, err := a.Store.Quarantined(ctx, "", maxQuarantineList)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]store.Quarantined, len(all))
	for _, q := range all {
		byID[q.ID] = q
	}
	out := make([]QuarantineRetry, len(ids))
	type group struct{ platform, object string }
	pending := map[group][]int{} // indexes into out
	for i, id := range ids {
		q, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("no quarantined record has the id %d", id)
		}
		obj := q.Ref.ObjectType
		if obj == "" {
			obj = strings.TrimPrefix(q.Object, "webhook/")
		}
		out[i] = QuarantineRetry{ID: id, Platform: q.Platform, Object: obj, Record: q.Ref.ID}
		switch {
		case q.Ref.ID == "":
			out[i].Outcome = RetryNoRef
			out[i].Error = "the platform's record has no id; fix it at the source and run sync --full"
		case a.Adapters[q.Platform] == nil:
			out[i].Outcome = RetryNoSource
		default:
			g := group{q.Platform, obj}
			pending[g] = append(pending[g], i)
		}
	}
	var errs []error
	for g, idx := range pending {
		if err := a.retryGroup(ctx, g.platform, g.object, idx, out); err != nil {
			errs = append(errs, err)
		}
	}
	var resolved []int64
	for _, r := range out {
		if r.Outcome == RetryStored || r.Outcome == RetryDeleted {
			resolved = append(resolved, r.ID)
		}
	}
	if len(resolved) > 0 {
		if err := a.Store.QuarantineResolve(ctx, resolved...); err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// retryGroup refetches one platform's records of one object (out[idx])
// and stores those that map.
func (a *App) retryGroup(ctx context.Context, platform, object string, idx []int, out []QuarantineRetry) error {
	fail := func(err error) error {
		for _, i := range idx {
			out[i].Outcome, out[i].Error = RetryFailed, err.Error()
		}
		return fmt.Errorf("retrying %s %s records: %w", platform, object, err)
	}
	recIDs := make([]string, 0, len(idx))
	for _, i := range idx {
		recIDs = append(recIDs, out[i].Record)
	}
	slices.Sort(recIDs)
	recIDs = slices.Compact(recIDs)
	changes, err := a.Adapters[platform].Fetch(ctx, adapter.FetchRequest{Object: object, IDs: recIDs})
	a.observe(platform, "fetch", err, true)
	if err != nil {
		return fail(err)
	}
	got := map[string]adapter.ChangeKind{}
	events := make([]adapter.WebhookEvent, 0, len(changes))
	for _, ch := range changes {
		got[ch.Ref.ID] = ch.Kind
		events = append(events, adapter.WebhookEvent{Kind: ch.Kind, Ref: ch.Ref, Record: &ch, OccurredAt: time.Now().UTC()})
	}
	if len(events) > 0 {
		if _, err := a.Pipeline.ApplyWebhookEvents(ctx, platform, events); err != nil {
			return fail(err)
		}
	}
	for _, i := range idx {
		kind, ok := got[out[i].Record]
		switch {
		case !ok:
			out[i].Outcome = RetryStill
			out[i].Error = "the platform's record still cannot be mapped; fix it at the source (the adapter logs why)"
		case kind == adapter.ChangeDelete:
			out[i].Outcome = RetryDeleted
		default:
			out[i].Outcome = RetryStored
		}
	}
	return nil
}
