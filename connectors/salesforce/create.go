package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

var _ adapter.Creator = (*Connector)(nil)

// CreatePolicy reports the `create` setting; Salesforce has no cap.
func (c *Connector) CreatePolicy() adapter.CreatePolicy {
	if c.ready() != nil {
		return adapter.CreatePolicy{Mode: adapter.CreateNever}
	}
	c.mu.Lock()
	mode, _ := adapter.ParseCreateMode(c.cfg.Create) // the spec's enum checked it
	c.mu.Unlock()
	return adapter.CreatePolicy{Mode: mode, Allowed: true}
}

// EstimateCreateCalls mirrors Create: one upsert per Contact.
func (c *Connector) EstimateCreateCalls(n int) int { return n }

// upsertResult is the answer to an upsert by external id.
type upsertResult struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Created bool   `json:"created"`
}

// duplicateError is the DUPLICATES_DETECTED error a blocking duplicate
// rule answers with, as much as Create reads: the matched records.
type duplicateError struct {
	ErrorCode       string `json:"errorCode"`
	DuplicateResult struct {
		MatchResults []struct {
			MatchRecords []struct {
				Record struct {
					ID string `json:"Id"`
				} `json:"record"`
			} `json:"matchRecords"`
		} `json:"matchResults"`
	} `json:"duplicateResult"`
}

// Create implements adapter.Creator: one upsert by external id per person
// (PATCH /sobjects/Contact/{write_back.external_id_field}/{profile id}),
// so an attempt repeated after a crash updates the Contact the first one
// created. The body sets LastName (required; the email's local part when
// the profile has none), FirstName, Email and the write-back fields.
// When a duplicate rule blocks the save (400 DUPLICATES_DETECTED) because
// the org has the person under another record, Create takes the first
// matched Contact instead, stamping it with the external id and the
// write-back fields, so later upserts find it: the org gains no
// duplicate.
func (c *Connector) Create(ctx context.Context, req adapter.CreateRequest) ([]adapter.CreateResult, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	field := c.cfg.ExternalIDField
	c.mu.Unlock()
	_, org, _, err := c.ts.session(ctx)
	if err != nil {
		return nil, c.mapErr(err, "creating salesforce contacts")
	}
	out := make([]adapter.CreateResult, 0, len(req.Items))
	for _, it := range req.Items {
		body := map[string]any{"Email": it.Email, "LastName": it.LastName}
		if it.LastName == "" {
			local, _, _ := strings.Cut(it.Email, "@")
			body["LastName"] = local
		}
		if it.FirstName != "" {
			body["FirstName"] = it.FirstName
		}
		bad := ""
		for key, v := range it.Properties {
			name := req.Targets[key]
			if name == "" {
				bad = fmt.Sprintf("no salesforce field for target %q: run EnsureTargets first", key)
				break
			}
			body[name] = v
		}
		if bad != "" || it.ProfileID == "" {
			if bad == "" {
				bad = "no profile id to key the contact by"
			}
			out = append(out, adapter.CreateResult{ID: it.ID, Status: adapter.PushPermanent, Reason: bad})
			continue
		}
		res, err := c.upsertContact(ctx, field, it.ProfileID, body)
		if err != nil {
			if adapter.KindOf(err) == adapter.KindAuth {
				return nil, err
			}
			status := adapter.PushRetryable
			if adapter.KindOf(err) == adapter.KindPermanent {
				status = adapter.PushPermanent
			}
			out = append(out, adapter.CreateResult{ID: it.ID, Status: status, Reason: err.Error(), RetryAfter: adapter.RetryAfterOf(err)})
			continue
		}
		out = append(out, adapter.CreateResult{ID: it.ID, Status: adapter.PushOK, New: res.Created,
			Ref: domain.ExternalRef{Platform: Name, Account: org, ObjectType: refContact, ID: res.ID}})
	}
	return out, nil
}

// upsertContact upserts one Contact by external id, and on a blocking
// duplicate rule adopts the matched Contact.
func (c *Connector) upsertContact(ctx context.Context, field, value string, body map[string]any) (upsertResult, error) {
	var res upsertResult
	path := "/sobjects/Contact/" + url.PathEscape(field) + "/" + url.PathEscape(value)
	err := c.sendJSON(ctx, http.MethodPatch, path, body, &res)
	if err == nil {
		return res, nil
	}
	var se *httpkit.StatusError
	if !errors.As(err, &se) {
		return res, c.mapErr(err, "upserting salesforce contact")
	}
	switch se.StatusCode {
	case http.StatusMultipleChoices:
		return res, adapter.Permanent(fmt.Errorf("upserting salesforce contact: several Contacts hold %s = %s; merge them", field, value))
	case http.StatusBadRequest:
		var dups []duplicateError
		_ = json.Unmarshal(se.Body, &dups)
		for _, d := range dups {
			if d.ErrorCode != "DUPLICATES_DETECTED" {
				continue
			}
			for _, m := range d.DuplicateResult.MatchResults {
				for _, r := range m.MatchRecords {
					if !validID(r.Record.ID) {
						continue
					}
					adopt := map[string]any{field: value}
					for k, v := range body {
						if k != "LastName" && k != "FirstName" && k != "Email" {
							adopt[k] = v
						}
					}
					if err := c.sendJSON(ctx, http.MethodPatch, "/sobjects/Contact/"+r.Record.ID, adopt, nil); err != nil {
						return res, c.mapErr(err, "stamping the duplicate salesforce contact "+r.Record.ID)
					}
					return upsertResult{ID: r.Record.ID, Success: true}, nil
				}
			}
		}
	}
	return res, c.mapErr(err, "upserting salesforce contact")
}
