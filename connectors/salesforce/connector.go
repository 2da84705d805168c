// Package salesforce is the Salesforce connector: it pulls Contacts and
// Leads (people), Accounts (firmographics) and Opportunities and Orders
// (purchases and open deals) through the REST API and Bulk API 2.0, writes
// segment membership back as custom-field values and Campaign members
// through sObject Collections, and verifies Outbound Messages.
//
// All HTTP goes through plugins/sdk/httpkit (retries, Retry-After, redaction,
// the client-side rate limiter from golang.org/x/time/rate); this package
// adds OAuth (refresh token, JWT bearer signed with crypto/rsa, client
// credentials), Salesforce's error codes, and a daily-quota guard fed by
// the Sforce-Limit-Info header. No third-party library: Salesforce's REST
// surface is small enough that an SDK would only add weight, and SOQL is
// built here with explicit escaping. salesforcefake beside it is the
// faithful fake the tests run against.
package salesforce

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/spec"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// Name is the platform name.
const Name = "salesforce"

// Version is the adapter's version.
const Version = "0.1.0"

var _ adapter.Adapter = (*Connector)(nil)

// Option tunes a Connector beyond its config (tests, sandbox, benchmarks).
type Option func(*Connector)

// WithTransport replaces the HTTP transport (a proxy, custom TLS roots,
// instrumentation, or a test's wrapper). It takes effect at the next
// Configure.
func WithTransport(rt http.RoundTripper) Option { return func(c *Connector) { c.transport = rt } }

// WithClock sets the clock (token expiry, JWT timestamps, quota windows).
// It takes effect at the next Configure.
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// Connector implements adapter.Adapter for Salesforce.
type Connector struct {
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	cfg    *Config
	client *httpkit.Client
	ts     *tokenSource
	quota  *quota
	// transport, when set, replaces the HTTP transport (a proxy, custom
	// TLS roots, or instrumentation).
	transport http.RoundTripper

	obs adapter.HTTPObserver

	products productCache // Product2 rows for line items

	// engFields are the configured engagement fields found on Contact
	// and Lead (resolveEngagement); nil until checked.
	engFields map[string][]string
}

// DailyQuota implements adapter.QuotaReporter from the Sforce-Limit-Info
// header last seen (unknown before the first call).
func (c *Connector) DailyQuota() adapter.Quota {
	c.mu.Lock()
	q := c.quota
	c.mu.Unlock()
	if q == nil {
		return adapter.Quota{Remaining: -1}
	}
	used, max, _ := q.snapshot()
	if max <= 0 {
		return adapter.Quota{Remaining: -1}
	}
	return adapter.Quota{Limit: max, Remaining: max - used}
}

// ObserveHTTP implements adapter.Observable.
func (c *Connector) ObserveHTTP(o adapter.HTTPObserver) { c.obs = o }

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

// Describe says what the connector offers.
func (c *Connector) Describe(context.Context) (adapter.Descriptor, error) {
	return adapter.Descriptor{
		Name:    Name,
		Version: Version,
		Capabilities: adapter.Capabilities{
			Objects:      []string{domain.ObjectContact, domain.ObjectCompany, domain.ObjectOrder},
			Incremental:  []string{domain.ObjectContact, domain.ObjectCompany, domain.ObjectOrder},
			Targets:      []adapter.TargetKind{adapter.TargetProperty, adapter.TargetList},
			Webhooks:     true,
			MaxPushBatch: MaxCollection,
		},
		ConfigSchema: spec.Fields(Config{}),
	}, nil
}

// ValidateConfig checks a configuration without touching the network.
func (c *Connector) ValidateConfig(_ context.Context, cfg adapter.Config) ([]adapter.Diagnostic, error) {
	_, diags := ParseConfig(cfg)
	return diags, nil
}

// Configure applies a configuration. It does not call Salesforce: the
// first call signs in.
func (c *Connector) Configure(_ context.Context, raw adapter.Config) error {
	cfg, diags := ParseConfig(raw)
	if hasErrors(diags) {
		var msgs []string
		for _, d := range diags {
			if d.Severity == adapter.SeverityError {
				msgs = append(msgs, d.String())
			}
		}
		return adapter.Permanent(fmt.Errorf("configuring salesforce: %s", strings.Join(msgs, "; ")))
	}
	base := c.transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	q := &quota{}
	secrets := cfg.secrets()
	retryMax := cfg.RetryMax
	if retryMax == 0 {
		retryMax = -1 // httpkit reads 0 as "default"
	}
	tokenClient := httpkit.New(httpkit.Options{
		Platform: Name, Logger: c.log, Transport: base, Secrets: secrets,
		RetryMax: retryMax, RetryWaitMin: cfg.RetryWaitMin, RetryWaitMax: cfg.RetryWaitMax, Timeout: cfg.Timeout,
		Hooks: httpkit.ObserverHooks(c.obs, httpkit.Hooks{}),
	})
	ts := &tokenSource{cfg: cfg, client: tokenClient, now: c.now}
	opts := httpkit.Options{
		Platform:     Name,
		Logger:       c.log,
		Limiter:      rate.NewLimiter(rate.Limit(cfg.RequestsPerSecond), cfg.Burst),
		Auth:         ts,
		Classify:     c.classify,
		Secrets:      secrets,
		Transport:    &quotaTransport{base: base, q: q, share: cfg.PullShare, now: c.now},
		RetryMax:     retryMax,
		RetryWaitMin: cfg.RetryWaitMin,
		RetryWaitMax: cfg.RetryWaitMax,
		Timeout:      cfg.Timeout,
		Hooks:        httpkit.ObserverHooks(c.obs, httpkit.Hooks{}),
	}
	client := httpkit.New(opts)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cfg, c.client, c.ts, c.quota = cfg, client, ts, q
	c.engFields = nil // the configured engagement fields are checked again
	return nil
}

func (c *Connector) ready() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg == nil {
		return adapter.Permanent(fmt.Errorf("using salesforce connector: not configured"))
	}
	return nil
}

// Close releases nothing but idle connections; it is safe at any time.
func (c *Connector) Close(context.Context) error {
	if t, ok := c.transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	return nil
}

// Fetch returns the current state of records by id through queryAll, so a
// deleted or merged record comes back as such; an id that matches nothing
// is a ChangeDelete. Ids are routed to their sObject by key prefix.
func (c *Connector) Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	byObject := map[string][]string{}
	var order []string
	for _, id := range req.IDs {
		if !validID(id) {
			return nil, adapter.Permanent(fmt.Errorf("fetching salesforce %s: %q is not a Salesforce id", req.Object, id))
		}
		obj, ok := sobjectOfID(id)
		if !ok {
			return nil, adapter.Permanent(fmt.Errorf("fetching salesforce %s: id %s has no key prefix this connector reads", req.Object, id))
		}
		if _, seen := byObject[obj]; !seen {
			order = append(order, obj)
		}
		byObject[obj] = append(byObject[obj], id)
	}
	_, org, _, err := c.ts.session(ctx)
	if err != nil {
		return nil, c.mapErr(err, "signing in to salesforce")
	}
	if err := c.resolveEngagement(ctx); err != nil {
		return nil, err
	}
	m := &mapper{org: org, currency: c.cfg.Currency, multi: c.cfg.MultiCurrency, engagement: c.cfg.Engagement}
	var out []adapter.Change
	for _, obj := range order {
		ids := byObject[obj]
		for start := 0; start < len(ids); start += MaxCollection {
			chunk := ids[start:min(start+MaxCollection, len(ids))]
			found := map[string]bool{}
			first := len(out) // this chunk's changes start here
			soql := fmt.Sprintf("SELECT %s FROM %s WHERE Id IN %s", strings.Join(c.fieldsOf(obj), ", "), obj, idList(chunk))
			var mapErrs []string
			err := c.queryPages(ctx, soql, true, 0, func(recs []map[string]any) error {
				for _, rm := range recs {
					ch, err := m.mapRow(obj, row(rm))
					if err != nil {
						mapErrs = append(mapErrs, fmt.Sprintf("%s %s: %v", obj, row(rm).str("Id"), err))
						continue
					}
					found[ch.Ref.ID] = true
					out = append(out, ch)
				}
				return nil
			})
			if err != nil {
				return nil, c.mapErr(err, "fetching salesforce "+obj)
			}
			if obj == "Opportunity" && c.cfg.ContactRoles {
				if err := c.linkContactRoles(ctx, out, m); err != nil {
					return nil, err
				}
			}
			if err := c.attachLineItems(ctx, obj, out[first:], m); err != nil {
				return nil, err
			}
			if len(mapErrs) > 0 {
				return out, adapter.Permanent(fmt.Errorf("mapping fetched salesforce records: %s", strings.Join(mapErrs, "; ")))
			}
			for _, id := range chunk {
				if !found[id] && !found[id[:min(15, len(id))]] {
					out = append(out, adapter.Change{Kind: adapter.ChangeDelete, Ref: m.ref(refType(obj), id, time.Time{})})
				}
			}
		}
	}
	return out, nil
}
