// Package mailchimpfake is a fake of the part of the Mailchimp Marketing
// API v3 the mailchimp plugin uses, for tests and the sandbox: one
// audience's members listed with offset/count paging and
// since_last_changed, read one by one by subscriber hash, tagged and
// given merge field values, the audience's merge fields, and batch
// operations.
//
// Faithful to the platform where it matters to a client (sources: the
// Marketing API spec's operations and the Problem Detail Document schema,
// and Mailchimp's "Fundamentals" docs):
//   - paths under /3.0; HTTP Basic auth with any user name and the API key
//     as password, or a Bearer key; 401 otherwise;
//   - GET /3.0/lists/{list_id}/members: count defaults to 10 and may be at
//     most 1000, offset defaults to 0; since_last_changed keeps members
//     changed after the given time; the body carries members and
//     total_items;
//   - a member's id is its subscriber hash, the MD5 of the lower-cased
//     email; GET of an unknown hash is 404;
//   - POST /3.0/lists/{list_id}/members/{subscriber_hash}/tags takes
//     {tags: [{name, status: active|inactive}]} and answers 204; a tag
//     becomes active or inactive on the member, and the status enum is
//     checked;
//   - GET and POST /3.0/lists/{list_id}/merge-fields: a new audience has
//     FNAME and LNAME; a field created without a tag gets MMERGE and its
//     number; PATCH of a member sets merge_fields, and a tag the audience
//     lacks is a 400 ("Your merge fields were invalid");
//   - POST /3.0/batches takes operations {method, path, params, body as a
//     JSON string, operation_id}; the batch is reported pending, started,
//     then finished, when its response_body_url points at a gzipped tar of
//     JSON arrays of {status_code, operation_id, response} ("Run async
//     requests with the batch endpoint" guide; the spec's Batch schema),
//     served without auth as a pre-signed download is;
//   - Mailchimp limits concurrency, not request counts: more than 10
//     simultaneous connections per key get 429;
//   - every error is a Problem Detail Document (type, title, status,
//     detail, instance) served as application/problem+json.
package mailchimpfake

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MaxConnections is Mailchimp's limit of simultaneous connections per key.
const MaxConnections = 10

// SubscriberHash is the MD5 of the lower-cased email, Mailchimp's member id.
func SubscriberHash(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(email)))
	return hex.EncodeToString(sum[:])
}

// Member is one audience member as the fake holds it.
type Member struct {
	ID           string            `json:"id"`
	EmailAddress string            `json:"email_address"`
	Status       string            `json:"status"`
	MergeFields  map[string]string `json:"merge_fields"`
	LastChanged  time.Time         `json:"last_changed"`
	Tags         []Tag             `json:"tags"`
}

// Tag is a member's tag as the members endpoints list it.
type Tag struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// Fake is one running fake Mailchimp account with one audience.
type Fake struct {
	URL    string // base URL, ending in /3.0
	APIKey string
	ListID string

	mu        sync.Mutex
	members   []*Member // in insertion order
	clock     time.Time
	tagIDs    map[string]int
	fields    []MergeField // the audience's merge fields
	batches   map[string]*batch
	root      string // the server's URL, for batch result links
	rateLeft  int
	reject    map[string]bool
	inflight  atomic.Int64
	maxFlight atomic.Int64
	requests  atomic.Int64
	tooMany   atomic.Int64
	forgotten map[string]bool // hashes of members deleted permanently
}

// Start serves a fake with one audience, stopped at cleanup.
func Start(cleanup func(func())) *Fake { return StartWith(cleanup, nil) }

// StartWith is Start with every request passing through wrap first (for
// tests that check requests against the API description); nil wraps
// nothing.
func StartWith(cleanup func(func()), wrap func(http.Handler) http.Handler) *Fake {
	f := New()
	var h http.Handler = f
	if wrap != nil {
		h = wrap(f)
	}
	srv := httptest.NewServer(h)
	cleanup(srv.Close)
	f.SetRoot(srv.URL)
	return f
}

// New returns a fake with one empty audience that is not served yet:
// serve it (it is an http.Handler) and give its address to SetRoot.
func New() *Fake {
	return &Fake{APIKey: "0123456789abcdef0123456789abcdef-us6", ListID: "a1b2c3d4e5",
		clock: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), tagIDs: map[string]int{}, reject: map[string]bool{},
		batches: map[string]*batch{},
		fields:  []MergeField{{ID: 1, Tag: "FNAME", Name: "First Name", Type: "text"}, {ID: 2, Tag: "LNAME", Name: "Last Name", Type: "text"}}}
}

// SetRoot tells the fake the URL it is served at (scheme and host): the
// API is under root/3.0.
func (f *Fake) SetRoot(root string) {
	f.URL = root + "/3.0"
	f.root = root
}

// Seed adds n subscribed members, each changed a second after the last.
func (f *Fake) Seed(n int) []*Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*Member, n)
	for i := range out {
		f.clock = f.clock.Add(time.Second)
		email := fmt.Sprintf("Member%d@Example.com", len(f.members)+1)
		m := &Member{ID: SubscriberHash(email), EmailAddress: email, Status: "subscribed", LastChanged: f.clock,
			MergeFields: map[string]string{"FNAME": "Member", "LNAME": strconv.Itoa(len(f.members) + 1)}}
		f.members = append(f.members, m)
		out[i] = m
	}
	return out
}

// AddMember adds a member with the given address (kept as given; its id
// is the hash of the lower-cased address), names and status
// (subscribed, unsubscribed, cleaned or pending), changed at changed.
func (f *Fake) AddMember(email, first, last, status string, changed time.Time) *Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := &Member{ID: SubscriberHash(email), EmailAddress: email, Status: status, LastChanged: changed.UTC(),
		MergeFields: map[string]string{"FNAME": first, "LNAME": last}}
	f.members = append(f.members, m)
	if changed.After(f.clock) {
		f.clock = changed.UTC()
	}
	return m
}

// TagByHand gives a member a tag, as someone in Mailchimp's app would.
func (f *Fake) TagByHand(hash, tag string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.find(hash)
	if m == nil || slices.ContainsFunc(m.Tags, func(x Tag) bool { return x.Name == tag }) {
		return
	}
	id, ok := f.tagIDs[tag]
	if !ok {
		id = len(f.tagIDs) + 1
		f.tagIDs[tag] = id
	}
	m.Tags = append(m.Tags, Tag{ID: id, Name: tag})
	f.clock = f.clock.Add(time.Second)
	m.LastChanged = f.clock
}

// RateLimit makes the next n requests fail with 429, as going over the
// connection limit does.
func (f *Fake) RateLimit(n int) {
	f.mu.Lock()
	f.rateLeft = n
	f.mu.Unlock()
}

// RejectTags makes tag writes to the member with hash fail with 400.
func (f *Fake) RejectTags(hash string) {
	f.mu.Lock()
	f.reject[hash] = true
	f.mu.Unlock()
}

// ActiveTags returns the names of the member's tags.
func (f *Fake) ActiveTags(hash string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.find(hash)
	if m == nil {
		return nil, fmt.Errorf("no member %s", hash)
	}
	var out []string
	for _, t := range m.Tags {
		out = append(out, t.Name)
	}
	return out, nil
}

// Stats are what the fake counted.
type Stats struct {
	Requests       int64 // all requests served
	MaxConcurrent  int64 // most requests in flight at once
	TooManyAnswers int64 // 429 answers for exceeding the connection limit
}

// Stats returns the counts so far.
func (f *Fake) Stats() Stats {
	return Stats{Requests: f.requests.Load(), MaxConcurrent: f.maxFlight.Load(), TooManyAnswers: f.tooMany.Load()}
}

func (f *Fake) find(hash string) *Member {
	for _, m := range f.members {
		if m.ID == hash {
			return m
		}
	}
	return nil
}

// problem writes a Problem Detail Document.
func problem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":     "https://mailchimp.com/developer/marketing/docs/errors/",
		"title":    title,
		"status":   status,
		"detail":   detail,
		"instance": fmt.Sprintf("fake-%d", time.Now().UnixNano()),
	})
}

func (f *Fake) authorized(r *http.Request) bool {
	if _, pass, ok := r.BasicAuth(); ok {
		return pass == f.APIKey
	}
	return r.Header.Get("Authorization") == "Bearer "+f.APIKey
}

// ServeHTTP implements http.Handler.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxFlight.Load()
		if n <= m || f.maxFlight.CompareAndSwap(m, n) {
			break
		}
	}
	// Hold each request a moment so that concurrency is observable.
	time.Sleep(2 * time.Millisecond)
	if n > MaxConnections {
		f.tooMany.Add(1)
		problem(w, http.StatusTooManyRequests, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections.")
		return
	}
	f.mu.Lock()
	limited := f.rateLeft > 0
	if limited {
		f.rateLeft--
	}
	f.mu.Unlock()
	if limited {
		problem(w, http.StatusTooManyRequests, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections.")
		return
	}
	if strings.HasPrefix(r.URL.Path, resultsPath) {
		// The results archive is a pre-signed download, outside the API:
		// no key is asked for (nor should one be sent).
		f.results(w, r, strings.TrimPrefix(r.URL.Path, resultsPath))
		return
	}
	if !f.authorized(r) {
		problem(w, http.StatusUnauthorized, "API Key Invalid", "Your API key may be invalid, or you've attempted to access the wrong datacenter.")
		return
	}
	f.serveAPI(w, r)
}

// serveAPI routes an authorised request (or an operation of a batch).
func (f *Fake) serveAPI(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/3.0"), "/"), "/")
	if parts[0] == "batches" {
		switch {
		case len(parts) == 1 && r.Method == http.MethodPost:
			f.createBatch(w, r)
		case len(parts) == 2 && r.Method == http.MethodGet:
			f.getBatch(w, parts[1])
		default:
			problem(w, http.StatusMethodNotAllowed, "Method Not Allowed", "The requested method and resource are not compatible.")
		}
		return
	}
	if len(parts) < 3 || parts[0] != "lists" || (parts[2] != "members" && parts[2] != "merge-fields") {
		problem(w, http.StatusNotFound, "Resource Not Found", "The requested resource could not be found.")
		return
	}
	if parts[1] != f.ListID {
		problem(w, http.StatusNotFound, "Resource Not Found", "The requested resource could not be found.")
		return
	}
	switch {
	case parts[2] == "merge-fields" && len(parts) == 3 && r.Method == http.MethodGet:
		f.mergeFields(w)
	case parts[2] == "merge-fields" && len(parts) == 3 && r.Method == http.MethodPost:
		f.createMergeField(w, r)
	case parts[2] == "merge-fields":
		problem(w, http.StatusMethodNotAllowed, "Method Not Allowed", "The requested method and resource are not compatible.")
	case len(parts) == 3 && r.Method == http.MethodGet:
		f.list(w, r)
	case len(parts) == 4 && r.Method == http.MethodGet:
		f.get(w, parts[3])
	case len(parts) == 4 && r.Method == http.MethodPatch:
		f.patch(w, r, parts[3])
	case len(parts) == 5 && parts[4] == "tags" && r.Method == http.MethodPost:
		f.tags(w, r, parts[3])
	case len(parts) == 6 && parts[4] == "actions" && parts[5] == "delete-permanent" && r.Method == http.MethodPost:
		f.deletePermanent(w, parts[3])
	default:
		problem(w, http.StatusMethodNotAllowed, "Method Not Allowed", "The requested method and resource are not compatible.")
	}
}

func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	count, offset := 10, 0
	if v := q.Get("count"); v != "" {
		c, err := strconv.Atoi(v)
		if err != nil || c < 1 || c > 1000 {
			problem(w, http.StatusBadRequest, "Invalid Resource", "count must be between 1 and 1000.")
			return
		}
		count = c
	}
	if v := q.Get("offset"); v != "" {
		o, err := strconv.Atoi(v)
		if err != nil || o < 0 {
			problem(w, http.StatusBadRequest, "Invalid Resource", "offset must be a non-negative integer.")
			return
		}
		offset = o
	}
	var since time.Time
	if v := q.Get("since_last_changed"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			problem(w, http.StatusBadRequest, "Invalid Resource", "since_last_changed must be ISO 8601.")
			return
		}
		since = t
	}
	f.mu.Lock()
	var matched []Member
	for _, m := range f.members {
		if since.IsZero() || m.LastChanged.After(since) {
			matched = append(matched, *m)
		}
	}
	f.mu.Unlock()
	// sort_field=last_changed&sort_dir=ASC: the plugin asks for it.
	if q.Get("sort_field") == "last_changed" {
		slices.SortStableFunc(matched, func(a, b Member) int { return a.LastChanged.Compare(b.LastChanged) })
	}
	page := []Member{}
	if offset < len(matched) {
		page = matched[offset:min(offset+count, len(matched))]
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"members": page, "list_id": f.ListID, "total_items": len(matched)})
}

func (f *Fake) get(w http.ResponseWriter, hash string) {
	f.mu.Lock()
	m := f.find(strings.ToLower(hash))
	var cp Member
	if m != nil {
		cp = *m
	}
	f.mu.Unlock()
	if m == nil {
		problem(w, http.StatusNotFound, "Resource Not Found", "The requested resource could not be found.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(cp)
}

func (f *Fake) tags(w http.ResponseWriter, r *http.Request, hash string) {
	var body struct {
		Tags []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"tags"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		problem(w, http.StatusBadRequest, "Invalid Resource", "The resource submitted could not be validated: "+err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.find(strings.ToLower(hash))
	if m == nil {
		problem(w, http.StatusNotFound, "Resource Not Found", "The requested resource could not be found.")
		return
	}
	if f.reject[m.ID] {
		problem(w, http.StatusBadRequest, "Invalid Resource", "This member's tags cannot be changed.")
		return
	}
	for _, t := range body.Tags {
		if t.Status != "active" && t.Status != "inactive" {
			problem(w, http.StatusBadRequest, "Invalid Resource", fmt.Sprintf("tags item status %q is not one of active, inactive", t.Status))
			return
		}
	}
	for _, t := range body.Tags {
		i := slices.IndexFunc(m.Tags, func(x Tag) bool { return x.Name == t.Name })
		switch {
		case t.Status == "active" && i < 0:
			id, ok := f.tagIDs[t.Name]
			if !ok {
				id = len(f.tagIDs) + 1
				f.tagIDs[t.Name] = id
			}
			m.Tags = append(m.Tags, Tag{ID: id, Name: t.Name})
		case t.Status == "inactive" && i >= 0:
			m.Tags = slices.Delete(m.Tags, i, i+1)
		}
	}
	f.clock = f.clock.Add(time.Second)
	m.LastChanged = f.clock
	w.WriteHeader(http.StatusNoContent)
}

// WebhookForm is the form body of an audience webhook of type typ (one of
// subscribe, unsubscribe, profile, cleaned) about the member with hash,
// as Mailchimp POSTs it (application/x-www-form-urlencoded, fired_at in
// UTC as "2006-01-02 15:04:05", the member in data[...]).
func (f *Fake) WebhookForm(typ, hash string) (url.Values, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.find(hash)
	if m == nil {
		return nil, fmt.Errorf("no member %s", hash)
	}
	v := url.Values{
		"type":             {typ},
		"fired_at":         {f.clock.UTC().Format("2006-01-02 15:04:05")},
		"data[id]":         {m.ID[:10]},
		"data[list_id]":    {f.ListID},
		"data[email]":      {m.EmailAddress},
		"data[email_type]": {"html"},
		"data[ip_opt]":     {"198.51.100.7"},
	}
	for k, val := range m.MergeFields {
		v.Set("data[merges]["+k+"]", val)
	}
	switch typ {
	case "unsubscribe":
		v.Set("data[action]", "unsub")
		v.Set("data[reason]", "manual")
	case "cleaned":
		v.Set("data[reason]", "hard")
	}
	return v, nil
}
