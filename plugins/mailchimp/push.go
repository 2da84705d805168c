package mailchimp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/segconn/connector/adapter"
)

// EnsureTargets implements sdk.Writer. A list target is a member tag,
// which Mailchimp creates when it is first given to a member: nothing to
// create, and its platform id is its name.
func (p *Plugin) EnsureTargets(_ context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error) {
	out := make([]adapter.EnsuredTarget, 0, len(targets))
	for _, t := range targets {
		if t.Kind != adapter.TargetList {
			return nil, adapter.Permanent(fmt.Errorf("mailchimp: target %q of kind %s: %w (segments are written as tags)", t.Key, t.Kind, adapter.ErrUnsupported))
		}
		out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: t.Name})
	}
	return out, nil
}

type tagStatus struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// Push implements sdk.Writer: one tags call per member (active for Add,
// inactive for Remove), as many at once as the connection limit allows.
func (p *Plugin) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	results := make([]adapter.PushResult, len(req.Items))
	var wg sync.WaitGroup
	work := make(chan int)
	for range cap(p.conns) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = p.pushOne(ctx, req, req.Items[i])
			}
		}()
	}
	for i := range req.Items {
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
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

func (p *Plugin) pushOne(ctx context.Context, req adapter.PushRequest, it adapter.PushItem) adapter.PushResult {
	var tags []tagStatus
	for _, set := range []struct {
		keys   []string
		status string
	}{{it.Add, "active"}, {it.Remove, "inactive"}} {
		for _, k := range set.keys {
			name, ok := req.Targets[k]
			if !ok {
				return adapter.PushResult{ID: it.ID, Status: adapter.PushPermanent, Reason: fmt.Sprintf("target %q was not ensured", k)}
			}
			tags = append(tags, tagStatus{Name: name, Status: set.status})
		}
	}
	if len(it.Properties) > 0 {
		return adapter.PushResult{ID: it.ID, Status: adapter.PushPermanent, Reason: "mailchimp writes segments as tags only, not properties"}
	}
	if len(tags) == 0 {
		return adapter.PushResult{ID: it.ID, Status: adapter.PushOK}
	}
	path := "/lists/" + url.PathEscape(p.cfg.ListID) + "/members/" + url.PathEscape(it.Ref.ID) + "/tags"
	err := p.call(ctx, "POST", path, map[string]any{"tags": tags}, nil)
	var ae *adapter.Error
	switch {
	case err == nil:
		return adapter.PushResult{ID: it.ID, Status: adapter.PushOK}
	case errors.As(err, &ae) && ae.Kind == adapter.KindPermanent:
		return adapter.PushResult{ID: it.ID, Status: adapter.PushPermanent, Reason: err.Error()}
	default:
		return adapter.PushResult{ID: it.ID, Status: adapter.PushRetryable, Reason: err.Error(), RetryAfter: adapter.RetryAfterOf(err)}
	}
}
