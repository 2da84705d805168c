package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// searchResultsMax is HubSpot's cap on results reachable by paging one search.
const searchResultsMax = 10000

// objSpec says how one domain object is read.
type objSpec struct {
	object  string   // domain.Object*
	path    string   // segment after /crm/v3/objects/ (the spec names deals 0-3)
	v4      string   // name in the v4 associations API
	modProp string   // lastmodifieddate or hs_lastmodifieddate
	props   []string // properties requested
	label   string   // for messages
}

func (s state) spec(object string) (objSpec, bool) {
	switch object {
	case domain.ObjectContact:
		return objSpec{domain.ObjectContact, "contacts", "contacts", "lastmodifieddate", contactProps(s.cfg.Properties), "contact"}, true
	case domain.ObjectCompany:
		return objSpec{domain.ObjectCompany, "companies", "companies", "hs_lastmodifieddate", companyProps(), "company"}, true
	case domain.ObjectDeal:
		return objSpec{domain.ObjectDeal, "0-3", "deals", "hs_lastmodifieddate", dealProps(), "deal"}, true
	case domain.ObjectOrder:
		return objSpec{domain.ObjectOrder, "orders", "orders", "hs_lastmodifieddate", orderProps(), "order"}, true
	}
	return objSpec{}, false
}

// cursor is the opaque resume point of a pull, encoded as JSON.
//
// In "inc" mode everything modified at or before Since has been delivered;
// with Tie set, only what was modified strictly before Since, plus the
// records modified exactly at Since with an id up to SinceID. Archived is
// the start of the last completed archived sweep; ArchStart/ArchAfter
// resume one in progress. In "full" mode After resumes a list sweep that
// began at SweepStart.
type cursor struct {
	V          int    `json:"v"`
	Mode       string `json:"mode"`
	After      string `json:"after,omitempty"`
	SweepStart int64  `json:"sweep_start,omitempty"`
	Since      int64  `json:"since,omitempty"`
	SinceID    int64  `json:"since_id,omitempty"`
	Tie        bool   `json:"tie,omitempty"`
	Archived   int64  `json:"archived,omitempty"`
	ArchStart  int64  `json:"arch_start,omitempty"`
	ArchAfter  string `json:"arch_after,omitempty"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return string(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, adapter.Permanent(fmt.Errorf("decoding hubspot cursor %q: %w", s, err))
	}
	if c.Mode != "full" && c.Mode != "inc" && c.Mode != "" {
		return c, adapter.Permanent(fmt.Errorf("decoding hubspot cursor: unknown mode %q", c.Mode))
	}
	return c, nil
}

type pageResp struct {
	Total   int               `json:"total"`
	Results []json.RawMessage `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

func (p pageResp) next() string {
	if p.Paging == nil || p.Paging.Next == nil {
		return ""
	}
	return p.Paging.Next.After
}

type puller struct {
	c         *Connector
	st        state
	spec      objSpec
	sink      adapter.PageSink
	listSize  int
	findSize  int
	companies map[string]*domain.Company

	sweepLocal time.Time // our clock when a new full sweep began
	firstSync  bool      // the sweep is the first sync of this object
}

// Pull reads changes of one object type; see cursor for the resume rules
// and README.md for the calls made.
func (c *Connector) Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error {
	st, err := c.state()
	if err != nil {
		return err
	}
	spec, ok := st.spec(req.Object)
	if !ok {
		return adapter.Permanent(fmt.Errorf("pulling hubspot %q: %w", req.Object, adapter.ErrUnsupported))
	}
	cur, err := decodeCursor(req.Cursor)
	if err != nil {
		return err
	}
	p := &puller{c: c, st: st, spec: spec, sink: sink, listSize: st.cfg.PageSize, findSize: st.cfg.SearchSize, companies: map[string]*domain.Company{}}
	if req.PageSize > 0 {
		p.listSize, p.findSize = min(p.listSize, req.PageSize), min(p.findSize, req.PageSize)
	}
	switch {
	case cur.Mode == "" || (req.Full && cur.Mode == "inc"):
		// SweepStart is fixed in HubSpot's time once the first page has
		// taught us its clock (see full); 0 until then.
		p.sweepLocal, p.firstSync = c.now(), cur.Mode == ""
		cur = cursor{V: 1, Mode: "full"}
		fallthrough
	case cur.Mode == "full":
		if err := p.full(ctx, &cur); err != nil {
			return err
		}
	default:
		if err := p.incremental(ctx, &cur); err != nil {
			return err
		}
	}
	now := c.hubspotNow().UnixMilli()
	due := st.cfg.ArchivedSweep == 0 || cur.ArchStart != 0 || time.Duration(now-cur.Archived)*time.Millisecond >= st.cfg.ArchivedSweep
	if cur.Archived == 0 || due {
		return p.archived(ctx, &cur)
	}
	return nil
}

func (p *puller) objectsURL(q url.Values) string {
	return p.st.url("/crm/v3/objects/" + p.spec.path + "?" + q.Encode())
}

// full sweeps the list endpoint (ascending ids, 100 per page). The next
// page is fetched while the current one is mapped and stored, so a sweep is
// bound by the rate budget and the network, not by our own processing.
func (p *puller) full(ctx context.Context, cur *cursor) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetched struct {
		resp pageResp
		err  error
	}
	pages := make(chan fetched, 1)
	go func(after string) {
		defer close(pages)
		for {
			q := url.Values{"limit": {strconv.Itoa(p.listSize)}, "properties": {strings.Join(p.spec.props, ",")}, "archived": {"false"}}
			if after != "" {
				q.Set("after", after)
			}
			var f fetched
			if err := call(ctx, p.st.api, http.MethodGet, p.objectsURL(q), nil, &f.resp); err != nil {
				f.err = fmt.Errorf("listing hubspot %s: %w", p.spec.path, err)
			}
			select {
			case pages <- f:
			case <-ctx.Done():
				return
			}
			if after = f.resp.next(); f.err != nil || after == "" {
				return
			}
		}
	}(cur.After)
	for f := range pages {
		if f.err != nil {
			return f.err
		}
		if cur.SweepStart == 0 {
			// Records changed from here on must come again incrementally;
			// "here" in HubSpot's clock, now known from the first answer.
			start := p.sweepLocal
			if skew := time.Duration(p.st.skew.Load()); skew != 0 {
				start = start.Add(skew - time.Second) // see hubspotNow
			}
			cur.SweepStart = start.UnixMilli()
			if p.firstSync {
				cur.Archived = cur.SweepStart // a first sync has nothing to delete
			}
		}
		page, err := p.build(ctx, f.resp.Results)
		if err != nil {
			return err
		}
		if n := f.resp.next(); n != "" {
			cur.After = n
		} else {
			*cur = cursor{V: 1, Mode: "inc", Since: cur.SweepStart - 1, Archived: cur.Archived, ArchStart: cur.ArchStart, ArchAfter: cur.ArchAfter}
		}
		page.Cursor = cur.encode()
		if err := p.sink(ctx, page); err != nil {
			return err
		}
		if cur.Mode == "inc" {
			return nil
		}
	}
	return ctx.Err()
}

type searchFilter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        string `json:"value,omitempty"`
	HighValue    string `json:"highValue,omitempty"`
}

type searchGroup struct {
	Filters []searchFilter `json:"filters"`
}

type searchRequest struct {
	FilterGroups []searchGroup `json:"filterGroups"`
	Sorts        []string      `json:"sorts"`
	Properties   []string      `json:"properties"`
	Limit        int           `json:"limit"`
	After        string        `json:"after"`
}

func (p *puller) searchPage(ctx context.Context, filters []searchFilter, sortBy, after string) (pageResp, error) {
	body := searchRequest{FilterGroups: []searchGroup{{Filters: filters}}, Sorts: []string{sortBy},
		Properties: p.spec.props, Limit: p.findSize, After: after}
	var resp pageResp
	// A search changes nothing: a broken answer is retried like a GET's.
	if err := call(httpkit.AsRead(ctx), p.st.search, http.MethodPost, p.st.url("/crm/v3/objects/"+p.spec.path+"/search"), body, &resp); err != nil {
		return resp, fmt.Errorf("searching hubspot %s: %w", p.spec.path, err)
	}
	return resp, nil
}

func ms(v int64) string { return strconv.FormatInt(v, 10) }

// incremental walks the search API in (modified, id) order; see cursor.
func (p *puller) incremental(ctx context.Context, cur *cursor) error {
	upper := p.c.hubspotNow().Add(-p.st.cfg.SearchLag).UnixMilli()
	for {
		if cur.Tie {
			if err := p.tie(ctx, cur); err != nil {
				return err
			}
		}
		done, err := p.forward(ctx, cur, upper)
		if err != nil || done {
			return err
		}
	}
}

// tie reads every record modified exactly at cur.Since by ascending id.
// Each page is a fresh keyset query (id > last id seen), so HubSpot's
// 10,000-result cap never applies however many records share the time.
func (p *puller) tie(ctx context.Context, cur *cursor) error {
	for {
		resp, err := p.searchPage(ctx, []searchFilter{
			{PropertyName: p.spec.modProp, Operator: "EQ", Value: ms(cur.Since)},
			{PropertyName: "hs_object_id", Operator: "GT", Value: ms(cur.SinceID)},
		}, "hs_object_id", "0")
		if err != nil {
			return err
		}
		page, err := p.build(ctx, resp.Results)
		if err != nil {
			return err
		}
		advanced := false
		for _, raw := range resp.Results {
			if id := rawID(raw); id > cur.SinceID {
				cur.SinceID, advanced = id, true
			}
		}
		if resp.next() == "" || !advanced {
			cur.Tie, cur.SinceID = false, 0
		}
		page.Cursor = cur.encode()
		if err := p.sink(ctx, page); err != nil {
			return err
		}
		if !cur.Tie {
			return nil
		}
	}
}

func rawID(raw json.RawMessage) int64 {
	var o struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &o)
	n, _ := strconv.ParseInt(o.ID, 10, 64)
	return n
}

// modOf returns a record's modified time in epoch ms.
func (p *puller) modOf(raw json.RawMessage) int64 {
	var o hsObject
	_ = json.Unmarshal(raw, &o)
	if t, ok := parseTime(o.prop(p.spec.modProp)); ok {
		return t.UnixMilli()
	}
	if t, ok := parseTime(o.UpdatedAt); ok {
		return t.UnixMilli()
	}
	return 0
}

// forward reads records modified after cur.Since (up to upper) in modified
// order, delivering a timestamp only once all its records are seen. It
// returns done=false when the caller must loop: to restart before the
// 10,000-result cap, or to walk a crowded timestamp in tie mode.
func (p *puller) forward(ctx context.Context, cur *cursor, upper int64) (bool, error) {
	if cur.Since >= upper {
		return true, nil
	}
	since, after, got := cur.Since, "0", 0
	var pending []json.RawMessage
	pendMod := int64(-1)
	for {
		if got+p.findSize > searchResultsMax {
			return false, nil
		}
		resp, err := p.searchPage(ctx, []searchFilter{
			{PropertyName: p.spec.modProp, Operator: "GT", Value: ms(since)},
			{PropertyName: p.spec.modProp, Operator: "LTE", Value: ms(upper)},
		}, p.spec.modProp, after)
		if err != nil {
			return false, err
		}
		got += len(resp.Results)
		var out []json.RawMessage
		doneThrough := cur.Since
		for _, raw := range resp.Results {
			m := p.modOf(raw)
			if m > pendMod {
				if pendMod >= 0 {
					out = append(out, pending...)
					doneThrough = pendMod
				}
				pending, pendMod = pending[:0:0], m
			}
			pending = append(pending, raw)
		}
		after = resp.next()
		if after == "" && pendMod >= 0 {
			out = append(out, pending...)
			doneThrough, pending = pendMod, nil
		}
		if len(out) > 0 {
			page, err := p.build(ctx, out)
			if err != nil {
				return false, err
			}
			cur.Since, cur.Tie, cur.SinceID = doneThrough, false, 0
			page.Cursor = cur.encode()
			if err := p.sink(ctx, page); err != nil {
				return false, err
			}
		}
		if after == "" {
			return true, nil
		}
		if len(pending) >= p.findSize {
			// A whole page shares one timestamp: walk it by id instead.
			cur.Since, cur.Tie, cur.SinceID = pendMod, true, 0
			return false, nil
		}
	}
}

// archived lists archived records and reports those archived since the
// last sweep as deletions.
func (p *puller) archived(ctx context.Context, cur *cursor) error {
	if cur.ArchStart == 0 {
		cur.ArchStart = p.c.hubspotNow().UnixMilli()
	}
	since := cur.Archived - 60_000 // clock skew margin; duplicate deletes are harmless
	for {
		q := url.Values{"limit": {strconv.Itoa(p.listSize)}, "archived": {"true"}, "properties": {"hs_object_id"}}
		if cur.ArchAfter != "" {
			q.Set("after", cur.ArchAfter)
		}
		var resp pageResp
		if err := call(ctx, p.st.api, http.MethodGet, p.objectsURL(q), nil, &resp); err != nil {
			return fmt.Errorf("listing archived hubspot %s: %w", p.spec.path, err)
		}
		var page adapter.Page
		for _, raw := range resp.Results {
			o, err := decodeObject(raw)
			if err != nil {
				page.Quarantined = append(page.Quarantined, p.reject(raw, o.ID, err))
				continue
			}
			at, ok := parseTime(o.ArchivedAt)
			if !ok {
				_, at = o.times()
			}
			if cur.Archived > 0 && at.UnixMilli() < since {
				continue
			}
			page.Changes = append(page.Changes, adapter.Change{Kind: adapter.ChangeDelete, Ref: p.st.ref(p.spec.object, o.ID, at)})
		}
		if n := resp.next(); n != "" {
			cur.ArchAfter = n
		} else {
			cur.Archived, cur.ArchStart, cur.ArchAfter = cur.ArchStart, 0, ""
		}
		page.Cursor = cur.encode()
		if err := p.sink(ctx, page); err != nil {
			return err
		}
		if cur.ArchStart == 0 {
			return nil
		}
	}
}

func (p *puller) reject(raw json.RawMessage, id string, err error) adapter.Rejected {
	return adapter.Rejected{Ref: p.st.ref(p.spec.object, id, time.Time{}),
		Reason: fmt.Sprintf("hubspot %s %s: %v", p.spec.label, id, err), Raw: append([]byte(nil), raw...)}
}

// build maps raw records into changes, quarantining those that cannot be
// mapped, and enriches them (companies, associations, line items).
func (p *puller) build(ctx context.Context, raws []json.RawMessage) (adapter.Page, error) {
	var page adapter.Page
	for _, raw := range raws {
		o, err := decodeObject(raw)
		if err != nil {
			page.Quarantined = append(page.Quarantined, p.reject(raw, o.ID, err))
			continue
		}
		ch, err := p.st.mapChange(p.spec.object, o)
		if err != nil {
			page.Quarantined = append(page.Quarantined, p.reject(raw, o.ID, err))
			continue
		}
		page.Changes = append(page.Changes, ch...)
	}
	if err := p.st.enrich(ctx, p.spec, page.Changes, p.companies); err != nil {
		return page, err
	}
	return page, nil
}

// mapChange maps one record to its upsert plus a merge per merged id.
func (s state) mapChange(object string, o hsObject) ([]adapter.Change, error) {
	var up adapter.Change
	up.Kind = adapter.ChangeUpsert
	switch object {
	case domain.ObjectContact:
		up.Contact = s.mapContact(o)
		up.Ref = up.Contact.Ref
	case domain.ObjectCompany:
		co, err := s.mapCompany(o)
		if err != nil {
			return nil, err
		}
		up.Company, up.Ref = co, co.Ref
	case domain.ObjectDeal:
		ord, err := s.mapDeal(o)
		if err != nil {
			return nil, err
		}
		up.Order, up.Ref = ord, ord.Ref
	case domain.ObjectOrder:
		ord, err := s.mapOrder(o)
		if err != nil {
			return nil, err
		}
		up.Order, up.Ref = ord, ord.Ref
	}
	out := []adapter.Change{up}
	for _, m := range splitMulti(o.prop("hs_merged_object_ids")) {
		out = append(out, adapter.Change{Kind: adapter.ChangeMerge, Ref: s.ref(object, m, time.Time{}), MergedInto: up.Ref})
	}
	return out, nil
}
