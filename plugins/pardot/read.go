package pardot

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// baseFields are the prospect fields every read asks for (prospect-v5.html).
var baseFields = []string{"id", "email", "firstName", "lastName", "score", "grade", "optedOut", "createdAt", "updatedAt"}

// prospect is a prospect as a v5 read returns it: the base fields typed,
// the custom ones kept raw.
type prospect struct {
	ID        int       `json:"id"`
	Email     string    `json:"email"`
	FirstName string    `json:"firstName"`
	LastName  string    `json:"lastName"`
	Score     int       `json:"score"`
	Grade     string    `json:"grade"`
	OptedOut  bool      `json:"optedOut"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Custom    map[string]any
}

func (pr *prospect) UnmarshalJSON(b []byte) error {
	type plain prospect
	if err := json.Unmarshal(b, (*plain)(pr)); err != nil {
		return err
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	pr.Custom = map[string]any{}
	for k, v := range all {
		if id, ok := strings.CutSuffix(k, "__c"); ok {
			pr.Custom[id] = v
		}
	}
	return nil
}

type prospectPage struct {
	Values      []prospect `json:"values"`
	NextPageURL string     `json:"nextPageUrl"`
}

// cursor is where a pull resumes: the updatedAt of the last prospect
// delivered and its id. Rows are ordered by updatedAt then id, so a
// resumed query from Since (inclusive) skips exactly the rows of that
// second with an id up to LastID, the SystemModstamp-and-Id method.
// Engaged is the time of the latest visitor activity seen.
type cursor struct {
	Since   time.Time `json:"since,omitzero"`
	LastID  int       `json:"last_id,omitempty"`
	Engaged time.Time `json:"engaged,omitzero"`
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
		return c, adapter.Permanent(fmt.Errorf("pardot: cursor %q is not one this plugin wrote: %w", s, err))
	}
	return c, nil
}

func ref(id int, modified time.Time) domain.ExternalRef {
	return domain.ExternalRef{Platform: Name, ObjectType: domain.ObjectContact, ID: strconv.Itoa(id), LastModified: modified}
}

// readFields returns the custom field ids of read_fields.
func (p *Plugin) readFields() []string {
	var out []string
	for _, f := range strings.Split(p.cfg.ReadFields, ",") {
		if f = strings.TrimSuffix(strings.TrimSpace(f), "__c"); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (p *Plugin) fieldsParam() string {
	fs := append([]string{}, baseFields...)
	for _, f := range p.readFields() {
		fs = append(fs, f+"__c")
	}
	return strings.Join(fs, ",")
}

// change maps a prospect to a contact: score and grade, the chosen
// custom fields, engagement, and optedOut as revoked email consent.
func (p *Plugin) change(pr prospect, eng map[int]*engagement) adapter.Change {
	r := ref(pr.ID, pr.UpdatedAt)
	c := &domain.Contact{Ref: r, FirstName: pr.FirstName, LastName: pr.LastName, CreatedAt: pr.CreatedAt, UpdatedAt: pr.UpdatedAt,
		Attributes: map[string]string{"pardot_score": strconv.Itoa(pr.Score), "pardot_grade": pr.Grade}}
	if pr.Email != "" {
		c.Emails = []string{pr.Email}
	}
	if pr.OptedOut {
		c.Consent.Email = domain.ConsentRevoked
	}
	for _, f := range p.readFields() {
		if v, ok := pr.Custom[f]; ok && v != nil {
			c.Attributes["pardot_"+f] = fmt.Sprint(v)
		}
	}
	if eng != nil {
		e := eng[pr.ID]
		if e == nil {
			e = &engagement{}
		}
		e.put(c.Attributes)
	}
	return adapter.Change{Kind: adapter.ChangeUpsert, Ref: r, Contact: c}
}

// Pull implements sdk.Plugin: prospects ordered by updatedAt and id,
// from the cursor's second on, a page at a time through nextPageUrl.
func (p *Plugin) Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error {
	if req.Object != domain.ObjectContact {
		return adapter.Permanent(fmt.Errorf("pardot: object %q: %w", req.Object, adapter.ErrUnsupported))
	}
	cur, err := decodeCursor(req.Cursor)
	if err != nil {
		return err
	}
	if req.Full {
		cur = cursor{}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var eng map[int]*engagement
	latestEng := cur.Engaged
	if p.cfg.Engagement {
		if eng, latestEng, err = p.engagement(ctx); err != nil {
			return err
		}
	}
	size := p.cfg.PageSize
	if req.PageSize > 0 && req.PageSize < size {
		size = req.PageSize
	}
	size = min(size, maxPageSize)
	q := url.Values{"fields": {p.fieldsParam()}, "orderBy": {"updatedAt,id"}, "limit": {strconv.Itoa(size)}}
	if !cur.Since.IsZero() {
		q.Set("updatedAtAfterOrEqualTo", cur.Since.Format(time.RFC3339))
	}
	next := "/api/v5/objects/prospects?" + q.Encode()
	seen := map[int]bool{}
	for {
		var body prospectPage
		if err := p.call(ctx, http.MethodGet, next, nil, &body); err != nil {
			return fmt.Errorf("pardot: querying prospects: %w", err)
		}
		page := adapter.Page{}
		for _, pr := range body.Values {
			if !cur.Since.IsZero() && pr.UpdatedAt.Equal(cur.Since) && pr.ID <= cur.LastID {
				continue // delivered before, in the same second
			}
			page.Changes = append(page.Changes, p.change(pr, eng))
			seen[pr.ID] = true
			cur.Since, cur.LastID = pr.UpdatedAt, pr.ID
		}
		next = body.NextPageURL
		done := next == ""
		if done && eng != nil {
			// Prospects whose engagement moved without an update.
			more, err := p.engagedSince(ctx, cur.Engaged, eng, seen)
			if err != nil {
				return err
			}
			page.Changes = append(page.Changes, more...)
			cur.Engaged = latestEng
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

// read returns prospect id, or ok false when there is none (404).
func (p *Plugin) read(ctx context.Context, id int) (prospect, bool, error) {
	var pr prospect
	err := p.call(ctx, http.MethodGet, "/api/v5/objects/prospects/"+strconv.Itoa(id)+"?fields="+url.QueryEscape(p.fieldsParam()), nil, &pr)
	if statusOf(err) == http.StatusNotFound {
		return pr, false, nil
	}
	if err != nil {
		return pr, false, fmt.Errorf("pardot: reading prospect %d: %w", id, err)
	}
	return pr, true, nil
}

// engagedSince reads the prospects not in seen with a visitor activity
// after since, one read each.
func (p *Plugin) engagedSince(ctx context.Context, since time.Time, eng map[int]*engagement, seen map[int]bool) ([]adapter.Change, error) {
	if since.IsZero() {
		return nil, nil // a first pull read every prospect
	}
	var ids []int
	for id, e := range eng {
		if !seen[id] && e.Last.After(since) {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	var out []adapter.Change
	for _, id := range ids {
		pr, ok, err := p.read(ctx, id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p.change(pr, eng))
		}
	}
	return out, nil
}

// Fetch implements sdk.Fetcher: prospects by id; one that no longer
// exists comes back as a delete.
func (p *Plugin) Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error) {
	if req.Object != domain.ObjectContact {
		return nil, adapter.Permanent(fmt.Errorf("pardot: object %q: %w", req.Object, adapter.ErrUnsupported))
	}
	var eng map[int]*engagement
	if p.cfg.Engagement {
		var err error
		if eng, _, err = p.engagement(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]adapter.Change, 0, len(req.IDs))
	for _, s := range req.IDs {
		id, err := strconv.Atoi(s)
		if err != nil {
			return nil, adapter.Permanent(fmt.Errorf("pardot: prospect id %q is not a number", s))
		}
		pr, ok, err := p.read(ctx, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, adapter.Change{Kind: adapter.ChangeDelete, Ref: ref(id, time.Time{})})
			continue
		}
		out = append(out, p.change(pr, eng))
	}
	return out, nil
}
