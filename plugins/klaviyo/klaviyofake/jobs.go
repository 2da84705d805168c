package klaviyofake

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"time"
)

// job is a bulk profile import job. It is applied when created but
// reported queued, then processing, then complete on the GETs that
// follow, as an asynchronous job is.
type job struct {
	id       string
	total    int
	failures []map[string]any // import-error resources
	polls    int
	created  time.Time
}

func (j *job) status() string {
	switch {
	case j.polls == 0:
		return "queued"
	case j.polls == 1:
		return "processing"
	default:
		return "complete"
	}
}

func (j *job) json() map[string]any {
	attrs := map[string]any{"status": j.status(), "created_at": j.created.Format(time.RFC3339), "total_count": j.total,
		"completed_count": 0, "failed_count": 0}
	if j.status() == "complete" {
		attrs["completed_count"] = j.total - len(j.failures)
		attrs["failed_count"] = len(j.failures)
		attrs["completed_at"] = j.created.Format(time.RFC3339)
	}
	return map[string]any{"type": "profile-bulk-import-job", "id": j.id, "attributes": attrs}
}

// Jobs returns how many bulk import jobs were created.
func (f *Fake) Jobs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.jobs)
}

func (f *Fake) createJob(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Data struct {
			Type       string `json:"type"`
			Attributes struct {
				Profiles struct {
					Data []upsert `json:"data"`
				} `json:"profiles"`
			} `json:"attributes"`
			Relationships struct {
				Lists struct {
					Data []struct {
						ID string `json:"id"`
					} `json:"data"`
				} `json:"lists"`
			} `json:"relationships"`
		} `json:"data"`
	}
	if !decode(w, r, MaxBulkBody, &body) {
		return
	}
	ps := body.Data.Attributes.Profiles.Data
	switch {
	case body.Data.Type != "profile-bulk-import-job":
		apiError(w, http.StatusBadRequest, "invalid", "Invalid input.", "type must be profile-bulk-import-job.", "/data/type")
		return
	case len(ps) == 0 || len(ps) > MaxBulkJob:
		apiError(w, http.StatusBadRequest, "invalid", "Invalid input.",
			fmt.Sprintf("A job takes 1 to %d profiles; got %d.", MaxBulkJob, len(ps)), "/data/attributes/profiles/data")
		return
	}
	f.mu.Lock()
	j := &job{id: f.newID(26), total: len(ps), created: f.clock}
	var lists []*List
	for _, l := range body.Data.Relationships.Lists.Data {
		if x := f.list(l.ID); x != nil {
			lists = append(lists, x)
		}
	}
	for i, u := range ps {
		p, _, problem := f.apply(u)
		if problem != "" {
			j.failures = append(j.failures, map[string]any{"type": "import-error", "id": newUUID(), "attributes": map[string]any{
				"code": "invalid", "title": "Invalid input.", "detail": problem,
				"source":           map[string]string{"pointer": fmt.Sprintf("/data/attributes/profiles/data/%d", i)},
				"original_payload": map[string]any{"id": u.ID, "email": u.Attributes.Email}}})
			continue
		}
		for _, l := range lists {
			if !slices.Contains(l.Members, p.ID) {
				l.Members = append(l.Members, p.ID)
			}
		}
	}
	f.jobs[j.id] = j
	out := j.json()
	f.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]any{"data": out})
}

func (f *Fake) getJob(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	j := f.jobs[r.PathValue("id")]
	var out map[string]any
	if j != nil {
		j.polls++
		out = j.json()
	}
	f.mu.Unlock()
	if j == nil {
		apiError(w, http.StatusNotFound, "not_found", "Not found.", "No job "+r.PathValue("id")+".", "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (f *Fake) jobErrors(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	j := f.jobs[r.PathValue("id")]
	var errs []map[string]any
	if j != nil {
		errs = slices.Clone(j.failures)
	}
	f.mu.Unlock()
	if j == nil {
		apiError(w, http.StatusNotFound, "not_found", "Not found.", "No job "+r.PathValue("id")+".", "")
		return
	}
	got, links, ok := page(w, r, errs, 20, 100)
	if ok {
		writeJSON(w, http.StatusOK, map[string]any{"data": got, "links": links})
	}
}

// Metric is a metric (an event type such as "Opened Email").
type Metric struct {
	ID, Name string
}

// Event is one event of a metric by a profile.
type Event struct {
	ID, MetricID, ProfileID string
	At                      time.Time
}

// Engage records that the profile did the metric's event (by metric
// name, e.g. "Opened Email") n times, a second apart, from the fake's
// clock on. Klaviyo does not change a profile's updated time for events.
func (f *Fake) Engage(profileID, metric string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var mid string
	for _, m := range f.metrics {
		if m.Name == metric {
			mid = m.ID
		}
	}
	for range n {
		f.events = append(f.events, Event{ID: f.newID(26), MetricID: mid, ProfileID: profileID, At: f.tick()})
	}
}

func (f *Fake) getMetrics(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	ms := slices.Clone(f.metrics)
	f.mu.Unlock()
	// get_metrics has no page[size]; Klaviyo serves 200 a page.
	got, links, ok := page(w, r, ms, 200, 200)
	if !ok {
		return
	}
	data := make([]any, len(got))
	for i, m := range got {
		data[i] = map[string]any{"type": "metric", "id": m.ID, "attributes": map[string]any{"name": m.Name,
			"integration": map[string]any{"name": "Klaviyo", "category": "Internal"}}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": links})
}

func (f *Fake) getEvents(w http.ResponseWriter, r *http.Request) {
	cs, ok := checkFilter(w, r, map[string][]string{"metric_id": {"equals"}, "profile_id": {"equals"},
		"datetime": {"greater-than", "less-than"}, "timestamp": {"greater-than", "less-than"}})
	if !ok {
		return
	}
	f.mu.Lock()
	var hits []Event
	for _, e := range f.events {
		keep := true
		for _, c := range cs {
			switch c.field {
			case "metric_id":
				keep = keep && c.matchString(e.MetricID)
			case "profile_id":
				keep = keep && c.matchString(e.ProfileID)
			case "datetime", "timestamp":
				keep = keep && c.matchTime(e.At)
			}
		}
		if keep {
			hits = append(hits, e)
		}
	}
	f.mu.Unlock()
	desc := r.URL.Query().Get("sort") == "-datetime"
	sort.SliceStable(hits, func(i, j int) bool {
		if desc {
			return hits[i].At.After(hits[j].At)
		}
		return hits[i].At.Before(hits[j].At)
	})
	got, links, ok := page(w, r, hits, 200, 1000)
	if !ok {
		return
	}
	data := make([]any, len(got))
	for i, e := range got {
		data[i] = map[string]any{"type": "event", "id": e.ID,
			"attributes": map[string]any{"datetime": e.At.Format(time.RFC3339), "timestamp": e.At.Unix(), "event_properties": map[string]any{}},
			"relationships": map[string]any{
				"profile": map[string]any{"data": map[string]any{"type": "profile", "id": e.ProfileID}},
				"metric":  map[string]any{"data": map[string]any{"type": "metric", "id": e.MetricID}}}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": links})
}
