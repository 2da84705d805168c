package marketo

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// Name is the platform name of refs and of the adapter.
const Name = "marketo"

// Version is the plugin's version.
const Version = "0.1.0"

// Limits from Marketo's developer guides ("Leads", "List Membership",
// "Activities", "Error Codes").
const (
	maxBatch      = 300 // leads per sync, ids per filter or list call, activities per page
	maxLeadIDs    = 30  // leadIds per activities call
	window        = 20 * time.Second
	windowCalls   = 100 // calls per window
	maxConcurrent = 10  // calls in flight
	defaultQuota  = 50_000
	tokenSlack    = 60 * time.Second // renew a token this long before it expires
)

// Config is the plugin's config section.
type Config struct {
	ClientID     string `spec:"client_id,required" doc:"client id of the LaunchPoint custom service"`
	ClientSecret string `spec:"client_secret,required,secret" doc:"client secret of the LaunchPoint custom service"`
	BaseURL      string `spec:"base_url,required" doc:"REST endpoint of the instance, https://<munchkin-id>.mktorest.com"`
	IdentityURL  string `spec:"identity_url" doc:"identity endpoint; default: the REST endpoint plus /identity"`
	ListFolder   int    `spec:"list_folder" default:"1" min:"1" doc:"id of the folder new static lists are created in"`
	PageSize     int    `spec:"page_size" default:"300" min:"1" max:"300" doc:"lead changes read per call"`
	// History bounds the first (or a full) pull: lead changes older than
	// this are not read. Marketo keeps most activities 90 days or more.
	History time.Duration `spec:"history" default:"8760h" min:">0" doc:"how far back the first pull reads lead changes"`
	// BulkExtract makes a first (or full) pull read the leads with bulk
	// lead extract jobs, by creation date, instead of the lead changes.
	BulkExtract    bool          `spec:"bulk_extract" default:"false" doc:"read the leads of a first pull with bulk lead extract jobs (for large instances)"`
	BulkPoll       time.Duration `spec:"bulk_poll" default:"60s" min:">0" doc:"least time between two status calls of a bulk extract job (Marketo updates it once a minute)"`
	Engagement     bool          `spec:"engagement" default:"true" doc:"read email opens and clicks, web visits and form fills as engagement"`
	EngagementDays int           `spec:"engagement_days" default:"90" min:"1" max:"365" doc:"days of activities counted as engagement"`
	DailyQuota     int           `spec:"daily_quota" default:"50000" min:"1" doc:"calls per day of the subscription"`
	RateCalls      int           `spec:"rate_calls" default:"90" min:"1" max:"100" doc:"calls the plugin spends per 20-second window (Marketo allows 100)"`
	Concurrency    int           `spec:"concurrency" default:"8" min:"1" max:"10" doc:"calls in flight at once (Marketo allows 10)"`
	// The pacing the plugin asks of the host's live write-back.
	PropertyEvery   time.Duration `spec:"property_every" default:"1s" min:"0" doc:"least time between two live writes of segment values"`
	MembershipEvery time.Duration `spec:"membership_every" default:"30s" min:"0" doc:"how long live list changes are held so that many leads share each list's call"`
	Timeout         time.Duration `spec:"timeout" default:"60s" min:">0" doc:"per-request timeout"`
}

// Plugin is the Marketo adapter.
type Plugin struct {
	sdk.Unimplemented
	log *slog.Logger

	mu     sync.Mutex
	obs    adapter.HTTPObserver
	cfg    Config
	base   string
	client *httpkit.Client
	token  *tokenSource
	slots  chan struct{} // one per call in flight
	quota  quotaState

	ensureMu sync.Mutex
	listIDs  map[string]string // list name → id
	fields   map[string]bool   // lead field API names known to exist
}

// quotaState is what the plugin knows of today's quota.
type quotaState struct {
	used      int       // calls counted today
	day       time.Time // the Central-time day they were counted on
	exhausted bool      // Marketo answered 607 today
}

// New returns an unconfigured plugin that logs nothing.
func New() *Plugin { return NewWithLogger(nil) }

// NewWithLogger returns an unconfigured plugin logging to log (nil:
// nowhere); the plugin program passes sdk.Logger().
func NewWithLogger(log *slog.Logger) *Plugin {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Plugin{log: log}
}

// Describe implements sdk.Plugin.
func (p *Plugin) Describe(context.Context) (adapter.Descriptor, error) {
	return adapter.Descriptor{Name: Name, Version: Version,
		Capabilities: adapter.Capabilities{Objects: []string{"contact"}, Incremental: []string{"contact"},
			Targets: []adapter.TargetKind{adapter.TargetProperty, adapter.TargetList}, MaxPushBatch: 3000},
		ConfigSchema: sdk.ConfigSchema(Config{})}, nil
}

// ValidateConfig implements sdk.ConfigValidator.
func (p *Plugin) ValidateConfig(_ context.Context, raw adapter.Config) ([]adapter.Diagnostic, error) {
	var c Config
	return sdk.DecodeConfig(raw, &c), nil
}

// ObserveHTTP implements sdk.Observable: every request is reported to o.
func (p *Plugin) ObserveHTTP(o adapter.HTTPObserver) {
	p.mu.Lock()
	p.obs = o
	p.mu.Unlock()
}

// WritePacing implements sdk.WritePacer. A call carries up to 300 leads,
// so the host holds list changes (membership_every) to share calls, and
// spends at most a call's share of the 20-second window per list call.
func (p *Plugin) WritePacing() adapter.WritePacing {
	p.mu.Lock()
	defer p.mu.Unlock()
	calls := max(1, p.cfg.RateCalls)
	return adapter.WritePacing{PropertyEvery: p.cfg.PropertyEvery, MembershipEvery: p.cfg.MembershipEvery,
		MembershipCallEvery: window / time.Duration(calls)}
}

// DailyQuota implements sdk.QuotaReporter: the subscription's daily calls
// and what is left of them by the plugin's own count since midnight
// Central time (0 once Marketo answered 607).
func (p *Plugin) DailyQuota() adapter.Quota {
	p.mu.Lock()
	defer p.mu.Unlock()
	limit := p.cfg.DailyQuota
	if limit == 0 {
		limit = defaultQuota
	}
	q := p.quota
	if !q.day.Equal(centralDay(time.Now())) {
		return adapter.Quota{Limit: limit, Remaining: -1}
	}
	if q.exhausted {
		return adapter.Quota{Limit: limit, Remaining: 0}
	}
	return adapter.Quota{Limit: limit, Remaining: max(0, limit-q.used)}
}

// Configure implements sdk.Plugin.
func (p *Plugin) Configure(ctx context.Context, raw adapter.Config) error {
	ds, _ := p.ValidateConfig(ctx, raw)
	for _, d := range ds {
		if d.Severity == adapter.SeverityError {
			return adapter.Permanent(fmt.Errorf("marketo config: %s", d))
		}
	}
	var c Config
	sdk.DecodeConfig(raw, &c)
	base := strings.TrimRight(c.BaseURL, "/")
	identity := strings.TrimRight(c.IdentityURL, "/")
	if identity == "" {
		identity = base + "/identity"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	hooks := httpkit.ObserverHooks(p.obs, httpkit.Hooks{})
	secrets := []string{c.ClientSecret}
	p.token = &tokenSource{url: identity + "/oauth/token", id: c.ClientID, secret: c.ClientSecret,
		client: httpkit.New(httpkit.Options{Platform: Name, Logger: p.log, Timeout: c.Timeout, Secrets: secrets, Hooks: hooks})}
	p.cfg = c
	p.base = base
	p.client = httpkit.New(httpkit.Options{
		Platform: Name, Logger: p.log, Timeout: c.Timeout,
		Limiter: limiter(c.RateCalls),
		Auth:    p.token, Secrets: secrets, Hooks: hooks,
	})
	p.slots = make(chan struct{}, c.Concurrency)
	p.ensureMu.Lock()
	p.listIDs, p.fields = nil, nil
	p.ensureMu.Unlock()
	return nil
}

// Close implements sdk.Plugin.
func (p *Plugin) Close(context.Context) error { return nil }

// limiter keeps the plugin within calls per 20-second window: a bucket
// of b tokens refilled at r per second lets through at most b + 20·r
// calls in any 20 seconds, which is calls.
func limiter(calls int) *rate.Limiter {
	b := max(1, calls/10)
	r := float64(calls-b) / window.Seconds()
	return rate.NewLimiter(rate.Limit(r), b)
}

// central is US Central time, where Marketo's daily quota resets at
// midnight ("Error Codes": 607).
func central() *time.Location {
	if loc, err := time.LoadLocation("America/Chicago"); err == nil {
		return loc
	}
	return time.FixedZone("CST", -6*3600)
}

// centralDay is the start of t's day in Central time.
func centralDay(t time.Time) time.Time {
	c := t.In(central())
	return time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, c.Location())
}
