package pardot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// EnsureTargets implements sdk.Writer. A property target is a custom
// prospect field, found among GET /custom-fields or created with POST
// /custom-fields (type Text); its platform id is <fieldId>__c, the name
// prospect reads and writes use. A list target is a static list, found
// by name among GET /lists or created with POST /lists.
func (p *Plugin) EnsureTargets(ctx context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error) {
	p.ensureMu.Lock()
	defer p.ensureMu.Unlock()
	out := make([]adapter.EnsuredTarget, 0, len(targets))
	for _, t := range targets {
		switch t.Kind {
		case adapter.TargetProperty:
			id := fieldID(t.Name)
			created, err := p.ensureField(ctx, t.Name, id)
			if err != nil {
				return nil, fmt.Errorf("pardot: custom field %q: %w", t.Name, err)
			}
			out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: id + "__c", Created: created})
		case adapter.TargetList:
			id, created, err := p.ensureList(ctx, t.Name)
			if err != nil {
				return nil, fmt.Errorf("pardot: list %q: %w", t.Name, err)
			}
			out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: id, Created: created})
		default:
			return nil, adapter.Permanent(fmt.Errorf("pardot: target %q of kind %s: %w", t.Key, t.Kind, adapter.ErrUnsupported))
		}
	}
	return out, nil
}

// fieldID makes a custom field id (letters, digits, underscores) of a name.
func fieldID(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return strings.Trim(b.String(), "_")
}

// each reads every row of a v5 query through nextPageUrl.
func each[T any](ctx context.Context, p *Plugin, path string, fn func(T)) error {
	for next := path; next != ""; {
		var body struct {
			Values      []T    `json:"values"`
			NextPageURL string `json:"nextPageUrl"`
		}
		if err := p.call(ctx, http.MethodGet, next, nil, &body); err != nil {
			return err
		}
		for _, v := range body.Values {
			fn(v)
		}
		next = body.NextPageURL
	}
	return nil
}

func (p *Plugin) ensureField(ctx context.Context, name, id string) (bool, error) {
	if p.fieldIDs == nil {
		known := map[string]bool{}
		err := each(ctx, p, "/api/v5/objects/custom-fields?fields=id,name,fieldId&limit=1000", func(f struct {
			FieldID string `json:"fieldId"`
		}) {
			known[f.FieldID] = true
		})
		if err != nil {
			return false, err
		}
		p.fieldIDs = known
	}
	if p.fieldIDs[id] {
		return false, nil
	}
	body := map[string]any{"name": name, "fieldId": id, "type": "Text"}
	if err := p.call(ctx, http.MethodPost, "/api/v5/objects/custom-fields?fields=id,fieldId", body, nil); err != nil {
		return false, err
	}
	p.fieldIDs[id] = true
	return true, nil
}

func (p *Plugin) ensureList(ctx context.Context, name string) (string, bool, error) {
	if p.listIDs == nil {
		known := map[string]string{}
		err := each(ctx, p, "/api/v5/objects/lists?fields=id,name&limit=1000", func(l struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		}) {
			if _, dup := known[l.Name]; !dup {
				known[l.Name] = strconv.Itoa(l.ID)
			}
		})
		if err != nil {
			return "", false, err
		}
		p.listIDs = known
	}
	if id := p.listIDs[name]; id != "" {
		return id, false, nil
	}
	var made struct {
		ID int `json:"id"`
	}
	body := map[string]any{"name": name, "isDynamic": false, "isPublic": false}
	if err := p.call(ctx, http.MethodPost, "/api/v5/objects/lists?fields=id,name", body, &made); err != nil {
		return "", false, err
	}
	id := strconv.Itoa(made.ID)
	p.listIDs[name] = id
	return id, true, nil
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

// perListAt is the batch size from which memberships are read per list
// (GET /list-memberships?listId=…, 1000 a page) rather than per prospect.
const perListAt = 50

// Push implements sdk.Writer, five items at a time (the concurrent
// limit). Each item costs one write for its field values (PATCH by id,
// or upsertLatestByEmail when its reference is an email) and one per
// list joined or left. Which lists a prospect is on is read first, so
// that joining a list it is on, or leaving one it is not on, costs
// nothing: for a small batch once per item with list changes (GET
// /list-memberships?prospectId=…), for a batch of perListAt or more once
// per list touched, a call per 1000 members.
func (p *Plugin) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	results := make([]adapter.PushResult, len(req.Items))
	var known map[string]map[int]int
	if len(req.Items) >= perListAt {
		var err error
		if known, err = p.membersOfLists(ctx, req); err != nil {
			return nil, err
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(maxConcurrent, max(1, len(req.Items))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = result(req.Items[i].ID, p.pushOne(ctx, req.Items[i], req.Targets, known))
			}
		}()
	}
	for i := range req.Items {
		select {
		case work <- i:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

// membersOfLists reads the members of every list a batch touches: list
// id → prospect id → membership id.
func (p *Plugin) membersOfLists(ctx context.Context, req adapter.PushRequest) (map[string]map[int]int, error) {
	out := map[string]map[int]int{}
	for _, it := range req.Items {
		for _, k := range append(append([]string{}, it.Add...), it.Remove...) {
			lid := req.Targets[k]
			if lid == "" || out[lid] != nil {
				continue
			}
			m := map[int]int{}
			q := url.Values{"fields": {"id,prospectId"}, "listId": {lid}, "limit": {strconv.Itoa(maxPageSize)}}
			err := each(ctx, p, "/api/v5/objects/list-memberships?"+q.Encode(), func(r struct {
				ID         int `json:"id"`
				ProspectID int `json:"prospectId"`
			}) {
				m[r.ProspectID] = r.ID
			})
			if err != nil {
				return nil, fmt.Errorf("pardot: reading the members of list %s: %w", lid, err)
			}
			out[lid] = m
		}
	}
	return out, nil
}

func (p *Plugin) pushOne(ctx context.Context, it adapter.PushItem, targets map[string]string, known map[string]map[int]int) error {
	for _, k := range append(append(append([]string{}, it.Add...), it.Remove...), keysOf(it.Properties)...) {
		if targets[k] == "" {
			return adapter.Permanent(fmt.Errorf("target %q was not ensured", k))
		}
	}
	id, _ := strconv.Atoi(it.Ref.ID)
	if len(it.Properties) > 0 {
		body := map[string]any{}
		for k, v := range it.Properties {
			if v == "" {
				body[targets[k]] = nil
			} else {
				body[targets[k]] = v
			}
		}
		switch {
		case id > 0:
			if err := p.call(ctx, http.MethodPatch, "/api/v5/objects/prospects/"+it.Ref.ID+"?fields=id", body, nil); err != nil {
				return fmt.Errorf("updating prospect %d: %w", id, err)
			}
		case strings.Contains(it.Ref.ID, "@"):
			var got struct {
				ID int `json:"id"`
			}
			up := map[string]any{"matchEmail": it.Ref.ID, "prospect": body, "fields": []string{"id"}}
			if err := p.call(ctx, http.MethodPost, "/api/v5/objects/prospects/do/upsertLatestByEmail", up, &got); err != nil {
				return fmt.Errorf("upserting prospect %s: %w", it.Ref.ID, err)
			}
			id = got.ID
		default:
			return adapter.Permanent(fmt.Errorf("prospect reference %q is neither an id nor an email", it.Ref.ID))
		}
	}
	if len(it.Add) == 0 && len(it.Remove) == 0 {
		return nil
	}
	if id <= 0 {
		return adapter.Permanent(fmt.Errorf("prospect reference %q is not an id", it.Ref.ID))
	}
	on, err := p.listsOf(ctx, id, it, targets, known)
	if err != nil {
		return err
	}
	for _, k := range it.Add {
		lid := targets[k]
		if _, ok := on[lid]; ok {
			continue
		}
		n, _ := strconv.Atoi(lid)
		body := map[string]any{"listId": n, "prospectId": id, "optedOut": false}
		if err := p.call(ctx, http.MethodPost, "/api/v5/objects/list-memberships?fields=id", body, nil); err != nil {
			return fmt.Errorf("adding prospect %d to list %s: %w", id, lid, err)
		}
	}
	for _, k := range it.Remove {
		mid, ok := on[targets[k]]
		if !ok {
			continue
		}
		err := p.call(ctx, http.MethodDelete, "/api/v5/objects/list-memberships/"+strconv.Itoa(mid), nil, nil)
		if err != nil && statusOf(err) != http.StatusNotFound {
			return fmt.Errorf("removing prospect %d from list %s: %w", id, targets[k], err)
		}
	}
	return nil
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// listsOf returns the lists prospect id is on (list id → membership id),
// from the batch's per-list reads when there are any.
func (p *Plugin) listsOf(ctx context.Context, id int, it adapter.PushItem, targets map[string]string, known map[string]map[int]int) (map[string]int, error) {
	on := map[string]int{}
	if known != nil {
		for _, k := range append(append([]string{}, it.Add...), it.Remove...) {
			if mid, ok := known[targets[k]][id]; ok {
				on[targets[k]] = mid
			}
		}
		return on, nil
	}
	q := url.Values{"fields": {"id,listId"}, "prospectId": {strconv.Itoa(id)}, "limit": {strconv.Itoa(maxPageSize)}}
	err := each(ctx, p, "/api/v5/objects/list-memberships?"+q.Encode(), func(m struct {
		ID     int `json:"id"`
		ListID int `json:"listId"`
	}) {
		on[strconv.Itoa(m.ListID)] = m.ID
	})
	if err != nil {
		return nil, fmt.Errorf("reading the lists of prospect %d: %w", id, err)
	}
	return on, nil
}
