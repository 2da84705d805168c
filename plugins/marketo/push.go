package marketo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// fieldName turns a target name into a lead field API name: letters,
// digits and underscores, starting with a letter (Create Lead Fields).
func fieldName(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || !unicode.IsLetter(rune(s[0])) {
		s = "seg_" + s
	}
	return s
}

// EnsureTargets implements sdk.Writer. A property target is a custom
// lead field (a string), found in the lead description (describe2) or
// created (POST /rest/v1/leads/schema/fields.json); its platform id is
// its API name. A list target is a static list, found by name (Asset API
// staticList/byName.json) or created (staticLists.json) in list_folder.
func (p *Plugin) EnsureTargets(ctx context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error) {
	p.ensureMu.Lock()
	defer p.ensureMu.Unlock()
	out := make([]adapter.EnsuredTarget, 0, len(targets))
	for _, t := range targets {
		switch t.Kind {
		case adapter.TargetProperty:
			name, created, err := p.ensureField(ctx, t.Name)
			if err != nil {
				return nil, fmt.Errorf("marketo: field %q: %w", t.Name, err)
			}
			out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: name, Created: created})
		case adapter.TargetList:
			id, created, err := p.ensureList(ctx, t.Name)
			if err != nil {
				return nil, fmt.Errorf("marketo: static list %q: %w", t.Name, err)
			}
			out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: id, Created: created})
		default:
			return nil, adapter.Permanent(fmt.Errorf("marketo: target %q of kind %s: %w", t.Key, t.Kind, adapter.ErrUnsupported))
		}
	}
	return out, nil
}

func (p *Plugin) ensureField(ctx context.Context, target string) (string, bool, error) {
	name := fieldName(target)
	if p.fields == nil {
		env, err := p.call(ctx, request{op: "describe leads", method: http.MethodGet, path: "/rest/v1/leads/describe2.json"})
		if err != nil {
			return "", false, err
		}
		var desc []struct {
			Fields []struct {
				Name string `json:"name"`
			} `json:"fields"`
		}
		if err := decode(env, "describe leads", &desc); err != nil {
			return "", false, err
		}
		p.fields = map[string]bool{}
		for _, d := range desc {
			for _, f := range d.Fields {
				p.fields[f.Name] = true
			}
		}
	}
	if p.fields[name] {
		return name, false, nil
	}
	env, err := p.call(ctx, request{op: "create lead field", method: http.MethodPost, path: "/rest/v1/leads/schema/fields.json",
		body: map[string]any{"input": []map[string]any{{"name": name, "displayName": target, "dataType": "string"}}}})
	if err != nil {
		return "", false, err
	}
	var res []recordResult
	if err := decode(env, "create lead field", &res); err != nil {
		return "", false, err
	}
	created := len(res) > 0 && res[0].Status == "created"
	if !created && (len(res) == 0 || !hasReason(res[0], "1009")) {
		return "", false, adapter.Permanent(fmt.Errorf("marketo: creating field %s: %s", name, reasons(res)))
	}
	p.fields[name] = true
	return name, created, nil
}

func (p *Plugin) ensureList(ctx context.Context, name string) (string, bool, error) {
	if id := p.listIDs[name]; id != "" {
		return id, false, nil
	}
	env, err := p.call(ctx, request{op: "static list by name", method: http.MethodGet, path: "/rest/asset/v1/staticList/byName.json",
		query: url.Values{"name": {name}}})
	if err != nil {
		return "", false, err
	}
	var found []struct {
		ID int `json:"id"`
	}
	if err := decode(env, "static list by name", &found); err != nil {
		return "", false, err
	}
	created := false
	if len(found) == 0 {
		p.mu.Lock()
		folder := p.cfg.ListFolder
		p.mu.Unlock()
		env, err := p.call(ctx, request{op: "create static list", method: http.MethodPost, path: "/rest/asset/v1/staticLists.json",
			form: url.Values{"name": {name}, "folder": {fmt.Sprintf(`{"id":%d,"type":"Folder"}`, folder)}}})
		if err != nil {
			return "", false, err
		}
		if err := decode(env, "create static list", &found); err != nil {
			return "", false, err
		}
		if len(found) == 0 {
			return "", false, adapter.Retryable(fmt.Errorf("marketo: creating static list %q returned no list", name))
		}
		created = true
	}
	id := strconv.Itoa(found[0].ID)
	if p.listIDs == nil {
		p.listIDs = map[string]string{}
	}
	p.listIDs[name] = id
	return id, created, nil
}

// recordResult is one record's outcome in a sync or list call.
type recordResult struct {
	ID      int        `json:"id"`
	Status  string     `json:"status"`
	Reasons []apiError `json:"reasons"`
}

func hasReason(r recordResult, code string) bool {
	for _, x := range r.Reasons {
		if x.Code == code {
			return true
		}
	}
	return false
}

func reasons(rs []recordResult) string {
	var parts []string
	for _, r := range rs {
		for _, x := range r.Reasons {
			parts = append(parts, x.String())
		}
	}
	return strings.Join(parts, "; ")
}

// failed turns a call's error into the result of each of its items.
func failed(id string, err error) adapter.PushResult {
	if adapter.KindOf(err) == adapter.KindPermanent {
		return adapter.PushResult{ID: id, Status: adapter.PushPermanent, Reason: err.Error()}
	}
	return adapter.PushResult{ID: id, Status: adapter.PushRetryable, Reason: err.Error(), RetryAfter: adapter.RetryAfterOf(err)}
}

// Push implements sdk.Writer. Field values go first, 300 leads a Sync
// Leads call (updateOnly, looked up by id, so no lead is created); a lead
// Marketo skips fails alone with its reasons (1004 not found: permanent).
// Then list membership, per static list, 300 leads a call; a lead whose
// fields failed is not put on lists, and one already off a list (1015)
// counts as removed.
func (p *Plugin) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	results := make([]adapter.PushResult, len(req.Items))
	leadID := make([]int, len(req.Items))
	for i, it := range req.Items {
		results[i] = adapter.PushResult{ID: it.ID, Status: adapter.PushOK}
		id, err := strconv.Atoi(it.Ref.ID)
		if err != nil || id <= 0 {
			results[i] = adapter.PushResult{ID: it.ID, Status: adapter.PushPermanent, Reason: fmt.Sprintf("%q is not a Marketo lead id", it.Ref.ID)}
			continue
		}
		leadID[i] = id
		for _, k := range append(append(append([]string{}, it.Add...), it.Remove...), keys(it.Properties)...) {
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
	for start := 0; start < len(props); start += maxBatch {
		chunk := props[start:min(start+maxBatch, len(props))]
		if err := p.syncFields(ctx, req, chunk, leadID, results); err != nil {
			return nil, err
		}
	}
	// Membership: per list and direction, the leads still ok.
	type key struct {
		list string
		add  bool
	}
	groups := map[key][]int{}
	for i, it := range req.Items {
		if results[i].Status != adapter.PushOK {
			continue
		}
		for _, k := range it.Add {
			groups[key{req.Targets[k], true}] = append(groups[key{req.Targets[k], true}], i)
		}
		for _, k := range it.Remove {
			groups[key{req.Targets[k], false}] = append(groups[key{req.Targets[k], false}], i)
		}
	}
	ks := make([]key, 0, len(groups))
	for k := range groups {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(a, b int) bool {
		if ks[a].list != ks[b].list {
			return ks[a].list < ks[b].list
		}
		return !ks[a].add && ks[b].add // removals first
	})
	for _, k := range ks {
		idx := groups[k]
		for start := 0; start < len(idx); start += maxBatch {
			if err := p.membership(ctx, k.list, k.add, idx[start:min(start+maxBatch, len(idx))], leadID, req.Items, results); err != nil {
				return nil, err
			}
		}
	}
	return results, nil
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// syncFields writes the field values of items idx in one Sync Leads
// call; "" clears a field (null).
func (p *Plugin) syncFields(ctx context.Context, req adapter.PushRequest, idx, leadID []int, results []adapter.PushResult) error {
	input := make([]map[string]any, len(idx))
	for n, i := range idx {
		rec := map[string]any{"id": leadID[i]}
		for k, v := range req.Items[i].Properties {
			if v == "" {
				rec[req.Targets[k]] = nil
			} else {
				rec[req.Targets[k]] = v
			}
		}
		input[n] = rec
	}
	env, err := p.call(ctx, request{op: "sync leads", method: http.MethodPost, path: "/rest/v1/leads.json",
		body: map[string]any{"action": "updateOnly", "lookupField": "id", "input": input}})
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		for _, i := range idx {
			results[i] = failed(req.Items[i].ID, err)
		}
		return nil
	}
	var rs []recordResult
	if err := decode(env, "sync leads", &rs); err != nil {
		return err
	}
	for n, i := range idx {
		// Results come in the order of the input.
		if n >= len(rs) {
			results[i] = adapter.PushResult{ID: req.Items[i].ID, Status: adapter.PushRetryable, Reason: "marketo: no result for this lead"}
			continue
		}
		if r := rs[n]; r.Status == "skipped" {
			results[i] = adapter.PushResult{ID: req.Items[i].ID, Status: adapter.PushPermanent,
				Reason: "marketo skipped the lead: " + reasons([]recordResult{r})}
		}
	}
	return nil
}

// membership adds items idx to (or removes them from) static list list.
// The ids go in the body and, for removal, also in the id query
// parameter the description requires.
func (p *Plugin) membership(ctx context.Context, list string, add bool, idx, leadID []int, items []adapter.PushItem, results []adapter.PushResult) error {
	input := make([]map[string]int, len(idx))
	q := url.Values{}
	for n, i := range idx {
		input[n] = map[string]int{"id": leadID[i]}
		if !add {
			q.Add("id", strconv.Itoa(leadID[i]))
		}
	}
	r := request{op: "add to list", method: http.MethodPost, path: "/rest/v1/lists/" + url.PathEscape(list) + "/leads.json",
		body: map[string]any{"input": input}}
	if !add {
		r.op, r.method, r.query = "remove from list", http.MethodDelete, q
	}
	env, err := p.call(ctx, r)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		for _, i := range idx {
			results[i] = failed(items[i].ID, err)
		}
		return nil
	}
	var rs []recordResult
	if err := decode(env, r.op, &rs); err != nil {
		return err
	}
	byLead := map[int]recordResult{}
	for _, x := range rs {
		byLead[x.ID] = x
	}
	for _, i := range idx {
		x, ok := byLead[leadID[i]]
		switch {
		case !ok:
			results[i] = adapter.PushResult{ID: items[i].ID, Status: adapter.PushRetryable, Reason: "marketo: no result for this lead"}
		case x.Status == "skipped" && !(hasReason(x, "1015") && !add):
			results[i] = adapter.PushResult{ID: items[i].ID, Status: adapter.PushPermanent,
				Reason: "marketo skipped the lead: " + reasons([]recordResult{x})}
		}
	}
	return nil
}
