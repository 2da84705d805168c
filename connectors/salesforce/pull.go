package salesforce

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// cursor is the opaque resume point of a Pull, JSON-encoded. Each sObject
// stream keeps the (SystemModstamp, Id) of the last record handed to the
// sink; a Bulk initial load in progress keeps its job and locator.
type cursor struct {
	V       int                  `json:"v"`
	Streams map[string]streamPos `json:"streams,omitempty"`
	Bulk    *bulkPos             `json:"bulk,omitempty"`
}

type streamPos struct {
	Since time.Time `json:"since"`
	ID    string    `json:"id,omitempty"`
}

// after reports whether (t, id) comes strictly after the position.
func (p streamPos) after(t time.Time, id string) bool {
	if c := t.Compare(p.Since); c != 0 {
		return c > 0
	}
	return id > p.ID
}

type bulkPos struct {
	Stream  string    `json:"stream"`
	JobID   string    `json:"job_id"`
	Locator string    `json:"locator,omitempty"`
	Max     streamPos `json:"max"` // newest row handed over so far
}

func decodeCursor(s string) (cursor, error) {
	c := cursor{V: 1, Streams: map[string]streamPos{}}
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil || c.V != 1 {
		return cursor{}, adapter.Permanent(fmt.Errorf("decoding salesforce cursor %q: not a cursor this connector wrote", s))
	}
	if c.Streams == nil {
		c.Streams = map[string]streamPos{}
	}
	return c, nil
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return string(b)
}

func (c cursor) clone() cursor {
	out := cursor{V: 1, Streams: make(map[string]streamPos, len(c.Streams))}
	for k, v := range c.Streams {
		out.Streams[k] = v
	}
	if c.Bulk != nil {
		b := *c.Bulk
		out.Bulk = &b
	}
	return out
}

// streamsOf lists the sObjects behind an object type, in pull order.
func (c *Connector) streamsOf(object string) ([]string, error) {
	switch object {
	case domain.ObjectContact:
		if c.cfg.Leads {
			return []string{"Contact", "Lead"}, nil
		}
		return []string{"Contact"}, nil
	case domain.ObjectCompany:
		return []string{"Account"}, nil
	case domain.ObjectOrder:
		if c.cfg.Orders {
			return []string{"Opportunity", "Order"}, nil
		}
		return []string{"Opportunity"}, nil
	}
	return nil, adapter.Permanent(fmt.Errorf("pulling salesforce %q: %w", object, adapter.ErrUnsupported))
}

// Pull reads changes of one object type. Each sObject is read by
// SystemModstamp then Id through queryAll (so deletions and merges come
// with the changes); an initial load above bulk.threshold rows goes
// through a Bulk API 2.0 queryAll job instead.
func (c *Connector) Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error {
	if err := c.ready(); err != nil {
		return err
	}
	streams, err := c.streamsOf(req.Object)
	if err != nil {
		return err
	}
	cur, err := decodeCursor(req.Cursor)
	if err != nil {
		return err
	}
	var previous map[string]streamPos
	if req.Full {
		previous = cur.Streams
		cur = cursor{V: 1, Streams: map[string]streamPos{}}
	}
	ctx = withPullPriority(ctx)
	_, org, _, err := c.ts.session(ctx)
	if err != nil {
		return c.mapErr(err, "signing in to salesforce")
	}
	if err := c.resolveEngagement(ctx); err != nil {
		return err
	}
	m := &mapper{org: org, currency: c.cfg.Currency, multi: c.cfg.MultiCurrency, engagement: c.cfg.Engagement}
	batch := req.PageSize
	if batch <= 0 || batch > c.cfg.PageSize {
		batch = c.cfg.PageSize
	}
	batch = max(batch, 200)
	for _, s := range streams {
		if err := c.checkPullQuota(ctx); err != nil {
			return err
		}
		if cur.Bulk != nil && cur.Bulk.Stream != s {
			continue // an unfinished bulk load of an earlier stream is resumed first below
		}
		pos, seen := cur.Streams[s]
		useBulk := cur.Bulk != nil
		if !useBulk && !seen && c.cfg.BulkThreshold > 0 {
			n, err := c.count(ctx, "SELECT COUNT() FROM "+s)
			if err != nil {
				return c.mapErr(err, "counting salesforce "+s)
			}
			useBulk = n > c.cfg.BulkThreshold
		}
		rest := true
		if useBulk {
			err := c.pullBulk(ctx, s, &cur, m, sink)
			switch {
			case err == nil:
				rest = false
			case errors.Is(err, errBulkFailed):
				c.log.WarnContext(ctx, "salesforce bulk query job failed; falling back to REST query", "object", s, "error", err)
				cur.Bulk = nil
				pos = cur.Streams[s]
			default:
				return err
			}
		}
		if rest {
			if err := c.pullREST(ctx, s, pos, &cur, m, batch, sink); err != nil {
				return err
			}
		}
		if prev, ok := previous[s]; ok {
			if err := c.pullPurged(ctx, s, prev.Since, cur, m, sink); err != nil {
				return err
			}
		}
	}
	return nil
}

// pullPurged reports, after a full sweep, records deleted since the
// previous sweep that queryAll can no longer see (emptied from the recycle
// bin), through getDeleted, which reaches back 15 days.
func (c *Connector) pullPurged(ctx context.Context, object string, since time.Time, cur cursor, m *mapper, sink adapter.PageSink) error {
	now := c.now().UTC()
	start := since
	if floor := now.Add(-15*24*time.Hour + time.Hour); start.Before(floor) {
		start = floor
	}
	q := url.Values{"start": {start.Format(time.RFC3339)}, "end": {now.Format(time.RFC3339)}}
	var res struct {
		DeletedRecords []struct {
			ID          string `json:"id"`
			DeletedDate string `json:"deletedDate"`
		} `json:"deletedRecords"`
	}
	if err := c.getJSON(ctx, "/sobjects/"+object+"/deleted/?"+q.Encode(), nil, &res); err != nil {
		return c.mapErr(err, "listing deleted salesforce "+object)
	}
	var page adapter.Page
	for _, d := range res.DeletedRecords {
		if !validID(d.ID) {
			continue
		}
		when, _ := row{"t": d.DeletedDate}.timeOf("t")
		page.Changes = append(page.Changes, adapter.Change{Kind: adapter.ChangeDelete, Ref: m.ref(refType(object), d.ID, when)})
	}
	if len(page.Changes) == 0 {
		return nil
	}
	page.Cursor = cur.encode()
	return sink(ctx, page)
}

func (c *Connector) pullREST(ctx context.Context, object string, pos streamPos, cur *cursor, m *mapper, batch int, sink adapter.PageSink) error {
	soql := c.selectSince(object, pos.Since, true)
	err := c.queryPages(ctx, soql, true, batch, func(recs []map[string]any) error {
		page := adapter.Page{}
		for _, rec := range recs {
			r := row(rec)
			mod, _ := r.timeOf("SystemModstamp")
			id := r.str("Id")
			if rec != nil && !mod.IsZero() && !pos.after(mod, id) {
				continue // already handed over before the cursor
			}
			ch, err := m.mapRow(object, r)
			if err != nil {
				page.Quarantined = append(page.Quarantined, adapter.Rejected{
					Ref:    m.ref(refType(object), id, mod),
					Reason: fmt.Sprintf("mapping salesforce %s %s: %v", object, id, err), Raw: rawOf(rec)})
			} else {
				page.Changes = append(page.Changes, ch)
			}
			if !mod.IsZero() && pos.after(mod, id) {
				pos = streamPos{Since: mod, ID: id}
			}
		}
		if len(page.Changes) == 0 && len(page.Quarantined) == 0 {
			return nil
		}
		if object == "Opportunity" && c.cfg.ContactRoles {
			if err := c.linkContactRoles(ctx, page.Changes, m); err != nil {
				return err
			}
		}
		if err := c.attachLineItems(ctx, object, page.Changes, m); err != nil {
			return err
		}
		next := cur.clone()
		next.Streams[object] = pos
		page.Cursor = next.encode()
		if err := sink(ctx, page); err != nil {
			return err
		}
		*cur = next
		return nil
	})
	if err != nil {
		return c.mapErr(err, "querying salesforce "+object)
	}
	// Mark the stream as seen even when it had no rows, so later pulls
	// are incremental and skip the COUNT() probe.
	if _, ok := cur.Streams[object]; !ok {
		cur.Streams[object] = pos
	}
	return nil
}

var errBulkFailed = errors.New("salesforce bulk query job failed")

type jobInfo struct {
	ID           string `json:"id"`
	State        string `json:"state"`
	ErrorMessage string `json:"errorMessage"`
}

// pullBulk runs (or resumes) a Bulk API 2.0 queryAll job for an initial
// load. Rows arrive unordered, so page cursors keep the job and locator;
// once the last page is stored the stream resumes from the newest row.
func (c *Connector) pullBulk(ctx context.Context, object string, cur *cursor, m *mapper, sink adapter.PageSink) error {
	if cur.Bulk == nil {
		var job jobInfo
		body := map[string]string{"operation": "queryAll", "query": c.selectSince(object, time.Time{}, false)}
		if err := c.sendJSON(ctx, http.MethodPost, "/jobs/query", body, &job); err != nil {
			return c.mapErr(err, "creating salesforce bulk query job for "+object)
		}
		cur.Bulk = &bulkPos{Stream: object, JobID: job.ID}
	}
	bp := *cur.Bulk
	for {
		var job jobInfo
		if err := c.getJSON(ctx, "/jobs/query/"+url.PathEscape(bp.JobID), nil, &job); err != nil {
			var se *httpkit.StatusError
			if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
				return fmt.Errorf("%w: job %s is gone", errBulkFailed, bp.JobID)
			}
			return c.mapErr(err, "polling salesforce bulk query job")
		}
		if job.State == "JobComplete" {
			break
		}
		if job.State == "Failed" || job.State == "Aborted" {
			return fmt.Errorf("%w: job %s %s: %s", errBulkFailed, bp.JobID, job.State, job.ErrorMessage)
		}
		t := time.NewTimer(c.cfg.BulkPollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	for {
		q := url.Values{"maxRecords": {strconv.Itoa(c.cfg.BulkPageSize)}}
		if bp.Locator != "" {
			q.Set("locator", bp.Locator)
		}
		u, err := c.dataURL(ctx, "/jobs/query/"+url.PathEscape(bp.JobID)+"/results?"+q.Encode())
		if err != nil {
			return c.mapErr(err, "signing in to salesforce")
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return fmt.Errorf("building salesforce bulk results request: %w", err)
		}
		req.Header.Set("Accept", "text/csv")
		resp, err := c.client.Do(ctx, req)
		if err != nil {
			return c.mapErr(err, "reading salesforce bulk results")
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return adapter.Retryable(fmt.Errorf("reading salesforce bulk results: %w", err))
		}
		next := resp.Header.Get("Sforce-Locator")
		page, maxPos, err := c.mapCSV(object, data, m, bp.Max)
		if err != nil {
			return err
		}
		if err := c.attachLineItems(ctx, object, page.Changes, m); err != nil {
			return err
		}
		bp.Max = maxPos
		nc := cur.clone()
		last := next == "" || next == "null"
		if last {
			// Rows came unordered: resume at the newest timestamp without
			// an Id tie-break, so a row written after the job's snapshot
			// with that same timestamp is read again rather than missed.
			nc.Bulk = nil
			nc.Streams[object] = streamPos{Since: bp.Max.Since}
		} else {
			bp.Locator = next
			b := bp
			nc.Bulk = &b
		}
		page.Cursor = nc.encode()
		if err := sink(ctx, page); err != nil {
			return err
		}
		*cur = nc
		if last {
			return nil
		}
	}
}

// mapCSV maps one page of Bulk CSV rows.
func (c *Connector) mapCSV(object string, data []byte, m *mapper, maxPos streamPos) (adapter.Page, streamPos, error) {
	rd := csv.NewReader(bytes.NewReader(data))
	rd.ReuseRecord = true
	header, err := rd.Read()
	if err == io.EOF {
		return adapter.Page{}, maxPos, nil
	}
	if err != nil {
		return adapter.Page{}, maxPos, adapter.Retryable(fmt.Errorf("parsing salesforce bulk CSV header: %w", err))
	}
	header = append([]string(nil), header...)
	var page adapter.Page
	r := make(row, len(header))
	line := 1
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			page.Quarantined = append(page.Quarantined, adapter.Rejected{
				Ref: m.ref(refType(object), "", time.Time{}), Reason: fmt.Sprintf("parsing salesforce bulk CSV line %d: %v", line, err)})
			continue
		}
		// One map serves every row: mapRow copies what it keeps.
		for i, h := range header {
			if i < len(rec) {
				r[h] = rec[i]
			} else {
				delete(r, h)
			}
		}
		id := r.str("Id")
		mod, _ := r.timeOf("SystemModstamp")
		ch, err := m.mapRow(object, r)
		if err != nil {
			raw, _ := json.Marshal(r)
			page.Quarantined = append(page.Quarantined, adapter.Rejected{Ref: m.ref(refType(object), id, mod),
				Reason: fmt.Sprintf("mapping salesforce %s %s: %v", object, id, err), Raw: raw})
			continue
		}
		page.Changes = append(page.Changes, ch)
		if maxPos.after(mod, id) {
			maxPos = streamPos{Since: mod, ID: id}
		}
	}
	return page, maxPos, nil
}

// rawOf renders a quarantined row for the host to keep.
func rawOf(rec map[string]any) []byte {
	b, _ := json.Marshal(rec)
	return b
}

// linkContactRoles gives opportunities without a ContactId the contact of
// their primary (else first) OpportunityContactRole, looked up 200 ids at
// a time so the query stays well inside the URL length limit.
func (c *Connector) linkContactRoles(ctx context.Context, changes []adapter.Change, m *mapper) error {
	var need []string
	byID := map[string]*domain.Order{}
	for _, ch := range changes {
		if ch.Order != nil && ch.Order.CustomerRef.IsZero() {
			need = append(need, ch.Ref.ID)
			byID[ch.Ref.ID] = ch.Order
		}
	}
	for start := 0; start < len(need); start += MaxCollection {
		chunk := need[start:min(start+MaxCollection, len(need))]
		soql := "SELECT OpportunityId, ContactId, IsPrimary FROM OpportunityContactRole WHERE OpportunityId IN " +
			idList(chunk) + " ORDER BY OpportunityId ASC, IsPrimary DESC, CreatedDate ASC"
		err := c.queryPages(ctx, soql, false, 0, func(recs []map[string]any) error {
			for _, rm := range recs {
				r := row(rm)
				o := byID[r.str("OpportunityId")]
				if o == nil || !o.CustomerRef.IsZero() || !validID(r.str("ContactId")) {
					continue
				}
				o.CustomerRef = m.ref(refContact, r.str("ContactId"), time.Time{})
			}
			return nil
		})
		if err != nil {
			return c.mapErr(err, "reading salesforce opportunity contact roles")
		}
	}
	return nil
}
