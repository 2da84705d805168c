package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

var _ adapter.Creator = (*Connector)(nil)

// CreatePolicy reports the `create` and `marketing_contacts_cap` settings.
func (c *Connector) CreatePolicy() adapter.CreatePolicy {
	st, err := c.state()
	if err != nil {
		return adapter.CreatePolicy{Mode: adapter.CreateNever}
	}
	mode, _ := adapter.ParseCreateMode(st.cfg.Create) // the spec's enum checked it
	return adapter.CreatePolicy{Mode: mode, Allowed: true, Cap: st.cfg.MarketingContactsCap,
		CapReason: "HubSpot bills marketing contacts (platforms.hubspot.marketing_contacts_cap)"}
}

// EstimateCreateCalls mirrors Create: one batch/upsert per 100 contacts.
func (c *Connector) EstimateCreateCalls(n int) int { return (n + batchMax - 1) / batchMax }

// upsertInput is SimplePublicObjectBatchInputUpsert: id is the value of
// the unique property idProperty names.
type upsertInput struct {
	ID                 string            `json:"id"`
	IDProperty         string            `json:"idProperty"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId,omitempty"`
	Properties         map[string]string `json:"properties"`
}

// upserted is SimplePublicUpsertObject, as much as Create reads.
type upserted struct {
	ID         string            `json:"id"`
	New        bool              `json:"new"`
	Properties map[string]string `json:"properties"`
	UpdatedAt  time.Time         `json:"updatedAt"`
}

// Create implements adapter.Creator with the contacts batch upsert
// (POST /crm/v3/objects/contacts/batch/upsert, 100 inputs per call) keyed
// by email (idProperty=email): a contact HubSpot already has under that
// email, such as one an earlier attempt created before a crash, is
// updated, not created again. Each item's write-back properties go with
// it; first and last name are set on the new contact.
func (c *Connector) Create(ctx context.Context, req adapter.CreateRequest) ([]adapter.CreateResult, error) {
	st, err := c.state()
	if err != nil {
		return nil, err
	}
	results := make([]adapter.CreateResult, 0, len(req.Items))
	var inputs []upsertInput
	var items []adapter.CreateItem
	for _, it := range req.Items {
		email := domain.NormalizeEmail(it.Email)
		if email == "" {
			results = append(results, adapter.CreateResult{ID: it.ID, Status: adapter.PushPermanent, Reason: "no email to create a hubspot contact with"})
			continue
		}
		props := map[string]string{"email": email}
		if it.FirstName != "" {
			props["firstname"] = it.FirstName
		}
		if it.LastName != "" {
			props["lastname"] = it.LastName
		}
		bad := ""
		for key, v := range it.Properties {
			name, ok := req.Targets[key]
			if !ok || name == "" {
				bad = fmt.Sprintf("no hubspot property for target %q: run EnsureTargets first", key)
				break
			}
			if v != "" {
				props[name] = v
			}
		}
		if bad != "" {
			results = append(results, adapter.CreateResult{ID: it.ID, Status: adapter.PushPermanent, Reason: bad})
			continue
		}
		inputs = append(inputs, upsertInput{ID: email, IDProperty: "email", ObjectWriteTraceID: it.ID, Properties: props})
		items = append(items, it)
	}
	for start := 0; start < len(inputs); start += batchMax {
		end := min(start+batchMax, len(inputs))
		got, err := st.upsert(withPriority(ctx), inputs[start:end], items[start:end])
		if err != nil {
			return nil, err
		}
		results = append(results, got...)
	}
	return results, nil
}

// upsert sends one batch/upsert and maps its answer back to the items by
// email. A whole-batch 4xx fails every item of the batch for good (HubSpot
// rejects the batch for one bad input); 429, 5xx and network failures are
// returned, so the caller retries the whole batch, which upsert makes
// harmless.
func (s state) upsert(ctx context.Context, inputs []upsertInput, items []adapter.CreateItem) ([]adapter.CreateResult, error) {
	var resp struct {
		Results []upserted   `json:"results"`
		Errors  []batchError `json:"errors"`
	}
	err := call(ctx, s.api, http.MethodPost, s.url("/crm/v3/objects/contacts/batch/upsert"), map[string]any{"inputs": inputs}, &resp)
	out := make([]adapter.CreateResult, 0, len(items))
	if err != nil {
		if adapter.KindOf(err) != adapter.KindPermanent {
			return nil, fmt.Errorf("creating %d hubspot contacts: %w", len(inputs), err)
		}
		reason := err.Error()
		if e, _, ok := apiErrorOf(err); ok && e.Message != "" {
			reason = e.Category + ": " + e.Message
		}
		for _, it := range items {
			out = append(out, adapter.CreateResult{ID: it.ID, Status: adapter.PushPermanent, Reason: reason})
		}
		return out, nil
	}
	byEmail := map[string]upserted{}
	for _, r := range resp.Results {
		byEmail[domain.NormalizeEmail(r.Properties["email"])] = r
	}
	failed := map[string]string{}
	for _, e := range resp.Errors {
		for _, id := range e.Context["ids"] {
			failed[domain.NormalizeEmail(id)] = e.Category + ": " + e.Message
		}
	}
	for i, it := range items {
		email := inputs[i].ID
		r, ok := byEmail[email]
		switch {
		case ok:
			out = append(out, adapter.CreateResult{ID: it.ID, Status: adapter.PushOK, New: r.New,
				Ref: s.ref(domain.ObjectContact, r.ID, r.UpdatedAt)})
		case failed[email] != "":
			status := adapter.PushRetryable
			if strings.HasPrefix(failed[email], "VALIDATION_ERROR") {
				status = adapter.PushPermanent
			}
			out = append(out, adapter.CreateResult{ID: it.ID, Status: status, Reason: failed[email]})
		default:
			out = append(out, adapter.CreateResult{ID: it.ID, Status: adapter.PushRetryable, Reason: "hubspot returned no result for the contact"})
		}
	}
	return out, nil
}
