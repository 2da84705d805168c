package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// SyncStats counts what a pull stored.
type SyncStats struct {
	Platform    string         `json:"platform"`
	Pages       int            `json:"pages"`
	Records     map[string]int `json:"records"` // by object
	Deleted     int            `json:"deleted"`
	Quarantined int            `json:"quarantined"`
	Touched     []string       `json:"-"` // profiles changed
}

// objectOrder pulls companies before the people who work there and people
// before their orders, so links resolve on first sight.
var objectOrder = []string{domain.ObjectCompany, domain.ObjectContact, domain.ObjectDeal, domain.ObjectOrder}

func orderedObjects(objs []string) []string {
	out := slices.Clone(objs)
	rank := func(o string) int {
		if i := slices.Index(objectOrder, o); i >= 0 {
			return i
		}
		return len(objectOrder)
	}
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

// pulledMarker is the cursor slot, beside the platform's objects, that
// holds when a pull of the platform last ran to its end.
const pulledMarker = "*pulled"

// PulledOnce reports whether a pull of the platform has ever run to its
// end, so its data in the store is whole rather than the first pages of an
// initial pull.
func (p *Pipeline) PulledOnce(ctx context.Context, platform string) (bool, error) {
	pl, err := p.Platform(platform)
	if err != nil {
		return false, err
	}
	at, err := p.store.Cursor(ctx, platform, pl.Account, pulledMarker)
	if err != nil {
		return false, fmt.Errorf("reading whether %s was pulled: %w", platform, err)
	}
	return at != "", nil
}

// Sync pulls every object of one platform from its stored cursor (or, with
// full, from the beginning as a reconcile sweep) and stores each page with
// its cursor in one transaction, so a crash never skips data.
func (p *Pipeline) Sync(ctx context.Context, platform string, full bool) (SyncStats, error) {
	pl, err := p.Platform(platform)
	if err != nil {
		return SyncStats{}, err
	}
	st := SyncStats{Platform: platform, Records: map[string]int{}}
	touched := map[string]bool{}
	for _, obj := range orderedObjects(pl.Desc.Capabilities.Objects) {
		cursor := ""
		if !full {
			cursor, err = p.store.Cursor(ctx, platform, pl.Account, obj)
			if err != nil {
				return st, fmt.Errorf("reading %s %s cursor: %w", platform, obj, err)
			}
		}
		req := adapter.PullRequest{Object: obj, Cursor: cursor, Full: full}
		err := pl.Adapter.Pull(ctx, req, func(ctx context.Context, page adapter.Page) error {
			res, err := p.store.ApplyPage(ctx, platform, pl.Account, obj, page.Changes, page.Quarantined, page.Cursor)
			if err != nil {
				return err
			}
			st.Pages++
			st.Records[obj] += len(page.Changes)
			st.Deleted += res.Deleted
			st.Quarantined += res.Quarantined
			for _, id := range res.Touched {
				touched[id] = true
			}
			if p.hooks.OnPulled != nil {
				p.hooks.OnPulled(platform, obj, len(page.Changes))
			}
			return nil
		})
		if err != nil {
			return st, fmt.Errorf("pulling %s %s: %w", platform, obj, err)
		}
	}
	// Every object was pulled to its end: the platform's data is whole
	// from here on (see PulledOnce).
	if err := p.store.SetCursor(ctx, platform, pl.Account, pulledMarker, p.now().UTC().Format(time.RFC3339)); err != nil {
		return st, fmt.Errorf("recording that %s was pulled: %w", platform, err)
	}
	for id := range touched {
		st.Touched = append(st.Touched, id)
	}
	slices.Sort(st.Touched)
	p.log.InfoContext(ctx, "pulled platform", "platform", platform, "pages", st.Pages, "records", st.Records,
		"quarantined", st.Quarantined, "full", full)
	return st, nil
}

// ApplyWebhookEvents stores what a batch of verified webhook events
// announced: records they carried are stored directly, the rest are
// fetched from the platform first. Sync cursors are not moved: webhook
// data is stored under a separate "webhook/<object>" cursor row. It
// returns the profiles touched.
func (p *Pipeline) ApplyWebhookEvents(ctx context.Context, platform string, events []adapter.WebhookEvent) ([]string, error) {
	pl, err := p.Platform(platform)
	if err != nil {
		return nil, err
	}
	events, err = p.dropEchoes(ctx, platform, events)
	if err != nil {
		return nil, err
	}
	byObject := map[string][]adapter.Change{}
	toFetch := map[string][]string{}
	for _, ev := range events {
		obj := ev.Ref.ObjectType
		switch {
		case ev.Record != nil:
			byObject[obj] = append(byObject[obj], *ev.Record)
		case ev.Kind == adapter.ChangeDelete || ev.Kind == adapter.ChangeMerge:
			byObject[obj] = append(byObject[obj], adapter.Change{Kind: ev.Kind, Ref: ev.Ref, MergedInto: ev.MergedInto, Privacy: ev.Privacy})
			if ev.Kind == adapter.ChangeMerge && !ev.MergedInto.IsZero() {
				toFetch[obj] = append(toFetch[obj], ev.MergedInto.ID)
			}
		default:
			toFetch[obj] = append(toFetch[obj], ev.Ref.ID)
		}
	}
	for obj, ids := range toFetch {
		slices.Sort(ids)
		ids = slices.Compact(ids)
		changes, err := pl.Adapter.Fetch(ctx, adapter.FetchRequest{Object: obj, IDs: ids})
		if err != nil {
			return nil, fmt.Errorf("fetching %d %s %s records after a webhook: %w", len(ids), platform, obj, err)
		}
		byObject[obj] = append(byObject[obj], changes...)
	}
	touched := map[string]bool{}
	for _, obj := range orderedObjects(mapKeys(byObject)) {
		res, err := p.store.ApplyPage(ctx, platform, pl.Account, "webhook/"+obj, byObject[obj], nil, "")
		if err != nil {
			return nil, fmt.Errorf("storing %s %s webhook records: %w", platform, obj, err)
		}
		for _, id := range res.Touched {
			touched[id] = true
		}
	}
	// Events applied again (a daemon died after storing their records but
	// before their write-back was queued, and the inbox hands them out
	// again) change nothing in the store, so ApplyPage does not report
	// their profiles; resegment them anyway. Rescoring a profile whose
	// write-back is already done plans nothing.
	for _, changes := range byObject {
		for _, ch := range changes {
			id, err := p.profileOf(ctx, ch)
			if err != nil {
				return nil, fmt.Errorf("finding the profile of %s webhook record %s: %w", platform, ch.Ref.Key(), err)
			}
			if id != "" {
				touched[id] = true
			}
		}
	}
	return mapKeys(touched), nil
}

// profileOf returns the profile an upserted record belongs to, or "" when
// it has none (yet) or it is not a person's record or order.
func (p *Pipeline) profileOf(ctx context.Context, ch adapter.Change) (string, error) {
	if ch.Kind == adapter.ChangeDelete || ch.Kind == adapter.ChangeMerge {
		return "", nil
	}
	var prof domain.Profile
	var err error
	switch {
	case ch.Order != nil && !ch.Order.CustomerRef.IsZero():
		prof, err = p.store.ProfileByRef(ctx, ch.Order.CustomerRef)
	case ch.Order != nil && ch.Order.BillingEmail != "":
		prof, err = p.store.ProfileByEmail(ctx, domain.NormalizeEmail(ch.Order.BillingEmail))
	case ch.Contact != nil:
		prof, err = p.store.ProfileByRef(ctx, ch.Ref)
	default:
		return "", nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return prof.ID, nil
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
