package hubspotfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

type searchFilter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        *string  `json:"value,omitempty"`
	Values       []string `json:"values,omitempty"`
	HighValue    *string  `json:"highValue,omitempty"`
}

type searchRequest struct {
	FilterGroups []struct {
		Filters []searchFilter `json:"filters"`
	} `json:"filterGroups"`
	Sorts      []json.RawMessage `json:"sorts"`
	Properties []string          `json:"properties"`
	Limit      int               `json:"limit"`
	After      string            `json:"after"`
	Query      string            `json:"query"`
}

// comparable turns a property value into a number when it is one (epoch
// ms for dates), so that comparisons are numeric like HubSpot's.
func comparable(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return n, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return float64(t.UnixMilli()), true
		}
	}
	return 0, false
}

type numVal struct {
	n  float64
	ok bool
}

// num is comparable with a cache (search compares the same timestamps over
// and over); the caller holds f.mu.
func (f *Fake) num(s string) (float64, bool) {
	if v, ok := f.nums[s]; ok {
		return v.n, v.ok
	}
	if f.nums == nil || len(f.nums) > 200_000 {
		f.nums = map[string]numVal{}
	}
	n, ok := comparable(s)
	f.nums[s] = numVal{n, ok}
	return n, ok
}

func (f *Fake) compare(a, b string) int {
	x, ok1 := f.num(a)
	y, ok2 := f.num(b)
	if ok1 && ok2 {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// fastNumber returns a record's numeric value for the two properties every
// incremental sync filters on, without going through the property map.
func fastNumber(t objectType, rec *record, prop string) (float64, bool) {
	switch prop {
	case t.ModifiedProp:
		return float64(rec.updatedAt.UnixMilli()), true
	case "hs_object_id":
		return float64(rec.id), true
	}
	return 0, false
}

func (f *Fake) matchFast(t objectType, rec *record, flt searchFilter) (match, handled bool) {
	x, ok := fastNumber(t, rec, flt.PropertyName)
	if !ok || flt.Value == nil {
		return false, false
	}
	y, ok := f.num(*flt.Value)
	if !ok {
		return false, false
	}
	switch flt.Operator {
	case "EQ":
		return x == y, true
	case "NEQ":
		return x != y, true
	case "LT":
		return x < y, true
	case "LTE":
		return x <= y, true
	case "GT":
		return x > y, true
	case "GTE":
		return x >= y, true
	case "BETWEEN":
		if flt.HighValue == nil {
			return false, false
		}
		hi, ok := f.num(*flt.HighValue)
		return ok && x >= y && x <= hi, ok
	}
	return false, false
}

func (f *Fake) matchFilter(rec *record, flt searchFilter) bool {
	v, has := rec.props[flt.PropertyName]
	has = has && v != ""
	val := ""
	if flt.Value != nil {
		val = *flt.Value
	}
	switch flt.Operator {
	case "HAS_PROPERTY":
		return has
	case "NOT_HAS_PROPERTY":
		return !has
	case "NEQ":
		return !has || f.compare(v, val) != 0
	case "NOT_IN":
		for _, x := range flt.Values {
			if has && f.compare(v, x) == 0 {
				return false
			}
		}
		return true
	}
	if !has {
		return false
	}
	switch flt.Operator {
	case "EQ":
		return f.compare(v, val) == 0
	case "LT":
		return f.compare(v, val) < 0
	case "LTE":
		return f.compare(v, val) <= 0
	case "GT":
		return f.compare(v, val) > 0
	case "GTE":
		return f.compare(v, val) >= 0
	case "BETWEEN":
		hi := ""
		if flt.HighValue != nil {
			hi = *flt.HighValue
		}
		return f.compare(v, val) >= 0 && f.compare(v, hi) <= 0
	case "IN":
		for _, x := range flt.Values {
			if f.compare(v, x) == 0 {
				return true
			}
		}
		return false
	case "CONTAINS_TOKEN":
		return strings.Contains(strings.ToLower(v), strings.Trim(strings.ToLower(val), "*"))
	case "NOT_CONTAINS_TOKEN":
		return !strings.Contains(strings.ToLower(v), strings.Trim(strings.ToLower(val), "*"))
	}
	return false
}

func parseSort(raw json.RawMessage) (prop string, desc bool, err error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if p, ok := strings.CutPrefix(s, "-"); ok {
			return p, true, nil
		}
		return s, false, nil
	}
	var o struct {
		PropertyName string `json:"propertyName"`
		Direction    string `json:"direction"`
	}
	if err := json.Unmarshal(raw, &o); err != nil || o.PropertyName == "" {
		return "", false, fmt.Errorf("invalid sort %s", raw)
	}
	return o.PropertyName, o.Direction == "DESCENDING", nil
}

func (f *Fake) handleSearch(w http.ResponseWriter, r *http.Request, t objectType) {
	var in searchRequest
	if !decodeBody(w, r, &in) {
		return
	}
	if in.Limit == 0 {
		in.Limit = 10
	}
	if in.Limit < 0 || in.Limit > SearchPageMax {
		badRequest(w, fmt.Sprintf("limit must be between 1 and %d, got %d", SearchPageMax, in.Limit))
		return
	}
	offset := 0
	if in.After != "" {
		n, err := strconv.Atoi(in.After)
		if err != nil || n < 0 {
			badRequest(w, "Invalid paging cursor: "+in.After)
			return
		}
		offset = n
	}
	if offset >= SearchResultsMax {
		badRequest(w, fmt.Sprintf("There was a problem with the request: paging is limited to %d results; narrow the filters", SearchResultsMax))
		return
	}
	total := 0
	if len(in.FilterGroups) > 5 {
		badRequest(w, "Too many filter groups: at most 5 are allowed")
		return
	}
	for _, g := range in.FilterGroups {
		if len(g.Filters) > 6 {
			badRequest(w, "Too many filters in a group: at most 6 are allowed")
			return
		}
		total += len(g.Filters)
		for _, flt := range g.Filters {
			switch flt.Operator {
			case "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN":
			default:
				badRequest(w, fmt.Sprintf("Unknown filter operator %q", flt.Operator))
				return
			}
			if flt.Operator == "BETWEEN" && (flt.Value == nil || flt.HighValue == nil) {
				badRequest(w, "BETWEEN needs value and highValue")
				return
			}
		}
	}
	if total > 18 {
		badRequest(w, "Too many filters: at most 18 are allowed in total")
		return
	}
	if len(in.Sorts) > 1 {
		badRequest(w, "Only one sort is allowed")
		return
	}
	sortProp, desc := "hs_object_id", false
	if len(in.Sorts) == 1 {
		p, d, err := parseSort(in.Sorts[0])
		if err != nil {
			badRequest(w, err.Error())
			return
		}
		sortProp, desc = p, d
	}

	f.mu.Lock()
	st := f.objects[t.Name]
	visibleBefore := f.now().Add(-f.opts.SearchIndexLag)
	var hits []*record
	for _, id := range st.ids {
		rec := st.byID[id]
		if rec == nil || rec.archived || rec.mergedInto != 0 {
			continue
		}
		if f.opts.SearchIndexLag > 0 && rec.updatedAt.After(visibleBefore) {
			continue
		}
		if in.Query != "" && !queryMatch(rec, in.Query) {
			continue
		}
		ok := len(in.FilterGroups) == 0
		for _, g := range in.FilterGroups {
			all := true
			for _, flt := range g.Filters {
				if m, ok := f.matchFast(t, rec, flt); ok {
					if !m {
						all = false
						break
					}
					continue
				}
				if !f.matchFilter(rec, flt) {
					all = false
					break
				}
			}
			if all {
				ok = true
				break
			}
		}
		if ok {
			hits = append(hits, rec)
		}
	}
	type key struct {
		num   float64
		isNum bool
		str   string
	}
	keys := make(map[int64]key, len(hits))
	for _, h := range hits {
		v := h.props[sortProp]
		n, ok := fastNumber(t, h, sortProp)
		if !ok {
			n, ok = f.num(v)
		}
		keys[h.id] = key{n, ok, strings.ToLower(v)}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := keys[hits[i].id], keys[hits[j].id]
		c := 0
		switch {
		case a.isNum && b.isNum:
			if a.num < b.num {
				c = -1
			} else if a.num > b.num {
				c = 1
			}
		default:
			c = strings.Compare(a.str, b.str)
		}
		if c == 0 {
			return hits[i].id < hits[j].id
		}
		if desc {
			return c > 0
		}
		return c < 0
	})
	var res []publicObject
	for i := offset; i < len(hits) && len(res) < in.Limit; i++ {
		o := f.render(t, hits[i], in.Properties, nil)
		res = append(res, o)
	}
	f.mu.Unlock()
	body := map[string]any{"total": len(hits), "results": nonNil(res)}
	if next := offset + len(res); next < len(hits) {
		body["paging"] = map[string]any{"next": map[string]string{"after": strconv.Itoa(next)}}
	}
	writeJSON(w, 200, body)
}

func queryMatch(rec *record, q string) bool {
	q = strings.ToLower(q)
	for _, p := range []string{"email", "firstname", "lastname", "phone", "company", "name", "domain", "dealname"} {
		if strings.Contains(strings.ToLower(rec.props[p]), q) {
			return true
		}
	}
	return false
}
