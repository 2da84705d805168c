// Package woocommerce is the WooCommerce connector: it pulls customers and
// orders from a store's REST API (wp-json/wc/v3), writes segment
// membership back as customer meta_data through the batch endpoint,
// verifies WooCommerce webhooks, and keeps those webhooks alive.
//
// HTTP goes through plugins/sdk/httpkit (go-retryablehttp with the house retry
// policy and a golang.org/x/time/rate budget); authentication is
// WooCommerce's own (Basic or query keys over HTTPS, OAuth 1.0a over
// HTTP), implemented here on the standard library because it is a few
// lines of HMAC and no maintained Go library matches WooCommerce's
// one-legged variant. See README.md for the API calls, cursors and quirks.
package woocommerce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/spec"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// Name is the platform name.
const Name = "woocommerce"

// Version of the adapter.
const Version = "1.0.0"

var _ adapter.Adapter = (*Connector)(nil)

// Option tunes a Connector beyond its config (tests, sandbox).
type Option func(*Connector)

// WithTransport sets the HTTP transport (e.g. a test server's client
// transport trusting its certificate).
func WithTransport(rt http.RoundTripper) Option { return func(c *Connector) { c.transport = rt } }

// WithClock sets the clock used for OAuth timestamps.
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// Connector implements adapter.Adapter for WooCommerce.
type Connector struct {
	log       *slog.Logger
	transport http.RoundTripper
	obs       adapter.HTTPObserver
	now       func() time.Time

	mu     sync.Mutex
	cfg    Config
	api    *api
	mapper *mapper
	// batchSize shrinks when the store answers 413 (a lower
	// woocommerce_rest_batch_items_limit than configured).
	batchSize atomic.Int64
	stats     stats
	stop      context.CancelFunc
	done      chan struct{}
}

type stats struct {
	guestsSkipped atomic.Int64
	calls         atomic.Int64
}

// Stats are counters since Configure.
type Stats struct {
	// GuestsSkipped counts push items for guest customers (customer_id 0),
	// who have no customer record to write meta to.
	GuestsSkipped int64
	// Calls counts HTTP attempts, retries included.
	Calls int64
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

// ObserveHTTP implements adapter.Observable.
func (c *Connector) ObserveHTTP(o adapter.HTTPObserver) { c.obs = o }

// Stats returns the counters.
func (c *Connector) Stats() Stats {
	return Stats{GuestsSkipped: c.stats.guestsSkipped.Load(), Calls: c.stats.calls.Load()}
}

// Describe implements adapter.Adapter.
func (c *Connector) Describe(context.Context) (adapter.Descriptor, error) {
	return adapter.Descriptor{
		Name:    Name,
		Version: Version,
		Capabilities: adapter.Capabilities{
			Objects:      []string{domain.ObjectContact, domain.ObjectOrder},
			Incremental:  []string{domain.ObjectOrder},
			Targets:      []adapter.TargetKind{adapter.TargetProperty, adapter.TargetList},
			Webhooks:     true,
			MaxPushBatch: 1000,
		},
		ConfigSchema: spec.Fields(Config{}),
	}, nil
}

// ValidateConfig implements adapter.Adapter.
func (c *Connector) ValidateConfig(_ context.Context, raw adapter.Config) ([]adapter.Diagnostic, error) {
	_, ds := parseConfig(raw)
	return ds, nil
}

// Configure implements adapter.Adapter. With webhooks.manage it starts the
// webhook upkeep loop (first check at once, then every check_interval).
func (c *Connector) Configure(ctx context.Context, raw adapter.Config) error {
	cfg, ds := parseConfig(raw)
	var msgs []string
	for _, d := range ds {
		if d.Severity == adapter.SeverityError {
			msgs = append(msgs, d.String())
		}
	}
	if len(msgs) > 0 {
		return adapter.Permanent(fmt.Errorf("configuring %s: %s", Name, strings.Join(msgs, "; ")))
	}
	_ = c.Close(ctx)

	var auth httpkit.Auth
	switch cfg.authMode() {
	case AuthBasic:
		auth = basicAuth{cfg.ConsumerKey, cfg.ConsumerSecret}
	case AuthQuery:
		auth = queryAuth{cfg.ConsumerKey, cfg.ConsumerSecret}
	default:
		auth = oauth1Auth{key: cfg.ConsumerKey, secret: cfg.ConsumerSecret, method: cfg.SignatureMethod, now: c.now}
	}
	hc := httpkit.New(httpkit.Options{
		Platform:      Name,
		Logger:        c.log,
		RetryMax:      cfg.Retry.Max,
		RetryWaitMin:  time.Duration(cfg.Retry.WaitMin),
		RetryWaitMax:  time.Duration(cfg.Retry.WaitMax),
		MaxRetryAfter: time.Duration(cfg.Retry.MaxRetryAfter),
		Timeout:       time.Duration(cfg.Timeout),
		Limiter:       rate.NewLimiter(rate.Limit(cfg.RateLimit.RequestsPerSecond), cfg.RateLimit.Burst),
		Auth:          auth,
		Classify:      classify,
		Secrets:       []string{cfg.ConsumerKey, cfg.ConsumerSecret, cfg.Webhooks.Secret},
		Transport:     c.transport,
		Hooks: httpkit.ObserverHooks(c.obs, httpkit.Hooks{OnResponse: func(string, int, time.Duration) {
			c.stats.calls.Add(1)
		}}),
	})
	owned := append([]string(nil), cfg.WriteBack.OwnedKeys...)
	prefix := cfg.WriteBack.MetaPrefix
	c.mu.Lock()
	c.cfg = cfg
	c.api = &api{hc: hc, base: cfg.BaseURL + "/wp-json/wc/v3"}
	c.mapper = &mapper{account: cfg.Account, statusMap: cfg.StatusMap, cats: newProductCategories(c.now), consent: cfg.Consent, owned: func(k string) bool {
		return strings.HasPrefix(k, prefix) || slices.Contains(owned, k)
	}}
	c.batchSize.Store(int64(cfg.WriteBack.BatchSize))
	if cfg.Webhooks.Manage {
		lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c.stop, c.done = cancel, make(chan struct{})
		go c.webhookLoop(lctx, time.Duration(cfg.Webhooks.CheckInterval), c.done)
	}
	c.mu.Unlock()
	return nil
}

// Close implements adapter.Adapter: it stops the webhook upkeep loop.
func (c *Connector) Close(context.Context) error {
	c.mu.Lock()
	stop, done := c.stop, c.done
	c.stop, c.done = nil, nil
	c.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	return nil
}

func (c *Connector) state() (Config, *api, *mapper, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.api == nil {
		return Config{}, nil, nil, adapter.Permanent(errors.New("woocommerce connector used before Configure"))
	}
	return c.cfg, c.api, c.mapper, nil
}

// Fetch implements adapter.Adapter: customers or orders by id through
// include= lists of up to 100; ids that do not come back (deleted, or
// trashed orders) are reported as deletions.
func (c *Connector) Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error) {
	cfg, a, m, err := c.state()
	if err != nil {
		return nil, err
	}
	var path string
	switch req.Object {
	case domain.ObjectContact:
		path = "/customers"
	case domain.ObjectOrder:
		path = "/orders"
	default:
		return nil, adapter.Permanent(fmt.Errorf("fetching %s %s: %w", Name, req.Object, adapter.ErrUnsupported))
	}
	var out []adapter.Change
	for start := 0; start < len(req.IDs); start += 100 {
		ids := req.IDs[start:min(start+100, len(req.IDs))]
		for _, id := range ids {
			if n, err := strconv.Atoi(id); err != nil || n <= 0 {
				return nil, adapter.Permanent(fmt.Errorf("fetching %s %s: id %q is not a WooCommerce id", Name, req.Object, id))
			}
		}
		q := url.Values{"include": {strings.Join(ids, ",")}, "per_page": {"100"}, "orderby": {"include"}}
		if req.Object == domain.ObjectContact {
			q.Set("role", cfg.CustomerRole)
		}
		var raws []json.RawMessage
		if _, err := a.do(ctx, "fetching woocommerce "+req.Object+"s", http.MethodGet, path, q, nil, &raws); err != nil {
			return nil, err
		}
		if req.Object == domain.ObjectOrder {
			products := map[int]bool{}
			for _, raw := range raws {
				for id := range productIDsOf(raw) {
					products[id] = true
				}
			}
			if err := c.lookUpCategories(ctx, a, m.cats, products); err != nil {
				return nil, err
			}
		}
		found := map[string]bool{}
		for _, raw := range raws {
			ch, rej, id := m.change(req.Object, raw)
			found[id] = true
			if rej != nil {
				c.log.WarnContext(ctx, "fetched record cannot be mapped", "object", req.Object, "id", id, "reason", rej.Reason)
				continue
			}
			out = append(out, ch)
		}
		for _, id := range ids {
			if !found[id] {
				out = append(out, adapter.Change{Kind: adapter.ChangeDelete, Ref: m.ref(req.Object, atoi(id), time.Time{})})
			}
		}
	}
	return out, nil
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// change maps one raw record into a Change or a Rejected; it also returns
// the record id as a string and, for orders, date_modified_gmt.
func (m *mapper) change(object string, raw json.RawMessage) (adapter.Change, *adapter.Rejected, string) {
	ch, rej, id, _ := m.changeMod(object, raw)
	return ch, rej, id
}

func (m *mapper) changeMod(object string, raw json.RawMessage) (adapter.Change, *adapter.Rejected, string, string) {
	reject := func(id string, err error) (adapter.Change, *adapter.Rejected, string, string) {
		return adapter.Change{}, &adapter.Rejected{Ref: m.ref(object, atoi(id), time.Time{}),
			Reason: fmt.Sprintf("woocommerce %s %s: %v", object, id, err), Raw: raw}, id, ""
	}
	probeID := func() string {
		var probe struct {
			ID json.Number `json:"id"`
		}
		_ = json.Unmarshal(raw, &probe)
		return probe.ID.String()
	}
	switch object {
	case domain.ObjectContact:
		var wc wcCustomer
		if err := json.Unmarshal(raw, &wc); err != nil {
			return reject(probeID(), decodeReason(err))
		}
		id := strconv.Itoa(wc.ID)
		ct, err := m.contact(&wc)
		if err != nil {
			return reject(id, err)
		}
		return adapter.Change{Kind: adapter.ChangeUpsert, Ref: ct.Ref, Contact: ct}, nil, id, wc.DateModifiedGMT
	default:
		var wo wcOrder
		if err := json.Unmarshal(raw, &wo); err != nil {
			return reject(probeID(), decodeReason(err))
		}
		ch, rej := m.orderChange(&wo)
		if rej != nil {
			rej.Raw = raw
		}
		return ch, rej, strconv.Itoa(wo.ID), wo.DateModifiedGMT
	}
}

// orderChange maps a decoded order; a Rejected comes without Raw.
func (m *mapper) orderChange(wo *wcOrder) (adapter.Change, *adapter.Rejected) {
	o, err := m.order(wo)
	if err != nil {
		return adapter.Change{}, &adapter.Rejected{Ref: m.ref(domain.ObjectOrder, wo.ID, time.Time{}),
			Reason: fmt.Sprintf("woocommerce %s %d: %v", domain.ObjectOrder, wo.ID, err)}
	}
	if o == nil {
		return adapter.Change{Kind: adapter.ChangeDelete, Ref: m.ref(domain.ObjectOrder, wo.ID, time.Time{})}, nil
	}
	return adapter.Change{Kind: adapter.ChangeUpsert, Ref: o.Ref, Order: o}, nil
}

func decodeReason(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: a JSON %s where WooCommerce sends a %s", te.Field, te.Value, te.Type)
	}
	return err
}
