// Package salesforcefake is a faithful in-process fake of the Salesforce
// REST API, used like net/http/httptest: the connector's tests, the
// conformance kit and `connector sandbox` run against it.
//
// It serves the OAuth token endpoint (refresh token, JWT bearer checked
// against an RSA public key, client credentials), the versioned data API
// (query/queryAll with a SOQL subset and nextRecordsUrl paging, sObject
// rows, describe, getUpdated/getDeleted, sObject Collections with
// allOrNone semantics, Bulk API 2.0 query jobs with CSV results and
// Sforce-Locator paging, /limits) and sends Outbound Messages. Every data
// response carries Sforce-Limit-Info; the daily budget runs down and ends
// in 403 REQUEST_LIMIT_EXCEEDED. Faults (5xx, connection resets, expired
// sessions; plugins/sdk/adapter/fakekit decides when, the fake answers Salesforce's
// error bodies) and per-record save errors can be injected, and every call
// is counted per endpoint.
//
// Only the standard library is used: the fake must stay importable by
// anything (tests, the sandbox, plugins' conformance runs) without pulling
// in the connector's dependencies. No package-level mutable state: several
// fakes may run in one process.
package salesforcefake

import (
	"crypto/rsa"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
)

// Defaults used when Options leave a field empty.
const (
	DefaultOrgID        = "00D000000000001AAA"
	DefaultUserID       = "005000000000001AAA"
	DefaultClientID     = "fake-consumer-key"
	DefaultClientSecret = "fake-consumer-secret"
	DefaultRefreshToken = "fake-refresh-token"
	DefaultUsername     = "integration@example.com"
	DefaultAudience     = "https://login.salesforce.com"
	DefaultDailyLimit   = 100000
	DefaultPageSize     = 2000
)

// Options configure a Fake. Zero values take the defaults above.
type Options struct {
	OrgID        string
	UserID       string // the integration user every token acts as
	ClientID     string // connected app consumer key
	ClientSecret string
	RefreshToken string
	Username     string // JWT sub
	// JWTKey verifies JWT bearer assertions; nil disables that flow.
	JWTKey   *rsa.PublicKey
	Audience string // JWT aud; default https://login.salesforce.com
	// SessionTTL expires access tokens after this long; 0 never.
	SessionTTL time.Duration
	// PageSize caps query batches (the platform's 2,000); smaller in tests.
	PageSize int
	// DailyLimit is the org's DailyApiRequests.Max.
	DailyLimit int
	// BulkPolls is how many status polls a Bulk job reports InProgress
	// before JobComplete (default 1).
	BulkPolls int
	// APIVersions lists served versions, e.g. "62.0"; default 55.0 to 62.0.
	APIVersions []string
	// Now is the clock for SystemModstamp and session expiry.
	Now func() time.Time
}

type saveError struct {
	code, msg string
	fields    []string
}

// Fake is a fake Salesforce org. Create it with New.
type Fake struct {
	// Server serves the fake: it is both the login host and the instance
	// (Start, URL, Client, Close, Serve, Handler, Wrap).
	*fakekit.Server
	// Faults injects failures into data requests (Inject, SetRate,
	// SetLatency, Served). The version list and the token endpoint are
	// spared.
	*fakekit.Faults

	opts Options

	mu        sync.Mutex
	schema    map[string]map[string]string
	records   map[string]map[string]*record
	ordered   map[string][]*record // per object, in creation (= Id) order
	members   map[string]string    // "campaign|contact-or-lead" → newest CampaignMember id
	seq       int64
	lastStamp time.Time
	tokens    map[string]time.Time // access token → issued at
	expired   map[string]bool
	usage     int
	calls     map[string]int
	failIDs   map[string]saveError
	locators  map[string]*locator
	jobs      map[string]*bulkJob
	failBulk  int
	batches   []int
	upserts   upsertState
}

// New returns a Fake with the given options.
func New(opts Options) *Fake {
	if opts.OrgID == "" {
		opts.OrgID = DefaultOrgID
	}
	if opts.UserID == "" {
		opts.UserID = DefaultUserID
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.RefreshToken == "" {
		opts.RefreshToken = DefaultRefreshToken
	}
	if opts.Username == "" {
		opts.Username = DefaultUsername
	}
	if opts.Audience == "" {
		opts.Audience = DefaultAudience
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.DailyLimit <= 0 {
		opts.DailyLimit = DefaultDailyLimit
	}
	if opts.BulkPolls <= 0 {
		opts.BulkPolls = 1
	}
	if len(opts.APIVersions) == 0 {
		for v := 55; v <= 62; v++ {
			opts.APIVersions = append(opts.APIVersions, fmt.Sprintf("%d.0", v))
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &Fake{
		opts:     opts,
		schema:   baseSchema(),
		records:  map[string]map[string]*record{},
		ordered:  map[string][]*record{},
		members:  map[string]string{},
		tokens:   map[string]time.Time{},
		expired:  map[string]bool{},
		calls:    map[string]int{},
		failIDs:  map[string]saveError{},
		locators: map[string]*locator{},
		jobs:     map[string]*bulkJob{},
	}
	f.Server = fakekit.NewServer(f.mux())
	f.Faults = fakekit.NewFaults(f.platformError, defaultFaults()...)
	return f
}

// Options returns the effective options (with defaults filled in).
func (f *Fake) Options() Options { return f.opts }

// now returns a strictly increasing clock reading, truncated to the
// millisecond like SystemModstamp.
func (f *Fake) now() time.Time {
	t := f.opts.Now().UTC().Truncate(time.Millisecond)
	if !t.After(f.lastStamp) {
		t = f.lastStamp.Add(time.Millisecond)
	}
	f.lastStamp = t
	return t
}

// ---- schema and seeding ----

// AddField adds a (custom) field to an object's schema, as an admin would.
func (f *Fake) AddField(object, field, typ string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.schema[object] == nil {
		f.schema[object] = map[string]string{}
	}
	f.schema[object][field] = typ
}

// Insert stores a new record and returns its id. Fields are coerced to the
// schema; unknown fields panic, as a seeding mistake is a test bug.
// SystemModstamp may be given to place the record in time.
func (f *Fake) Insert(object string, fields map[string]any) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.insertLocked(object, fields, f.opts.UserID)
	if err != nil {
		panic(fmt.Sprintf("salesforcefake: inserting %s: %v", object, err))
	}
	return r.id
}

func (f *Fake) insertLocked(object string, fields map[string]any, createdBy string) (*record, error) {
	schema := f.schema[object]
	if schema == nil {
		return nil, fmt.Errorf("unknown object %s", object)
	}
	f.seq++
	r := &record{typ: object, id: idFor(object, f.seq), fields: map[string]any{}}
	now := f.now()
	r.fields["CreatedDate"] = now
	r.fields["SystemModstamp"] = now
	r.fields["LastModifiedDate"] = now
	r.fields["CreatedById"] = createdBy
	for k, v := range fields {
		typ, ok := schema[k]
		if !ok {
			return nil, &saveError{code: "INVALID_FIELD", msg: fmt.Sprintf("No such column '%s' on sobject of type %s", k, object), fields: []string{k}}
		}
		cv, err := coerce(typ, v)
		if err != nil {
			return nil, &saveError{code: "INVALID_TYPE_ON_FIELD_IN_RECORD", msg: fmt.Sprintf("%s: %v", k, err), fields: []string{k}}
		}
		r.fields[k] = cv
	}
	if f.records[object] == nil {
		f.records[object] = map[string]*record{}
	}
	f.records[object][r.id] = r
	f.ordered[object] = append(f.ordered[object], r)
	if object == "CampaignMember" {
		f.members[memberKey(r.fields)] = r.id
	}
	return r, nil
}

func (e *saveError) Error() string { return e.code + ": " + e.msg }

// Update changes fields of a record as a user would, moving SystemModstamp.
func (f *Fake) Update(object, id string, fields map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.records[object][id]
	if r == nil {
		panic("salesforcefake: updating unknown " + object + " " + id)
	}
	if err := f.updateLocked(r, fields); err != nil {
		panic(fmt.Sprintf("salesforcefake: updating %s %s: %v", object, id, err))
	}
}

func (f *Fake) updateLocked(r *record, fields map[string]any) error {
	if r.typ == "TopicAssignment" && len(fields) > 0 {
		return &saveError{code: "INVALID_TYPE_FOR_OPERATION", msg: "entity type cannot be updated: TopicAssignment", fields: []string{}}
	}
	schema := f.schema[r.typ]
	set := map[string]any{}
	for k, v := range fields {
		if k == "Id" || k == "attributes" {
			continue
		}
		typ, ok := schema[k]
		if !ok {
			return &saveError{code: "INVALID_FIELD", msg: fmt.Sprintf("No such column '%s' on sobject of type %s", k, r.typ), fields: []string{k}}
		}
		cv, err := coerce(typ, v)
		if err != nil {
			return &saveError{code: "INVALID_TYPE_ON_FIELD_IN_RECORD", msg: fmt.Sprintf("%s: %v", k, err), fields: []string{k}}
		}
		set[k] = cv
	}
	for k, v := range set {
		r.fields[k] = v
	}
	if _, given := fields["SystemModstamp"]; !given {
		now := f.now()
		r.fields["SystemModstamp"] = now
		r.fields["LastModifiedDate"] = now
	}
	return nil
}

// Delete moves a record to the recycle bin: it disappears from query and
// shows in queryAll with IsDeleted=true and in getDeleted.
func (f *Fake) Delete(object, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.records[object][id]; r != nil {
		f.deleteLocked(r)
	}
}

func (f *Fake) deleteLocked(r *record) {
	now := f.now()
	r.deleted = true
	r.deletedAt = now
	r.fields["SystemModstamp"] = now
}

// Purge empties a deleted record out of the recycle bin: queryAll no
// longer returns it, getDeleted still does.
func (f *Fake) Purge(object, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.records[object][id]; r != nil && r.deleted {
		r.hardDeleted = true
	}
}

// Merge merges loser into master the way the Salesforce merge does: the
// loser is deleted with MasterRecordId pointing at the master, and the
// master's SystemModstamp moves.
func (f *Fake) Merge(object, masterID, loserID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, l := f.records[object][masterID], f.records[object][loserID]
	if m == nil || l == nil {
		panic("salesforcefake: merging unknown records")
	}
	l.fields["MasterRecordId"] = masterID
	f.deleteLocked(l)
	_ = f.updateLocked(m, nil)
}

// Get returns a copy of a record's fields (with Id and IsDeleted), or nil.
func (f *Fake) Get(object, id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.records[object][id]
	if r == nil {
		return nil
	}
	out := map[string]any{"Id": r.id, "IsDeleted": r.deleted}
	for k, v := range r.fields {
		out[k] = v
	}
	return out
}

// Records returns copies of every live record of an object, ordered by Id.
func (f *Fake) Records(object string) []map[string]any {
	f.mu.Lock()
	ids := make([]string, 0, len(f.records[object]))
	for id, r := range f.records[object] {
		if !r.deleted {
			ids = append(ids, id)
		}
	}
	f.mu.Unlock()
	sort.Strings(ids)
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, f.Get(object, id))
	}
	return out
}

// CampaignMembers returns the live members of a campaign as
// ContactId-or-LeadId → the CampaignMember's CreatedById.
func (f *Fake) CampaignMembers(campaignID string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for _, r := range f.records["CampaignMember"] {
		if r.deleted || r.fields["CampaignId"] != campaignID {
			continue
		}
		who, _ := r.fields["ContactId"].(string)
		if who == "" {
			who, _ = r.fields["LeadId"].(string)
		}
		by, _ := r.fields["CreatedById"].(string)
		out[who] = by
	}
	return out
}

// SeedContacts inserts n Contacts with generated names and emails; extra,
// when non-nil, adds or overrides fields per index. It returns the ids.
func (f *Fake) SeedContacts(n int, extra func(i int) map[string]any) []string {
	return f.seed("Contact", n, func(i int) map[string]any {
		m := map[string]any{
			"FirstName": fmt.Sprintf("First%d", i), "LastName": fmt.Sprintf("Last%d", i),
			"Email": fmt.Sprintf("person%d@example.com", i), "MailingCountry": "Germany",
		}
		if extra != nil {
			for k, v := range extra(i) {
				m[k] = v
			}
		}
		return m
	})
}

// Seed inserts n records of any object built by gen and returns their ids.
func (f *Fake) Seed(object string, n int, gen func(i int) map[string]any) []string {
	return f.seed(object, n, gen)
}

func (f *Fake) seed(object string, n int, gen func(i int) map[string]any) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, n)
	for i := range n {
		r, err := f.insertLocked(object, gen(i), f.opts.UserID)
		if err != nil {
			panic(fmt.Sprintf("salesforcefake: seeding %s: %v", object, err))
		}
		ids[i] = r.id
	}
	return ids
}

// ---- faults ----

// FailRecord makes every save of the record id fail with the given status
// code and message (e.g. FIELD_CUSTOM_VALIDATION_EXCEPTION), for partial
// failures in collections. An empty code clears it.
func (f *Fake) FailRecord(id, code, message string, fields ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if code == "" {
		delete(f.failIDs, id)
		return
	}
	f.failIDs[id] = saveError{code: code, msg: message, fields: fields}
}

// ExpireSessions invalidates every access token issued so far.
func (f *Fake) ExpireSessions() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for t := range f.tokens {
		f.expired[t] = true
	}
}

// FailNextBulkJobs makes the next n Bulk query jobs end in state Failed.
func (f *Fake) FailNextBulkJobs(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failBulk += n
}

// ---- limits and counters ----

// SetDailyLimit changes DailyApiRequests.Max.
func (f *Fake) SetDailyLimit(max int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opts.DailyLimit = max
}

// ResetUsage starts a new 24-hour window: api-usage goes back to 0.
func (f *Fake) ResetUsage() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.usage = 0
}

// Usage returns the API requests counted against the daily limit.
func (f *Fake) Usage() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.usage
}

// Calls returns the number of requests per endpoint, keyed like
// "GET /query", "PATCH /composite/sobjects", "POST /services/oauth2/token".
func (f *Fake) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.calls))
	for k, v := range f.calls {
		out[k] = v
	}
	return out
}

// CallCount returns the number of requests to one endpoint key.
func (f *Fake) CallCount(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

// TotalDataCalls returns every request to the data API (token and version
// list calls excluded).
func (f *Fake) TotalDataCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, v := range f.calls {
		if !strings.Contains(k, "/services/") {
			n += v
		}
	}
	return n
}

// CollectionBatchSizes returns the record count of every sObject
// Collections request received, in order.
func (f *Fake) CollectionBatchSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.batches...)
}

// ResetCalls zeroes the per-endpoint counters and batch log.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = map[string]int{}
	f.batches = nil
}

func memberKey(fields map[string]any) string {
	cid, _ := fields["CampaignId"].(string)
	who, _ := fields["ContactId"].(string)
	if who == "" {
		who, _ = fields["LeadId"].(string)
	}
	return cid + "|" + who
}
