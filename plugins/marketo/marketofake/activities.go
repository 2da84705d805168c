package marketofake

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// A paging token names the last activity read; the next page starts after
// it. Marketo's tokens are opaque strings, and so are these.
func pageToken(afterID int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("act:" + strconv.Itoa(afterID)))
}

func parseToken(s string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 4 || string(b[:4]) != "act:" {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[4:]))
	return n, err == nil
}

// pagingToken is Get Paging Token: the position just before the first
// activity at or after sinceDatetime.
func (f *Fake) pagingToken(r *http.Request, _ []byte) envelope {
	since, err := time.Parse(time.RFC3339, r.URL.Query().Get("sinceDatetime"))
	if err != nil {
		return callError("1001", "Invalid value for sinceDatetime")
	}
	after := 0
	for _, a := range f.acts {
		if a.Date.Before(since) {
			after = a.ID
		}
	}
	return envelope{NextPageToken: pageToken(after)}
}

// page reads at most batchSize (≤ 300) activities of the given types
// after the token, for the given leads (none: all).
func (f *Fake) page(r *http.Request, types []int) envelope {
	q := r.URL.Query()
	after, ok := parseToken(q.Get("nextPageToken"))
	if !ok {
		return callError("1003", "Invalid nextPageToken")
	}
	size := MaxBatch
	if s := q.Get("batchSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return callError("1003", "Invalid batchSize")
		}
		size = min(n, MaxBatch)
	}
	var leads []int
	for _, s := range splitList(q["leadIds"]) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return callError("1003", "Invalid leadIds")
		}
		leads = append(leads, n)
	}
	var out []map[string]any
	last := after
	for _, a := range f.acts {
		if a.ID <= after {
			continue
		}
		if len(out) == size {
			break
		}
		last = a.ID
		if !slices.Contains(types, a.TypeID) || (len(leads) > 0 && !slices.Contains(leads, a.LeadID)) {
			continue
		}
		m := map[string]any{"id": a.ID, "marketoGUID": strconv.Itoa(a.ID), "leadId": a.LeadID,
			"activityDate": a.Date.Format(time.RFC3339), "activityTypeId": a.TypeID, "attributes": []any{}}
		if a.TypeID == ChangeDataValue {
			m["fields"] = []map[string]any{{"name": a.Attributes["attribute"], "oldValue": a.Attributes["oldValue"],
				"newValue": a.Attributes["newValue"]}}
		}
		out = append(out, m)
	}
	more := len(f.acts) > 0 && last < f.acts[len(f.acts)-1].ID
	env := envelope{NextPageToken: pageToken(last), MoreResult: &more}
	if len(out) > 0 {
		env.Result = out
	}
	return env
}

// activities is Get Lead Activities (activityTypeIds required, at most 10).
func (f *Fake) activities(r *http.Request, _ []byte) envelope {
	var types []int
	for _, s := range splitList(r.URL.Query()["activityTypeIds"]) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return callError("1003", fmt.Sprintf("Invalid activityTypeId '%s'", s))
		}
		types = append(types, n)
	}
	if len(types) == 0 || len(types) > 10 {
		return callError("1003", "activityTypeIds must name 1 to 10 types")
	}
	return f.page(r, types)
}

// leadChanges is Get Lead Changes: New Lead and Change Data Value
// activities; fields is required.
func (f *Fake) leadChanges(r *http.Request, _ []byte) envelope {
	if len(splitList(r.URL.Query()["fields"])) == 0 {
		return callError("1003", "fields is required")
	}
	return f.page(r, []int{NewLead, ChangeDataValue})
}
