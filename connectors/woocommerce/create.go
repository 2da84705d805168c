package woocommerce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

var _ adapter.Creator = (*Connector)(nil)

// CreatePolicy reports create.allow and create.mode.
func (c *Connector) CreatePolicy() adapter.CreatePolicy {
	cfg, _, _, err := c.state()
	if err != nil {
		return adapter.CreatePolicy{Mode: adapter.CreateNever}
	}
	mode, _ := adapter.ParseCreateMode(cfg.Create.Mode) // the spec's enum checked it
	return adapter.CreatePolicy{Mode: mode, Allowed: cfg.Create.Allow}
}

// EstimateCreateCalls mirrors Create: one batch create per batch_size
// customers.
func (c *Connector) EstimateCreateCalls(n int) int {
	size := max(int(c.batchSize.Load()), 1)
	return (n + size - 1) / size
}

type customerCreate struct {
	Email     string    `json:"email"`
	FirstName string    `json:"first_name,omitempty"`
	LastName  string    `json:"last_name,omitempty"`
	MetaData  []metaOut `json:"meta_data,omitempty"`
}

// Create implements adapter.Creator with POST /customers/batch (create,
// batch_size per call). WooCommerce keeps one account per email: a create
// for an email it has answers registration-error-email-exists, as it does
// for an attempt repeated after a crash; Create then finds that customer
// (GET /customers?email=…&role=all) and writes the item's meta to it, so
// the shop never gets a second account.
func (c *Connector) Create(ctx context.Context, req adapter.CreateRequest) ([]adapter.CreateResult, error) {
	cfg, a, m, err := c.state()
	if err != nil {
		return nil, err
	}
	if !cfg.Create.Allow {
		return nil, adapter.Permanent(errors.New("creating woocommerce customers: create.allow is off"))
	}
	out := make([]adapter.CreateResult, 0, len(req.Items))
	var todo []adapter.CreateItem
	var bodies []customerCreate
	for _, it := range req.Items {
		meta, reason := c.itemMeta(cfg, m, req.Targets, adapter.PushItem{ID: it.ID, Properties: it.Properties})
		if reason != "" || it.Email == "" {
			if reason == "" {
				reason = "no email to register a woocommerce customer with"
			}
			out = append(out, adapter.CreateResult{ID: it.ID, Status: adapter.PushPermanent, Reason: reason})
			continue
		}
		todo = append(todo, it)
		bodies = append(bodies, customerCreate{Email: it.Email, FirstName: it.FirstName, LastName: it.LastName, MetaData: meta})
	}
	for start := 0; start < len(todo); {
		n := min(max(int(c.batchSize.Load()), 1), len(todo)-start)
		var resp struct {
			Create []struct {
				batchItem
				DateModifiedGMT string `json:"date_modified_gmt"`
			} `json:"create"`
		}
		_, err := a.do(ctx, "creating woocommerce customers", http.MethodPost, "/customers/batch", nil,
			map[string]any{"create": bodies[start : start+n]}, &resp)
		if err != nil {
			if ctx.Err() != nil || adapter.KindOf(err) == adapter.KindAuth {
				return nil, err
			}
			st := adapter.PushRetryable
			if !adapter.IsRetryable(err) {
				st = adapter.PushPermanent
			}
			for _, it := range todo[start : start+n] {
				out = append(out, adapter.CreateResult{ID: it.ID, Status: st, Reason: err.Error(), RetryAfter: adapter.RetryAfterOf(err)})
			}
			start += n
			continue
		}
		// The batch answers in request order.
		for i, it := range todo[start : start+n] {
			switch {
			case i >= len(resp.Create):
				out = append(out, adapter.CreateResult{ID: it.ID, Status: adapter.PushRetryable, Reason: "missing from the batch answer"})
			case resp.Create[i].Error == nil && resp.Create[i].ID > 0:
				out = append(out, adapter.CreateResult{ID: it.ID, Status: adapter.PushOK, New: true, Ref: m.ref("contact", resp.Create[i].ID, modifiedAt(resp.Create[i].DateModifiedGMT, c.now))})
			case resp.Create[i].Error != nil && resp.Create[i].Error.Code == "registration-error-email-exists":
				out = append(out, c.adopt(ctx, a, m, it, bodies[start+i]))
			default:
				e := resp.Create[i].Error
				reason := "no id in the batch answer"
				st := adapter.PushRetryable
				if e != nil {
					reason = e.Code + ": " + e.Message
					if e.Data.Status < 500 && e.Data.Status != http.StatusTooManyRequests {
						st = adapter.PushPermanent
					}
				}
				out = append(out, adapter.CreateResult{ID: it.ID, Status: st, Reason: reason})
			}
		}
		start += n
	}
	return out, nil
}

// adopt finds the customer registered under the item's email and writes
// its meta there.
func (c *Connector) adopt(ctx context.Context, a *api, m *mapper, it adapter.CreateItem, body customerCreate) adapter.CreateResult {
	var found []struct {
		ID    int    `json:"id"`
		Email string `json:"email"`
	}
	q := url.Values{"email": {it.Email}, "role": {"all"}}
	if _, err := a.do(ctx, "finding the woocommerce customer of an email", http.MethodGet, "/customers", q, nil, &found); err != nil {
		return adapter.CreateResult{ID: it.ID, Status: adapter.PushRetryable, Reason: err.Error()}
	}
	if len(found) != 1 {
		return adapter.CreateResult{ID: it.ID, Status: adapter.PushRetryable,
			Reason: fmt.Sprintf("woocommerce says the email is registered, but %d customers have it", len(found))}
	}
	if len(body.MetaData) > 0 {
		if _, err := a.do(ctx, "writing woocommerce customer meta", http.MethodPut, "/customers/"+strconv.Itoa(found[0].ID), nil,
			map[string]any{"meta_data": body.MetaData}, nil); err != nil {
			return adapter.CreateResult{ID: it.ID, Status: adapter.PushRetryable, Reason: err.Error()}
		}
	}
	return adapter.CreateResult{ID: it.ID, Status: adapter.PushOK, Ref: m.ref("contact", found[0].ID, c.now())}
}

// modifiedAt reads a record's date_modified_gmt, or the clock when it has
// none.
func modifiedAt(gmt string, now func() time.Time) time.Time {
	if t, err := wooTime("date_modified_gmt", gmt); err == nil && !t.IsZero() {
		return t
	}
	return now()
}
