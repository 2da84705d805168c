// Package hubspotfake is a faithful in-process fake of the HubSpot APIs the
// connector uses, in the spirit of net/http/httptest: the CRM v3 object
// endpoints (list, get, batch read/update/upsert, search, merge, GDPR delete),
// v4 association batch reads, the properties API, Lists v3, the OAuth token
// endpoint, HubSpot's rate limits with their headers and 429 bodies, and a
// webhook sender that signs deliveries as HubSpot does (v1, v2, v3).
//
// It is part of the product (`connector sandbox` serves it) as well as the
// test double of connectors/hubspot, so it keeps no package-level state:
// several fakes can run in one process. It uses only the standard library so
// that it can be imported anywhere without dragging dependencies along.
//
// Faithfulness notes (see ../README.md for sources): list pages are capped
// at 100 and omit `paging` on the last page; search pages are capped at 200,
// fail with 400 once paging reaches 10,000 results, carry no rate-limit
// headers and have their own per-second budget; batch writes accept at most
// 100 inputs and answer 207 with per-record errors for missing ids; property
// values are always strings.
package hubspotfake

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
)

// Options configure a Fake. Zero fields take HubSpot's documented defaults.
type Options struct {
	PortalID int64 // default 62515
	// Tokens are accepted private-app bearer tokens.
	Tokens []string
	// OAuth client credentials and the refresh token the fake recognises.
	ClientID, ClientSecret, RefreshToken string
	// AppID and DeveloperAPIKey are the public app whose webhook
	// subscriptions the webhooks API serves, and the developer key
	// (hapikey) it accepts there.
	AppID           int64
	DeveloperAPIKey string
	// AccessTokenTTL is the life of OAuth access tokens (default 1800s).
	AccessTokenTTL time.Duration
	// RotateRefreshTokens issues a new refresh token on each refresh.
	RotateRefreshTokens bool

	// BurstMax requests per BurstInterval (rolling window); default 190 per 10s.
	BurstMax      int
	BurstInterval time.Duration
	// DailyMax requests per UTC day; default 1,000,000.
	DailyMax int
	// SearchPerSecond is the search endpoints' own budget; default 5.
	SearchPerSecond int
	// SearchIndexLag hides records from search for this long after a write.
	SearchIndexLag time.Duration
	// Now is the fake's clock; default time.Now.
	Now func() time.Time
	// ValidateRequest, when set, checks every API request before it is
	// served; a failure is answered 400 VALIDATION_ERROR with its text, so
	// the fake rejects what the official spec rejects (see package spec).
	// It must restore the request body it reads.
	ValidateRequest func(*http.Request) error
}

func (o *Options) defaults() {
	if o.PortalID == 0 {
		o.PortalID = 62515
	}
	if o.AccessTokenTTL == 0 {
		o.AccessTokenTTL = 1800 * time.Second
	}
	if o.BurstMax == 0 {
		o.BurstMax = 190
	}
	if o.BurstInterval == 0 {
		o.BurstInterval = 10 * time.Second
	}
	if o.DailyMax == 0 {
		o.DailyMax = 1_000_000
	}
	if o.SearchPerSecond == 0 {
		o.SearchPerSecond = 5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Limits of the real API that the fake enforces.
const (
	ListPageMax        = 100
	SearchPageMax      = 200
	SearchResultsMax   = 10000
	BatchMax           = 100
	MembershipsPageMax = 250
	WebhookBatchMax    = 100
)

// objectType describes one CRM object type.
type objectType struct {
	Name         string // contacts
	TypeID       string // 0-1
	ModifiedProp string // lastmodifieddate or hs_lastmodifieddate
	Singular     string // CONTACT, for error messages
	Defaults     []string
}

func objectTypes() []objectType {
	return []objectType{
		{"contacts", "0-1", "lastmodifieddate", "CONTACT", []string{"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"}},
		{"companies", "0-2", "hs_lastmodifieddate", "COMPANY", []string{"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"}},
		{"deals", "0-3", "hs_lastmodifieddate", "DEAL", []string{"amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate", "hs_object_id", "pipeline"}},
		{"line_items", "0-8", "hs_lastmodifieddate", "LINE_ITEM", []string{"createdate", "hs_lastmodifieddate", "hs_object_id", "name", "price", "quantity"}},
		{"orders", "0-123", "hs_lastmodifieddate", "ORDER", []string{"createdate", "hs_lastmodifieddate", "hs_object_id", "hs_order_name", "hs_total_price"}},
	}
}

func lookupType(s string) (objectType, bool) {
	for _, t := range objectTypes() {
		if s == t.Name || s == t.TypeID || s == strings.ToLower(t.Singular) {
			return t, true
		}
	}
	return objectType{}, false
}

// record is one stored CRM object.
type record struct {
	id         int64
	props      map[string]string
	createdAt  time.Time
	updatedAt  time.Time
	archived   bool
	archivedAt time.Time
	mergedInto int64 // non-zero once merged away
	assoc      map[string][]int64
}

type objectStore struct {
	typ  objectType
	byID map[int64]*record
	ids  []int64 // ascending, every record ever created
}

// Fake is an in-memory HubSpot portal with its HTTP API.
type Fake struct {
	// Server serves the API (Start, URL, Client, Close, Serve, Handler,
	// Wrap).
	*fakekit.Server
	// Faults injects failures into CRM requests after authentication
	// (Inject, SetRate, SetLatency, Served); the token endpoint is spared.
	*fakekit.Faults

	opts Options

	mu      sync.Mutex
	nextID  int64
	objects map[string]*objectStore // by type name
	props   map[string]map[string]*Property
	lists   map[string]*list
	nextLst int64

	access  map[string]time.Time // OAuth access token → expiry
	refresh map[string]bool

	limits   limiter
	failIDs  map[string]string // record id → error category for batch updates
	calls    map[string]int
	stats    Stats
	upserts  UpsertStats
	events   []Event
	nextEvt  int64
	router   *http.ServeMux
	nums     map[string]numVal // parse cache for search comparisons
	rejected atomic.Int64
	subs     []*Subscription // the app's webhook subscriptions
	nextSub  int64
}

// Stats are counters over the fake's life.
type Stats struct {
	Requests         int // every request that reached the API
	RateLimited      int // 429s from the real budgets (the client overspent)
	SearchLimited    int // 429s from the search budget
	Injected429      int // injected faults (see Faults) answered 429
	Injected5xx      int // injected faults answered 5xx
	Unauthorized     int
	MaxInWindow      int // most requests seen in one rolling burst window
	MaxSearchInSec   int // most search requests seen in one second
	DailyUsed        int
	DailyMax         int // the daily limit the headers report
	TokenRefreshes   int
	RejectedRequests int // 4xx other than auth and rate limits
}

// New returns an empty portal with HubSpot's default properties.
func New(opts Options) *Fake {
	opts.defaults()
	f := &Fake{
		opts:    opts,
		nextID:  1000,
		objects: map[string]*objectStore{},
		props:   map[string]map[string]*Property{},
		lists:   map[string]*list{},
		nextLst: 1,
		access:  map[string]time.Time{},
		refresh: map[string]bool{},
		calls:   map[string]int{},
	}
	if opts.RefreshToken != "" {
		f.refresh[opts.RefreshToken] = true
	}
	for _, t := range objectTypes() {
		f.objects[t.Name] = &objectStore{typ: t, byID: map[int64]*record{}}
		f.props[t.Name] = defaultProperties(t)
	}
	f.limits.init(opts)
	f.router = f.mux()
	f.Server = fakekit.NewServer(http.HandlerFunc(f.serveHTTP))
	f.Faults = fakekit.NewFaults(platformError, defaultFaults()...)
	return f
}

// PortalID returns the portal (hub) id.
func (f *Fake) PortalID() int64 { return f.opts.PortalID }

func (f *Fake) now() time.Time { return f.opts.Now().UTC() }

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ---- seeding and inspection ----

// Object is a CRM record as tests seed and inspect it.
type Object struct {
	ID         string
	Properties map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Archived   bool
	// Associations by target type name (contacts, companies, deals,
	// line_items, orders) to record ids.
	Associations map[string][]string
}

// Create stores a new record of objectType ("contacts", "companies",
// "deals", "line_items", "orders") and returns its id. Zero times default
// to the fake's clock; the modified-date property follows UpdatedAt.
func (f *Fake) Create(objectType string, o Object) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.createLocked(objectType, o)
}

// CreateMany stores n records built by gen(i) and returns their ids; it is
// the fast path for seeding large portals.
func (f *Fake) CreateMany(objectType string, n int, gen func(i int) Object) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, n)
	for i := range n {
		ids[i] = f.createLocked(objectType, gen(i))
	}
	return ids
}

func (f *Fake) createLocked(objectType string, o Object) string {
	t, ok := lookupType(objectType)
	if !ok {
		panic("hubspotfake: unknown object type " + objectType)
	}
	st := f.objects[t.Name]
	f.nextID++
	id := f.nextID
	if o.ID != "" {
		if n, err := strconv.ParseInt(o.ID, 10, 64); err == nil && st.byID[n] == nil {
			id = n
			if n > f.nextID {
				f.nextID = n
			}
		}
	}
	now := f.now()
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = o.CreatedAt
	}
	r := &record{id: id, props: map[string]string{}, createdAt: o.CreatedAt.UTC(), updatedAt: o.UpdatedAt.UTC(), assoc: map[string][]int64{}}
	for k, v := range o.Properties {
		r.props[k] = v
	}
	r.props["hs_object_id"] = strconv.FormatInt(id, 10)
	r.props["createdate"] = formatTime(r.createdAt)
	r.props[t.ModifiedProp] = formatTime(r.updatedAt)
	if o.Archived {
		r.archived, r.archivedAt = true, r.updatedAt
	}
	st.byID[id] = r
	if n := len(st.ids); n == 0 || st.ids[n-1] < id {
		st.ids = append(st.ids, id)
	} else {
		i := sort.Search(n, func(i int) bool { return st.ids[i] >= id })
		st.ids = append(st.ids, 0)
		copy(st.ids[i+1:], st.ids[i:])
		st.ids[i] = id
	}
	for to, others := range o.Associations {
		tt, ok := lookupType(to)
		if !ok {
			continue
		}
		for _, oid := range others {
			n, _ := strconv.ParseInt(oid, 10, 64)
			f.associateLocked(t.Name, id, tt.Name, n)
		}
	}
	return strconv.FormatInt(id, 10)
}

func (f *Fake) associateLocked(fromType string, from int64, toType string, to int64) {
	add := func(st *objectStore, id int64, typ string, other int64) {
		r := st.byID[id]
		if r == nil {
			return
		}
		for _, x := range r.assoc[typ] {
			if x == other {
				return
			}
		}
		r.assoc[typ] = append(r.assoc[typ], other)
	}
	add(f.objects[fromType], from, toType, to)
	add(f.objects[toType], to, fromType, from)
}

// Associate links two records both ways.
func (f *Fake) Associate(fromType, fromID, toType, toID string) {
	ft, _ := lookupType(fromType)
	tt, _ := lookupType(toType)
	a, _ := strconv.ParseInt(fromID, 10, 64)
	b, _ := strconv.ParseInt(toID, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.associateLocked(ft.Name, a, tt.Name, b)
}

// Update sets properties on a record as a user in HubSpot would, bumping
// its modified date, and records propertyChange events.
func (f *Fake) Update(objectType, id string, props map[string]string) bool {
	t, _ := lookupType(objectType)
	n, _ := strconv.ParseInt(id, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.liveLocked(t.Name, n)
	if r == nil {
		return false
	}
	f.writeLocked(t, r, props, "CRM_UI")
	return true
}

// SetModified forces a record's modified date (to build ties in tests).
func (f *Fake) SetModified(objectType, id string, at time.Time) {
	t, _ := lookupType(objectType)
	n, _ := strconv.ParseInt(id, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.objects[t.Name].byID[n]; r != nil {
		r.updatedAt = at.UTC()
		r.props[t.ModifiedProp] = formatTime(r.updatedAt)
	}
}

func (f *Fake) writeLocked(t objectType, r *record, props map[string]string, source string) {
	now := f.now()
	if !now.After(r.updatedAt) {
		now = r.updatedAt.Add(time.Millisecond)
	}
	for k, v := range props {
		if r.props[k] == v {
			continue
		}
		r.props[k] = v
		f.eventLocked(t, "propertyChange", r.id, func(e *Event) {
			e.PropertyName, e.PropertyValue, e.ChangeSource = k, v, source
		})
	}
	r.updatedAt = now
	r.props[t.ModifiedProp] = formatTime(now)
}

// Archive deletes a record as a user would (it moves to the archived list).
func (f *Fake) Archive(objectType, id string) bool {
	t, _ := lookupType(objectType)
	n, _ := strconv.ParseInt(id, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.archiveLocked(t, n)
}

func (f *Fake) archiveLocked(t objectType, n int64) bool {
	r := f.liveLocked(t.Name, n)
	if r == nil {
		return false
	}
	now := f.now()
	r.archived, r.archivedAt = true, now
	f.eventLocked(t, "deletion", n, nil)
	return true
}

// Merge merges record loser into primary (contacts or companies) the way
// HubSpot does: the loser disappears, its id redirects to the primary, and
// the primary's hs_merged_object_ids lists it. It reports whether both
// records were live and were merged.
func (f *Fake) Merge(objectType, primary, loser string) bool {
	t, _ := lookupType(objectType)
	p, _ := strconv.ParseInt(primary, 10, 64)
	l, _ := strconv.ParseInt(loser, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mergeLocked(t, p, l) != nil
}

func (f *Fake) mergeLocked(t objectType, p, l int64) *record {
	pr, lr := f.liveLocked(t.Name, p), f.liveLocked(t.Name, l)
	if pr == nil || lr == nil || p == l {
		return nil
	}
	lr.mergedInto = p
	for k, v := range lr.props {
		if _, ok := pr.props[k]; !ok && k != "hs_object_id" {
			pr.props[k] = v
		}
	}
	merged := pr.props["hs_merged_object_ids"]
	ids := strconv.FormatInt(l, 10)
	if lm := lr.props["hs_merged_object_ids"]; lm != "" {
		ids += ";" + lm
	}
	if merged == "" {
		merged = ids
	} else {
		merged += ";" + ids
	}
	f.writeLocked(t, pr, map[string]string{"hs_merged_object_ids": merged}, "CRM_UI")
	for typ, others := range lr.assoc {
		for _, o := range others {
			f.associateLocked(t.Name, p, typ, o)
		}
	}
	f.eventLocked(t, "merge", p, func(e *Event) {
		e.PrimaryObjectID, e.MergedObjectIDs, e.NewObjectID = p, []int64{l}, p
	})
	return pr
}

// PrivacyDelete permanently erases a contact (GDPR delete): it is gone from
// every listing, including the archived one.
func (f *Fake) PrivacyDelete(id string) bool {
	n, _ := strconv.ParseInt(id, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gdprLocked(n)
}

func (f *Fake) gdprLocked(n int64) bool {
	st := f.objects["contacts"]
	if st.byID[n] == nil {
		return false
	}
	delete(st.byID, n)
	t := st.typ
	f.eventLocked(t, "privacyDeletion", n, nil)
	f.eventLocked(t, "deletion", n, nil)
	return true
}

// Get returns a record's current state (following merges), or false.
func (f *Fake) Get(objectType, id string) (Object, bool) {
	t, _ := lookupType(objectType)
	n, _ := strconv.ParseInt(id, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.resolveLocked(t.Name, n)
	if r == nil {
		return Object{}, false
	}
	return toObject(r), true
}

func toObject(r *record) Object {
	o := Object{ID: strconv.FormatInt(r.id, 10), Properties: map[string]string{}, CreatedAt: r.createdAt, UpdatedAt: r.updatedAt, Archived: r.archived, Associations: map[string][]string{}}
	for k, v := range r.props {
		o.Properties[k] = v
	}
	for typ, ids := range r.assoc {
		for _, id := range ids {
			o.Associations[typ] = append(o.Associations[typ], strconv.FormatInt(id, 10))
		}
	}
	return o
}

// Count returns the number of live (not archived, not merged) records.
func (f *Fake) Count(objectType string) int {
	t, _ := lookupType(objectType)
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.objects[t.Name].byID {
		if !r.archived && r.mergedInto == 0 {
			n++
		}
	}
	return n
}

// liveLocked returns a live record by id, without following merges.
func (f *Fake) liveLocked(typ string, id int64) *record {
	r := f.objects[typ].byID[id]
	if r == nil || r.archived || r.mergedInto != 0 {
		return nil
	}
	return r
}

// resolveLocked follows merges to the surviving record.
func (f *Fake) resolveLocked(typ string, id int64) *record {
	st := f.objects[typ]
	for range 16 {
		r := st.byID[id]
		if r == nil {
			return nil
		}
		if r.mergedInto == 0 {
			if r.archived {
				return nil
			}
			return r
		}
		id = r.mergedInto
	}
	return nil
}

// Calls returns how many requests the fake served per endpoint, keyed like
// "POST /crm/v3/objects/contacts/search" (object types by name, ids as {id}).
func (f *Fake) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.calls))
	for k, v := range f.calls {
		out[k] = v
	}
	return out
}

// CallCount returns the count for one endpoint key (see Calls).
func (f *Fake) CallCount(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

// ResetCalls zeroes the per-endpoint counters.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = map[string]int{}
}

// ResetStats zeroes the counters of Stats and empties the rolling rate
// windows (the daily budget keeps its state).
func (f *Fake) ResetStats() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats = Stats{}
	f.limits.window, f.limits.searchWin = nil, nil
	f.rejected.Store(0)
	f.Faults.ResetServed()
}

// Stats returns the fake's counters.
func (f *Fake) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stats
	s.DailyUsed = f.limits.dailyUsed
	s.DailyMax = f.opts.DailyMax
	s.RejectedRequests = int(f.rejected.Load())
	for kind, n := range f.Faults.Served() {
		switch {
		case kind == "429":
			s.Injected429 += n
		case strings.HasPrefix(kind, "5"):
			s.Injected5xx += n
		}
	}
	return s
}
