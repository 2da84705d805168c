package marketo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// leadFields are the fields read of every lead.
const leadFields = "id,email,firstName,lastName,createdAt,updatedAt"

// lead is a lead as Get Leads by Filter returns it.
type lead struct {
	ID        int       `json:"id"`
	Email     string    `json:"email"`
	FirstName string    `json:"firstName"`
	LastName  string    `json:"lastName"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// activity is an activity as the activities endpoints return it.
type activity struct {
	ID     int       `json:"id"`
	LeadID int       `json:"leadId"`
	Date   time.Time `json:"activityDate"`
	TypeID int       `json:"activityTypeId"`
}

// cursor is where a pull resumes: the paging token of the lead changes
// and the time of the latest engagement activity seen; during a first
// pull by bulk extract, also the creation times of the leads still to
// extract, [BulkFrom, BulkTo] (the token is BulkTo's).
type cursor struct {
	Token    string    `json:"token,omitempty"`
	Engaged  time.Time `json:"engaged,omitzero"`
	BulkFrom time.Time `json:"bulkFrom,omitzero"`
	BulkTo   time.Time `json:"bulkTo,omitzero"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return c, adapter.Permanent(fmt.Errorf("marketo: cursor %q is not one this plugin wrote: %w", s, err))
	}
	return c, nil
}

func ref(id int, modified time.Time) domain.ExternalRef {
	return domain.ExternalRef{Platform: Name, ObjectType: domain.ObjectContact, ID: strconv.Itoa(id), LastModified: modified}
}

// change maps a lead to a contact with its engagement (eng nil: none read).
func change(l lead, eng map[int]*engagement) adapter.Change {
	r := ref(l.ID, l.UpdatedAt)
	c := &domain.Contact{Ref: r, FirstName: l.FirstName, LastName: l.LastName, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt,
		Attributes: map[string]string{}}
	if l.Email != "" {
		c.Emails = []string{l.Email}
	}
	if eng != nil {
		e := eng[l.ID]
		if e == nil {
			e = &engagement{}
		}
		e.put(c.Attributes)
	}
	return adapter.Change{Kind: adapter.ChangeUpsert, Ref: r, Contact: c}
}

// pagingToken returns the paging token of since.
func (p *Plugin) pagingToken(ctx context.Context, since time.Time) (string, error) {
	env, err := p.call(ctx, request{op: "paging token", method: http.MethodGet, path: "/rest/v1/activities/pagingtoken.json",
		query: url.Values{"sinceDatetime": {since.UTC().Format(time.RFC3339)}}})
	if err != nil {
		return "", err
	}
	return env.NextPageToken, nil
}

// Pull implements sdk.Plugin. A pull reads the lead changes (New Lead and
// Change Data Value activities) after the cursor's paging token, a page
// of at most page_size activities at a time, and reads their leads by id
// (one call per page); a lead that changed but is gone was deleted. The
// first pull starts at history ago; with bulk_extract it reads the leads
// created since history ago with bulk lead extract jobs instead, and the
// lead changes from its start on. When the changes are read, leads whose
// engagement moved without a change are read too.
func (p *Plugin) Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error {
	if req.Object != domain.ObjectContact {
		return adapter.Permanent(fmt.Errorf("marketo: object %q: %w", req.Object, adapter.ErrUnsupported))
	}
	cur, err := decodeCursor(req.Cursor)
	if err != nil {
		return err
	}
	if req.Full {
		cur = cursor{}
	}
	// A later pull (from a cursor) also reads the leads whose engagement
	// moved since; a first pull reads every lead anyway.
	later := cur.Token != "" && cur.BulkTo.IsZero()
	p.mu.Lock()
	cfg := p.cfg
	p.mu.Unlock()
	if cur.Token == "" {
		since := time.Now().Add(-cfg.History).UTC().Truncate(time.Second)
		if cfg.BulkExtract {
			// The leads created until now come from bulk extracts; the
			// changes from now on (made while the jobs run included)
			// from the lead changes.
			cur.BulkFrom, cur.BulkTo = since, time.Now().UTC().Truncate(time.Second)
			since = cur.BulkTo
		}
		if cur.Token, err = p.pagingToken(ctx, since); err != nil {
			return fmt.Errorf("marketo: starting a pull: %w", err)
		}
	}
	var eng map[int]*engagement
	if cfg.Engagement {
		if eng, err = p.engagement(ctx, nil); err != nil {
			return err
		}
	}
	size := cfg.PageSize
	if req.PageSize > 0 && req.PageSize < size {
		size = req.PageSize
	}
	size = min(size, maxBatch)
	seen := map[int]bool{}
	if !cur.BulkTo.IsZero() {
		// The leads changed since the extract began come again below.
		if cur, err = p.bulkLeads(ctx, cur, cfg.BulkPoll, size, eng, sink); err != nil {
			return err
		}
	}
	for {
		env, err := p.call(ctx, request{op: "lead changes", method: http.MethodGet, path: "/rest/v1/activities/leadchanges.json",
			query: url.Values{"nextPageToken": {cur.Token}, "fields": {"email"}, "batchSize": {strconv.Itoa(size)}}})
		if err != nil {
			return fmt.Errorf("marketo: reading lead changes: %w", err)
		}
		var acts []activity
		if err := decode(env, "lead changes", &acts); err != nil {
			return err
		}
		var ids []int
		for _, a := range acts {
			if !seen[a.LeadID] {
				seen[a.LeadID] = true
				ids = append(ids, a.LeadID)
			}
		}
		page := adapter.Page{}
		if page.Changes, err = p.leadsByID(ctx, ids, eng); err != nil {
			return err
		}
		if env.NextPageToken != "" {
			cur.Token = env.NextPageToken
		}
		done := !env.MoreResult
		if done && eng != nil {
			var more []int
			for id, e := range eng {
				if !seen[id] && e.last.After(cur.Engaged) {
					more = append(more, id)
				}
			}
			if later {
				extra, err := p.leadsByID(ctx, sortInts(more), eng)
				if err != nil {
					return err
				}
				page.Changes = append(page.Changes, dropDeletes(extra)...)
			}
			cur.Engaged = latest(eng, cur.Engaged)
		}
		page.Cursor = cur.encode()
		if len(page.Changes) > 0 || done {
			if err := sink(ctx, page); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
	}
}

// leadsByID reads leads by id, 300 a call; an id Marketo no longer has
// comes back as a delete.
func (p *Plugin) leadsByID(ctx context.Context, ids []int, eng map[int]*engagement) ([]adapter.Change, error) {
	var out []adapter.Change
	for len(ids) > 0 {
		n := min(len(ids), maxBatch)
		chunk := ids[:n]
		ids = ids[n:]
		vals := make([]string, n)
		for i, id := range chunk {
			vals[i] = strconv.Itoa(id)
		}
		env, err := p.call(ctx, request{op: "leads by id", method: http.MethodGet, path: "/rest/v1/leads.json",
			query: url.Values{"filterType": {"id"}, "filterValues": {strings.Join(vals, ",")}, "fields": {leadFields}}})
		if err != nil {
			return nil, fmt.Errorf("marketo: reading leads: %w", err)
		}
		var leads []lead
		if err := decode(env, "leads by id", &leads); err != nil {
			return nil, err
		}
		found := map[int]bool{}
		for _, l := range leads {
			found[l.ID] = true
			out = append(out, change(l, eng))
		}
		for _, id := range chunk {
			if !found[id] {
				out = append(out, adapter.Change{Kind: adapter.ChangeDelete, Ref: ref(id, time.Time{})})
			}
		}
	}
	return out, nil
}

func dropDeletes(cs []adapter.Change) []adapter.Change {
	out := cs[:0]
	for _, c := range cs {
		if c.Kind != adapter.ChangeDelete {
			out = append(out, c)
		}
	}
	return out
}

// Fetch implements sdk.Fetcher: leads by id, 300 a call; one that no
// longer exists comes back as a delete.
func (p *Plugin) Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error) {
	if req.Object != domain.ObjectContact {
		return nil, adapter.Permanent(fmt.Errorf("marketo: object %q: %w", req.Object, adapter.ErrUnsupported))
	}
	var ids []int
	var out []adapter.Change
	for _, s := range req.IDs {
		id, err := strconv.Atoi(s)
		if err != nil || id <= 0 {
			out = append(out, adapter.Change{Kind: adapter.ChangeDelete, Ref: domain.ExternalRef{Platform: Name, ObjectType: domain.ObjectContact, ID: s}})
			continue
		}
		ids = append(ids, id)
	}
	p.mu.Lock()
	engaged := p.cfg.Engagement
	p.mu.Unlock()
	var eng map[int]*engagement
	if engaged && len(ids) > 0 {
		var err error
		if eng, err = p.engagement(ctx, ids); err != nil {
			return nil, err
		}
	}
	more, err := p.leadsByID(ctx, ids, eng)
	return append(out, more...), err
}
