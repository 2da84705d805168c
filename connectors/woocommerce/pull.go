package woocommerce

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// pageOverlap is how many already-read records each page request re-reads
// (offset = consumed - pageOverlap). WooCommerce pages by offset, so a
// record deleted (or trashed) before the reader's position shifts the rest
// left; when the first record of an answer is already new, more than
// pageOverlap records vanished and the reader steps back a page instead of
// skipping one. Records that enter the set shift it right and are
// de-duplicated by id.
const pageOverlap = 2

// maxSeen caps the overlap de-dup set carried in the order cursor. Past it
// the next sweep may re-emit a few unchanged orders (harmless upserts)
// rather than grow the cursor without bound.
const maxSeen = 20000

// Pull implements adapter.Adapter.
func (c *Connector) Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error {
	cfg, a, m, err := c.state()
	if err != nil {
		return err
	}
	perPage := cfg.PerPage
	if req.PageSize > 0 && req.PageSize < perPage {
		perPage = max(req.PageSize, pageOverlap+1)
	}
	switch req.Object {
	case domain.ObjectOrder:
		return c.pullOrders(ctx, cfg, a, m, req, perPage, sink)
	case domain.ObjectContact:
		return c.pullCustomers(ctx, cfg, a, m, req, perPage, sink)
	default:
		return adapter.Permanent(fmt.Errorf("pulling %s %s: %w", Name, req.Object, adapter.ErrUnsupported))
	}
}

// reader walks a collection in id order by offset, with overlap and
// step-back (see pageOverlap). decode parses one answer body, keeps the
// records for the caller and returns their ids in order.
type reader struct {
	a       *api
	op      string
	path    string
	query   url.Values
	perPage int
	decode  func(body []byte) ([]int, error)
}

// next fetches the records after lastID starting near offset. It returns
// the index of the first record with id > lastID in the decoded answer,
// the ids, the new offset, whether the collection is exhausted, and the
// page info.
func (r *reader) next(ctx context.Context, offset, lastID int) (int, []int, int, bool, pageInfo, error) {
	for {
		start := max(0, offset-pageOverlap)
		q := url.Values{}
		for k, v := range r.query {
			q[k] = v
		}
		q.Set("per_page", strconv.Itoa(r.perPage))
		q.Set("offset", strconv.Itoa(start))
		q.Set("orderby", "id")
		q.Set("order", "asc")
		h, body, err := r.a.get(ctx, r.op, r.path, q)
		if err != nil {
			return 0, nil, offset, false, pageInfo{}, err
		}
		info := readPageInfo(h)
		ids, err := r.decode(body)
		if err != nil {
			return 0, nil, offset, false, info, adapter.Retryable(fmt.Errorf("%s: decoding answer: %w (body starts %q)", r.op, err, snippet(body)))
		}
		if start > 0 && len(ids) > 0 && ids[0] > lastID {
			// More records vanished before our position than the overlap
			// covers: step back rather than skip one.
			offset = max(0, offset-r.perPage)
			continue
		}
		if start > 0 && len(ids) == 0 && info.total >= 0 && info.total < start {
			// The whole tail shrank below our position: re-read its end.
			offset = info.total
			continue
		}
		from := 0
		for from < len(ids) && ids[from] <= lastID {
			from++
		}
		return from, ids, start + len(ids), len(ids) < r.perPage, info, nil
	}
}

// rawRecords splits an answer into records and reads their ids.
func rawRecords(body []byte) ([]json.RawMessage, []int, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, nil, err
	}
	ids := make([]int, len(raws))
	for i, raw := range raws {
		ids[i] = probeID(raw)
	}
	return raws, ids, nil
}

// probeID reads the top-level "id" of an object (WooCommerce puts it
// first) without decoding the rest; 0 when absent.
func probeID(raw json.RawMessage) int {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return 0
		}
		if k == "id" {
			var n json.Number
			if dec.Decode(&n) != nil {
				return 0
			}
			id, _ := strconv.Atoi(n.String())
			return id
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return 0
		}
	}
	return 0
}

// orderCursor resumes the incremental order sweep. Between sweeps only
// Since and Seen are set.
type orderCursor struct {
	V int `json:"v"`
	// Since is the modified_after (GMT) of the sweep: the previous sweep's
	// server start time minus the overlap. Empty means from the beginning.
	Since string `json:"since,omitempty"`
	// Seen holds id → date_modified_gmt of the orders the previous sweep
	// emitted inside the overlap window, so they are not emitted again.
	Seen map[int]string `json:"seen,omitempty"`

	Phase  string         `json:"phase,omitempty"` // "orders" or "trash" while a sweep runs
	Start  string         `json:"start,omitempty"` // server Date of the sweep's first answer
	Offset int            `json:"offset,omitempty"`
	LastID int            `json:"last_id,omitempty"`
	Next   map[int]string `json:"next,omitempty"` // this sweep's overlap set
}

func decodeCursor(s string, v any) error {
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return adapter.Permanent(fmt.Errorf("decoding %s cursor: %w", Name, err))
	}
	return nil
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// pullOrders sweeps orders modified after the cursor's Since, in id order,
// then (for incremental sweeps) trashed orders as deletions. See README.
func (c *Connector) pullOrders(ctx context.Context, cfg Config, a *api, m *mapper, req adapter.PullRequest, perPage int, sink adapter.PageSink) error {
	var cur orderCursor
	if !req.Full {
		if err := decodeCursor(req.Cursor, &cur); err != nil {
			return err
		}
	}
	overlap := time.Duration(cfg.OrderOverlap)
	if cur.Phase == "" {
		cur.Phase, cur.Offset, cur.LastID, cur.Start, cur.Next = "orders", 0, 0, "", map[int]string{}
	}
	if cur.Next == nil {
		cur.Next = map[int]string{}
	}
	for {
		q := url.Values{"dates_are_gmt": {"true"}}
		if cur.Since != "" {
			q.Set("modified_after", cur.Since)
		}
		op := "listing woocommerce orders"
		if cur.Phase == "trash" {
			q.Set("status", "trash")
			op = "listing trashed woocommerce orders"
		}
		// Fast path: decode the page straight into orders. A page with a
		// record that does not decode or map is split into raw records so
		// the quarantine keeps the record as sent.
		var typed []wcOrder
		var raws []json.RawMessage
		var body []byte
		decode := func(b []byte) ([]int, error) {
			typed, raws, body = nil, nil, b
			if err := json.Unmarshal(b, &typed); err == nil {
				ids := make([]int, len(typed))
				for i := range typed {
					ids[i] = typed[i].ID
				}
				return ids, nil
			}
			typed = nil
			var ids []int
			var err error
			raws, ids, err = rawRecords(b)
			return ids, err
		}
		r := reader{a: a, op: op, path: "/orders", query: q, perPage: perPage, decode: decode}
		from, ids, offset, done, info, err := r.next(ctx, cur.Offset, cur.LastID)
		if err != nil {
			return err
		}
		if cur.Phase != "trash" {
			products := map[int]bool{}
			if typed != nil {
				for i := range typed {
					for _, li := range typed[i].LineItems {
						if li.ProductID > 0 {
							products[li.ProductID] = true
						}
					}
				}
			} else {
				products = productIDsOf(body)
			}
			if err := c.lookUpCategories(ctx, a, m.cats, products); err != nil {
				return err
			}
		}
		if cur.Start == "" {
			start := info.date
			if start.IsZero() {
				start = c.now().UTC()
			}
			cur.Start = start.Format(time.RFC3339)
		}
		start, _ := time.Parse(time.RFC3339, cur.Start)
		windowFrom := start.Add(-overlap)
		var page adapter.Page
		for i := from; i < len(ids); i++ {
			id := ids[i]
			cur.LastID = id
			var ch adapter.Change
			var rej *adapter.Rejected
			var modified string
			if typed != nil {
				modified = typed[i].DateModifiedGMT
				ch, rej = m.orderChange(&typed[i])
				if rej != nil {
					if raws == nil {
						raws, _, _ = rawRecords(body)
					}
					if i < len(raws) {
						rej.Raw = raws[i]
					}
				}
			} else {
				ch, rej, _, modified = m.changeMod(domain.ObjectOrder, raws[i])
			}
			if mt, err := wooTime("date_modified_gmt", modified); err == nil && !mt.Before(windowFrom) && len(cur.Next) < maxSeen {
				cur.Next[id] = modified
			}
			if seen, ok := cur.Seen[id]; ok && seen == modified && modified != "" {
				continue
			}
			switch {
			case cur.Phase == "trash":
				page.Changes = append(page.Changes, adapter.Change{Kind: adapter.ChangeDelete, Ref: m.ref(domain.ObjectOrder, id, time.Time{})})
			case rej != nil:
				page.Quarantined = append(page.Quarantined, *rej)
			default:
				page.Changes = append(page.Changes, ch)
			}
		}
		cur.Offset = offset
		finished := false
		if done {
			if cur.Phase == "orders" && cur.Since != "" {
				cur.Phase, cur.Offset, cur.LastID = "trash", 0, 0
			} else {
				finished = true
				since := windowFrom.UTC().Format("2006-01-02T15:04:05")
				seen := map[int]string{}
				for id, mod := range cur.Next {
					if mt, err := wooTime("date_modified_gmt", mod); err == nil && !mt.Before(windowFrom) {
						seen[id] = mod
					}
				}
				c.log.DebugContext(ctx, "order sweep done", "since", cur.Since, "next_since", since, "overlap_set", len(seen))
				cur = orderCursor{Since: since, Seen: seen}
			}
		}
		cur.V = 1
		page.Cursor = encodeCursor(cur)
		if err := sink(ctx, page); err != nil {
			return err
		}
		if finished {
			return nil
		}
	}
}

// customerCursor resumes the customer sweep. WooCommerce has no modified
// filter on customers, so every pull is a full sweep by id; Hashes holds a
// content hash per known customer so only changed ones are emitted, and
// customers that disappeared are reported as deletions.
type customerCursor struct {
	V       int    `json:"v"`
	Hashes  string `json:"hashes,omitempty"`
	InSweep bool   `json:"in_sweep,omitempty"`
	Offset  int    `json:"offset,omitempty"`
	LastID  int    `json:"last_id,omitempty"`
}

func (c *Connector) pullCustomers(ctx context.Context, cfg Config, a *api, m *mapper, req adapter.PullRequest, perPage int, sink adapter.PageSink) error {
	var cur customerCursor
	if err := decodeCursor(req.Cursor, &cur); err != nil {
		return err
	}
	hashes, err := decodeHashes(cur.Hashes)
	if err != nil {
		return err
	}
	if req.Full {
		hashes = map[int]uint64{}
		cur = customerCursor{}
	}
	if !cur.InSweep {
		cur.InSweep, cur.Offset, cur.LastID = true, 0, 0
	}
	var raws []json.RawMessage
	decode := func(b []byte) ([]int, error) {
		var ids []int
		var err error
		raws, ids, err = rawRecords(b)
		return ids, err
	}
	r := reader{a: a, op: "listing woocommerce customers", path: "/customers", query: url.Values{"role": {cfg.CustomerRole}}, perPage: perPage, decode: decode}
	known := make([]int, 0, len(hashes))
	for id := range hashes {
		known = append(known, id)
	}
	slices.Sort(known)
	for {
		from, ids, offset, done, _, err := r.next(ctx, cur.Offset, cur.LastID)
		if err != nil {
			return err
		}
		raws, ids = raws[from:], ids[from:]
		var page adapter.Page
		present := map[int]bool{}
		upper := cur.LastID
		for i, raw := range raws {
			id := ids[i]
			present[id] = true
			upper = max(upper, id)
			h := m.customerHash(raw)
			if old, ok := hashes[id]; ok && old == h {
				continue
			}
			hashes[id] = h
			ch, rej, _ := m.change(domain.ObjectContact, raw)
			if rej != nil {
				page.Quarantined = append(page.Quarantined, *rej)
				continue
			}
			page.Changes = append(page.Changes, ch)
		}
		if done {
			upper = int(^uint(0) >> 1)
		}
		// Known customers in (LastID, upper] that did not come back are gone.
		lo, _ := slices.BinarySearch(known, cur.LastID+1)
		for _, id := range known[lo:] {
			if id > upper {
				break
			}
			if !present[id] {
				if _, still := hashes[id]; still {
					delete(hashes, id)
					page.Changes = append(page.Changes, adapter.Change{Kind: adapter.ChangeDelete, Ref: m.ref(domain.ObjectContact, id, time.Time{})})
				}
			}
		}
		if len(ids) > 0 {
			cur.LastID = ids[len(ids)-1]
		}
		cur.Offset = offset
		if done {
			cur.InSweep, cur.Offset, cur.LastID = false, 0, 0
			c.log.DebugContext(ctx, "customer sweep done", "customers", len(hashes))
		}
		cur.V = 1
		cur.Hashes = encodeHashes(hashes)
		page.Cursor = encodeCursor(cur)
		if err := sink(ctx, page); err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// customerHash hashes what the connector maps, ignoring modification dates
// and the meta keys the connector owns (so its own write-back does not
// count as a change).
func (m *mapper) customerHash(raw json.RawMessage) uint64 {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		h := fnv.New64a()
		h.Write(raw)
		return h.Sum64()
	}
	delete(doc, "date_modified")
	delete(doc, "date_modified_gmt")
	delete(doc, "_links")
	if metas, ok := doc["meta_data"].([]any); ok {
		kept := metas[:0]
		for _, e := range metas {
			if em, ok := e.(map[string]any); ok {
				if k, _ := em["key"].(string); m.owned != nil && m.owned(k) {
					continue
				}
			}
			kept = append(kept, e)
		}
		doc["meta_data"] = kept
	}
	b, _ := json.Marshal(doc)
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// encodeHashes packs id → hash as base64 of (uvarint id delta, 8-byte hash)
// in id order: about 11 bytes per customer.
func encodeHashes(m map[int]uint64) string {
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	buf := make([]byte, 0, len(ids)*12)
	prev := 0
	for _, id := range ids {
		buf = binary.AppendUvarint(buf, uint64(id-prev))
		buf = binary.BigEndian.AppendUint64(buf, m[id])
		prev = id
	}
	return base64.RawStdEncoding.EncodeToString(buf)
}

func decodeHashes(s string) (map[int]uint64, error) {
	m := map[int]uint64{}
	if s == "" {
		return m, nil
	}
	buf, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, adapter.Permanent(fmt.Errorf("decoding %s customer cursor hashes: %w", Name, err))
	}
	prev := 0
	for len(buf) > 0 {
		d, n := binary.Uvarint(buf)
		if n <= 0 || len(buf) < n+8 {
			return nil, adapter.Permanent(fmt.Errorf("decoding %s customer cursor hashes: truncated", Name))
		}
		prev += int(d)
		m[prev] = binary.BigEndian.Uint64(buf[n : n+8])
		buf = buf[n+8:]
	}
	return m, nil
}
