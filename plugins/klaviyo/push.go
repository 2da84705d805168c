package klaviyo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// EnsureTargets implements sdk.Writer. A property target is a custom
// profile property, which Klaviyo creates when it is first set: its
// platform id is its name. A list target is a list, found by name (GET
// /api/lists with filter equals(name,…)) or created (POST /api/lists).
func (p *Plugin) EnsureTargets(ctx context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error) {
	out := make([]adapter.EnsuredTarget, 0, len(targets))
	for _, t := range targets {
		switch t.Kind {
		case adapter.TargetProperty:
			out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: t.Name})
		case adapter.TargetList:
			id, created, err := p.ensureList(ctx, t.Name)
			if err != nil {
				return nil, fmt.Errorf("klaviyo: list %q: %w", t.Name, err)
			}
			out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: id, Created: created})
		default:
			return nil, adapter.Permanent(fmt.Errorf("klaviyo: target %q of kind %s: %w", t.Key, t.Kind, adapter.ErrUnsupported))
		}
	}
	return out, nil
}

// ensureList finds or creates the list called name. Klaviyo lets several
// lists share a name, so two EnsureTargets at once (a cycle's and the
// daemon's) must not both create it: the lookup and the creation are
// done under ensureMu, and lists found or made are remembered.
func (p *Plugin) ensureList(ctx context.Context, name string) (string, bool, error) {
	p.ensureMu.Lock()
	defer p.ensureMu.Unlock()
	if id := p.listIDs[name]; id != "" {
		return id, false, nil
	}
	id, created, err := p.findOrCreateList(ctx, name)
	if err == nil {
		if p.listIDs == nil {
			p.listIDs = map[string]string{}
		}
		p.listIDs[name] = id
	}
	return id, created, err
}

func (p *Plugin) findOrCreateList(ctx context.Context, name string) (string, bool, error) {
	q := url.Values{"filter": {"equals(name," + strconv.Quote(name) + ")"}}
	var found struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := p.call(ctx, "get_lists", http.MethodGet, "/api/lists?"+q.Encode(), nil, &found); err != nil {
		return "", false, err
	}
	if len(found.Data) > 0 {
		return found.Data[0].ID, false, nil
	}
	var made struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	body := map[string]any{"data": map[string]any{"type": "list", "attributes": map[string]any{"name": name}}}
	if err := p.call(ctx, "create_list", http.MethodPost, "/api/lists", body, &made); err != nil {
		return "", false, err
	}
	return made.Data.ID, true, nil
}

// result turns a call's error into a push result.
func result(id string, err error) adapter.PushResult {
	switch {
	case err == nil:
		return adapter.PushResult{ID: id, Status: adapter.PushOK}
	case adapter.KindOf(err) == adapter.KindPermanent:
		return adapter.PushResult{ID: id, Status: adapter.PushPermanent, Reason: err.Error()}
	default:
		return adapter.PushResult{ID: id, Status: adapter.PushRetryable, Reason: err.Error(), RetryAfter: adapter.RetryAfterOf(err)}
	}
}

// Push implements sdk.Writer. Property values go first: one
// profile-import call per profile for a few, bulk import jobs of up to
// 10,000 profiles for more than bulk_threshold. Then list membership, per
// list, up to 1000 profiles a call; a profile whose properties were
// refused is not put on lists. Each item's result is its own: a profile
// the platform refuses fails alone.
func (p *Plugin) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	results := make([]adapter.PushResult, len(req.Items))
	for i, it := range req.Items {
		results[i] = adapter.PushResult{ID: it.ID, Status: adapter.PushOK}
		for _, k := range slicesConcat(it.Add, it.Remove, keys(it.Properties)) {
			if _, ok := req.Targets[k]; !ok {
				results[i] = adapter.PushResult{ID: it.ID, Status: adapter.PushPermanent, Reason: fmt.Sprintf("target %q was not ensured", k)}
			}
		}
	}
	var props []int
	for i, it := range req.Items {
		if len(it.Properties) > 0 && results[i].Status == adapter.PushOK {
			props = append(props, i)
		}
	}
	var err error
	if len(props) > p.cfg.BulkThreshold {
		err = p.bulkProperties(ctx, req, props, results)
	} else {
		err = p.importProperties(ctx, req, props, results)
	}
	if err != nil {
		return nil, err
	}
	if err := p.pushLists(ctx, req, results); err != nil {
		return nil, err
	}
	return results, ctx.Err()
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func slicesConcat(xs ...[]string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, x...)
	}
	return out
}

// upsertOf is the ProfileUpsertQueryResourceObject that sets an item's
// properties on its profile by id: values set, "" unset.
func upsertOf(req adapter.PushRequest, it adapter.PushItem) map[string]any {
	set := map[string]any{}
	var unset []string
	for _, k := range keys(it.Properties) {
		name, v := req.Targets[k], it.Properties[k]
		if v == "" {
			unset = append(unset, name)
		} else {
			set[name] = v
		}
	}
	o := map[string]any{"type": "profile", "id": it.Ref.ID, "attributes": map[string]any{"properties": set}}
	if len(unset) > 0 {
		o["meta"] = map[string]any{"patch_properties": map[string]any{"unset": unset}}
	}
	return o
}

// importProperties writes each item's properties with its own
// POST /api/profile-import, four at a time.
func (p *Plugin) importProperties(ctx context.Context, req adapter.PushRequest, idx []int, results []adapter.PushResult) error {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(4, len(idx)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				it := req.Items[i]
				err := p.call(ctx, "create_or_update_profile", http.MethodPost, "/api/profile-import",
					map[string]any{"data": upsertOf(req, it)}, nil)
				results[i] = result(it.ID, err)
			}
		}()
	}
	for _, i := range idx {
		select {
		case work <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	return ctx.Err()
}

// pushLists writes list membership: per list, the profiles to add and to
// remove, up to 1000 a call. A call refused for some of its profiles
// (JSON:API errors pointing at /data/N/…) is sent again without them,
// once; they fail alone.
func (p *Plugin) pushLists(ctx context.Context, req adapter.PushRequest, results []adapter.PushResult) error {
	type batch struct {
		list   string
		remove bool
		items  []int
	}
	groups := map[string]*batch{}
	var order []string
	for i, it := range req.Items {
		if results[i].Status != adapter.PushOK {
			continue
		}
		for _, set := range []struct {
			keys   []string
			remove bool
		}{{it.Add, false}, {it.Remove, true}} {
			for _, k := range set.keys {
				g := fmt.Sprintf("%s|%t", req.Targets[k], set.remove)
				if groups[g] == nil {
					groups[g] = &batch{list: req.Targets[k], remove: set.remove}
					order = append(order, g)
				}
				groups[g].items = append(groups[g].items, i)
			}
		}
	}
	for _, g := range order {
		b := groups[g]
		for start := 0; start < len(b.items); start += maxListBatch {
			chunk := b.items[start:min(start+maxListBatch, len(b.items))]
			if err := p.membership(ctx, req, b.list, b.remove, chunk, results, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// membership sends one list-membership call for the items in chunk and
// records its outcome in results.
func (p *Plugin) membership(ctx context.Context, req adapter.PushRequest, list string, remove bool, chunk []int, results []adapter.PushResult, again bool) error {
	op, method := "add_profiles_to_list", http.MethodPost
	if remove {
		op, method = "remove_profiles_from_list", http.MethodDelete
	}
	data := make([]map[string]string, len(chunk))
	for j, i := range chunk {
		data[j] = map[string]string{"type": "profile", "id": req.Items[i].Ref.ID}
	}
	err := p.call(ctx, op, method, "/api/lists/"+url.PathEscape(list)+"/relationships/profiles", map[string]any{"data": data}, nil)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	status, errs := errorsOf(err)
	bad := map[int]string{}
	if status == http.StatusBadRequest {
		for _, e := range errs {
			var n int
			if _, serr := fmt.Sscanf(e.Source.Pointer, "/data/%d/", &n); serr == nil && n >= 0 && n < len(chunk) {
				bad[n] = e.Detail
			}
		}
	}
	if len(bad) == 0 || !again {
		for _, i := range chunk {
			if results[i].Status == adapter.PushOK {
				results[i] = result(req.Items[i].ID, err)
			}
		}
		return nil
	}
	var rest []int
	for j, i := range chunk {
		if d, ok := bad[j]; ok {
			results[i] = adapter.PushResult{ID: req.Items[i].ID, Status: adapter.PushPermanent,
				Reason: "klaviyo refused profile " + req.Items[i].Ref.ID + " for list " + list + ": " + d}
			continue
		}
		rest = append(rest, i)
	}
	if len(rest) == 0 {
		return nil
	}
	return p.membership(ctx, req, list, remove, rest, results, false)
}

// errJobCancelled marks a bulk job Klaviyo cancelled.
var errJobCancelled = errors.New("the bulk import job was cancelled")

// jobPointer reads the item index out of an import error's pointer.
func jobPointer(ptr string) (int, bool) {
	rest, ok := strings.CutPrefix(ptr, "/data/attributes/profiles/data/")
	if !ok {
		return 0, false
	}
	rest, _, _ = strings.Cut(rest, "/")
	n, err := strconv.Atoi(rest)
	return n, err == nil
}
