// Package hubspot is the HubSpot connector: it pulls contacts (with their
// company's firmographics), companies, deals and commerce orders from the
// CRM v3 APIs, writes segment membership back as contact properties and
// MANUAL lists, and verifies HubSpot's signed webhooks.
//
// Every HTTP call goes through plugins/sdk/httpkit (go-retryablehttp underneath)
// with a transport of our own in front that spends one token bucket per
// account (golang.org/x/time/rate) sized so that HubSpot's 10-second
// rolling window is never exceeded, a second bucket for the search API's
// separate per-second budget, webhook work ahead of pulls and pushes, and
// the X-HubSpot-RateLimit-* headers honoured. The fake HubSpot it is tested
// against lives in ./hubspotfake. See README.md for the API calls, scopes,
// limits and cursor semantics.
package hubspot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/spec"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// Name is the platform name.
const Name = "hubspot"

// Version of this adapter.
const Version = "0.1.0"

const configPrefix = "platforms." + Name

var _ adapter.Adapter = (*Connector)(nil)

// Option tunes a Connector beyond its config (tests, sandbox, benchmarks).
type Option func(*Connector)

// WithTransport replaces the network transport (tests wrap it). It takes
// effect at the next Configure.
func WithTransport(rt http.RoundTripper) Option { return func(c *Connector) { c.transport = rt } }

// WithClock sets the clock (pull windows, webhook receipt times, token
// expiry). It takes effect at the next Configure.
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// Connector implements adapter.Adapter for HubSpot.
type Connector struct {
	log       *slog.Logger
	now       func() time.Time
	transport http.RoundTripper

	mu     sync.RWMutex
	cfg    Config
	api    *httpkit.Client
	search *httpkit.Client
	dev    *httpkit.Client // the developer API (webhook subscriptions)
	budget *sharedBudget
	auth   *oauth

	obs adapter.HTTPObserver

	webhooksRejected atomic.Int64
	webhooksAccepted atomic.Int64
}

// New returns an unconfigured connector.
func New(log *slog.Logger, opts ...Option) *Connector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Connector{log: log.With("connector", Name), now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c
}

// DailyQuota implements adapter.QuotaReporter: HubSpot's daily headers
// once seen (private apps get them), else the configured tier's limit.
func (c *Connector) DailyQuota() adapter.Quota {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.budget != nil {
		if max := c.budget.dailyMax.Load(); max > 0 {
			return adapter.Quota{Limit: int(max), Remaining: int(c.budget.dailyLeft.Load())}
		}
	}
	return adapter.Quota{Limit: c.cfg.RateLimit.Daily, Remaining: -1}
}

// ObserveHTTP implements adapter.Observable.
func (c *Connector) ObserveHTTP(o adapter.HTTPObserver) { c.obs = o }

// Describe reports the connector's capabilities and config schema.
func (c *Connector) Describe(context.Context) (adapter.Descriptor, error) {
	objs := []string{domain.ObjectContact, domain.ObjectCompany, domain.ObjectDeal, domain.ObjectOrder}
	return adapter.Descriptor{
		Name:    Name,
		Version: Version,
		Capabilities: adapter.Capabilities{
			Objects:     objs,
			Incremental: objs,
			Targets:     []adapter.TargetKind{adapter.TargetProperty, adapter.TargetList},
			Webhooks:    true,
			// Push splits a request into batch/update calls of 100 and
			// list calls of write_back.list_batch ids; larger requests
			// let one list call carry the changes of many records.
			MaxPushBatch: 1000,
		},
		ConfigSchema: spec.Fields(Config{}),
	}, nil
}

// ValidateConfig checks a configuration without network I/O.
func (c *Connector) ValidateConfig(_ context.Context, cfg adapter.Config) ([]adapter.Diagnostic, error) {
	_, ds := ParseConfig(cfg, configPrefix)
	return ds, nil
}

// Configure applies a configuration and builds the HTTP clients.
func (c *Connector) Configure(_ context.Context, raw adapter.Config) error {
	cfg, ds := ParseConfig(raw, configPrefix)
	var msgs []string
	for _, d := range ds {
		if d.Severity == adapter.SeverityError {
			msgs = append(msgs, d.String())
		}
	}
	if len(msgs) > 0 {
		return adapter.Permanent(fmt.Errorf("configuring hubspot: %s", strings.Join(msgs, "; ")))
	}
	base := c.transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	budget := &sharedBudget{}
	now := c.now
	apiLimiter := limiterFor(cfg.RateLimit.Requests, cfg.RateLimit.Interval)
	searchLimiter := limiterFor(cfg.RateLimit.SearchPerSecond, time.Second)
	retryMax := cfg.Retry.Max
	if retryMax == 0 {
		retryMax = -1 // httpkit reads 0 as its default and -1 as none
	}
	opts := func(lim *governor) httpkit.Options {
		return httpkit.Options{
			Platform:     Name,
			Logger:       c.log,
			RetryMax:     retryMax,
			RetryWaitMin: cfg.Retry.WaitMin,
			RetryWaitMax: cfg.Retry.WaitMax,
			Classify:     classify,
			Secrets:      cfg.Secrets(),
			Transport:    lim,
			Hooks:        httpkit.ObserverHooks(c.obs, httpkit.Hooks{}),
		}
	}
	apiOpts := opts(&governor{base: base, limiter: apiLimiter, shared: budget, now: now, obs: c.obs})
	searchOpts := opts(&governor{base: base, limiter: searchLimiter, search: true, shared: budget, now: now, obs: c.obs})
	var auth *oauth
	if cfg.Token != "" {
		apiOpts.Auth, searchOpts.Auth = bearer{cfg.Token}, bearer{cfg.Token}
	} else {
		tokenClient := httpkit.New(httpkit.Options{Platform: Name, Logger: c.log, RetryMax: 2, RetryWaitMin: cfg.Retry.WaitMin,
			Secrets: cfg.Secrets(), Transport: base, Hooks: httpkit.ObserverHooks(c.obs, httpkit.Hooks{})})
		auth = &oauth{cfg: cfg.OAuth, url: cfg.tokenURL(), client: tokenClient, now: now}
		apiOpts.Auth, searchOpts.Auth = auth, auth
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cfg = cfg
	c.api = httpkit.New(apiOpts)
	c.search = httpkit.New(searchOpts)
	c.dev = newDevClient(opts(&governor{base: base, limiter: apiLimiter, shared: budget, now: now, obs: c.obs}))
	c.budget = budget
	c.auth = auth
	return nil
}

// Close releases nothing but is safe to call at any time.
func (c *Connector) Close(context.Context) error { return nil }

// Stats are the connector's own counters.
type Stats struct {
	Requests         int64 // HTTP requests sent to HubSpot (after the budget)
	TokenRefreshes   int64
	WebhooksAccepted int64
	WebhooksRejected int64
}

// Stats returns counters for metrics and tests.
func (c *Connector) Stats() Stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := Stats{WebhooksAccepted: c.webhooksAccepted.Load(), WebhooksRejected: c.webhooksRejected.Load()}
	if c.budget != nil {
		s.Requests = c.budget.requests.Load()
	}
	if c.auth != nil {
		s.TokenRefreshes = c.auth.count.Load()
	}
	return s
}

// hubspotNow is our clock moved onto HubSpot's when they differ by more
// than maxSkew, as learnt from the last response's Date header. The header
// has one-second precision, so a corrected time is taken a second early:
// cursors then re-read a little rather than skip anything.
func (c *Connector) hubspotNow() time.Time {
	c.mu.RLock()
	b := c.budget
	c.mu.RUnlock()
	now := c.now()
	if b != nil {
		if skew := time.Duration(b.skew.Load()); skew != 0 {
			now = now.Add(skew - time.Second)
		}
	}
	return now
}

type state struct {
	cfg    Config
	api    *httpkit.Client
	search *httpkit.Client
	skew   *atomic.Int64
}

var errNotConfigured = adapter.Permanent(errors.New("hubspot connector is not configured"))

func (c *Connector) state() (state, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.api == nil {
		return state{}, errNotConfigured
	}
	return state{cfg: c.cfg, api: c.api, search: c.search, skew: &c.budget.skew}, nil
}

func (s state) url(path string) string {
	return strings.TrimRight(s.cfg.BaseURL, "/") + path
}

func (s state) ref(objectType, id string, modified time.Time) domain.ExternalRef {
	return domain.ExternalRef{Platform: Name, Account: s.cfg.Account, ObjectType: objectType, ID: id, LastModified: modified}
}
