package mailchimp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// EnsureTargets implements sdk.Writer. A list target is a member tag,
// which Mailchimp creates when it is first given to a member: nothing to
// create, and its platform id is its name. A property target is a text
// merge field of the audience, found by name or created (Mailchimp picks
// its tag); its platform id is the tag.
func (p *Plugin) EnsureTargets(ctx context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error) {
	out := make([]adapter.EnsuredTarget, 0, len(targets))
	for _, t := range targets {
		switch t.Kind {
		case adapter.TargetList:
			out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: t.Name})
		case adapter.TargetProperty:
			tag, created, err := p.ensureMergeField(ctx, t.Name)
			if err != nil {
				return nil, fmt.Errorf("mailchimp: merge field %q: %w", t.Name, err)
			}
			out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: tag, Created: created})
		default:
			return nil, adapter.Permanent(fmt.Errorf("mailchimp: target %q of kind %s: %w", t.Key, t.Kind, adapter.ErrUnsupported))
		}
	}
	return out, nil
}

// ensureMergeField finds or creates the merge field called name, one at
// a time, so that two EnsureTargets at once (a cycle's and the daemon's)
// do not both try to create it.
func (p *Plugin) ensureMergeField(ctx context.Context, name string) (string, bool, error) {
	p.ensureMu.Lock()
	defer p.ensureMu.Unlock()
	var list struct {
		MergeFields []struct {
			Tag  string `json:"tag"`
			Name string `json:"name"`
		} `json:"merge_fields"`
	}
	path := "/lists/" + url.PathEscape(p.cfg.ListID) + "/merge-fields"
	if err := p.call(ctx, "GET", path+"?count=1000", nil, &list); err != nil {
		return "", false, err
	}
	for _, f := range list.MergeFields {
		if f.Name == name {
			return f.Tag, false, nil
		}
	}
	var made struct {
		Tag string `json:"tag"`
	}
	if err := p.call(ctx, "POST", path, map[string]any{"name": name, "type": "text", "public": false}, &made); err != nil {
		return "", false, err
	}
	return made.Tag, true, nil
}

type tagStatus struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// memberCall is one call a write-back makes for an item.
type memberCall struct {
	item         int
	method, path string
	body         any
}

// calls returns the calls that write item i: its tags (active for Add,
// inactive for Remove) and its merge fields (PATCH of the member), or a
// result when it cannot be written.
func (p *Plugin) calls(req adapter.PushRequest, i int) ([]memberCall, *adapter.PushResult) {
	it := req.Items[i]
	member := "/lists/" + url.PathEscape(p.cfg.ListID) + "/members/" + url.PathEscape(it.Ref.ID)
	var tags []tagStatus
	for _, set := range []struct {
		keys   []string
		status string
	}{{it.Add, "active"}, {it.Remove, "inactive"}} {
		for _, k := range set.keys {
			name, ok := req.Targets[k]
			if !ok {
				return nil, &adapter.PushResult{ID: it.ID, Status: adapter.PushPermanent, Reason: fmt.Sprintf("target %q was not ensured", k)}
			}
			tags = append(tags, tagStatus{Name: name, Status: set.status})
		}
	}
	merges := map[string]string{}
	for k, v := range it.Properties {
		tag, ok := req.Targets[k]
		if !ok {
			return nil, &adapter.PushResult{ID: it.ID, Status: adapter.PushPermanent, Reason: fmt.Sprintf("target %q was not ensured", k)}
		}
		merges[tag] = v
	}
	var out []memberCall
	if len(merges) > 0 {
		out = append(out, memberCall{item: i, method: "PATCH", path: member, body: map[string]any{"merge_fields": merges}})
	}
	if len(tags) > 0 {
		out = append(out, memberCall{item: i, method: "POST", path: member + "/tags", body: map[string]any{"tags": tags}})
	}
	return out, nil
}

// Push implements sdk.Writer: per member, a PATCH of its merge fields
// and a tags call. Up to batch_threshold calls are sent directly, as many
// at once as the connection limit allows; more go as one batch operation
// (POST /batches), whose per-operation results give each item its own.
func (p *Plugin) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	results := make([]adapter.PushResult, len(req.Items))
	var all []memberCall
	for i, it := range req.Items {
		cs, res := p.calls(req, i)
		if res != nil {
			results[i] = *res
			continue
		}
		results[i] = adapter.PushResult{ID: it.ID, Status: adapter.PushOK}
		all = append(all, cs...)
	}
	if len(all) > p.cfg.BatchThreshold {
		if err := p.pushBatch(ctx, req, all, results); err != nil {
			return nil, err
		}
		return results, nil
	}
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	work := make(chan int)
	for range cap(p.conns) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				c := all[k]
				errs[k] = p.call(ctx, c.method, c.path, c.body, nil)
			}
		}()
	}
	for k := range all {
		select {
		case work <- k:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for k, c := range all {
		if errs[k] != nil && results[c.item].Status == adapter.PushOK {
			results[c.item] = failure(req.Items[c.item].ID, errs[k])
		}
	}
	return results, nil
}

// failure is the result of an item whose call failed with err.
func failure(id string, err error) adapter.PushResult {
	var ae *adapter.Error
	if errors.As(err, &ae) && ae.Kind == adapter.KindPermanent {
		return adapter.PushResult{ID: id, Status: adapter.PushPermanent, Reason: err.Error()}
	}
	return adapter.PushResult{ID: id, Status: adapter.PushRetryable, Reason: err.Error(), RetryAfter: adapter.RetryAfterOf(err)}
}
