package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/plugins/klaviyo/klaviyofake"
	"github.com/segconn/connector/plugins/mailchimp/mailchimpfake"
	"github.com/segconn/connector/plugins/marketo/marketofake"
	"github.com/segconn/connector/plugins/pardot/pardotfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
)

// Platforms lists the sandbox's platforms in a fixed order.
var Platforms = []string{HubSpot, Salesforce, WooCommerce}

// Options configure Start.
type Options struct {
	Seed      uint64
	Customers int // default 1000
	// AsOf is the present of the generated history; default the clock at Start.
	AsOf time.Time
	// Listen maps a platform to its listen address; default 127.0.0.1:0.
	// Only loopback addresses are accepted.
	Listen map[string]string
	Logger *slog.Logger // default: discard
	// Params override the generator's model parameters.
	Params Params
	// Currency is the ISO 4217 currency of every generated order
	// (default USD).
	Currency string
	// HubSpotTier is the HubSpot account tier whose rate limit the fake
	// enforces and the printed config names (default professional).
	HubSpotTier string
	// Shops is how many WooCommerce shops the business runs (1 to
	// MaxShops; default 1). With more, each shop is its own fake with its
	// own credentials, named by ShopName, and some customers buy in two
	// of them under the same email.
	Shops int
	// Now is the fakes' clock (their modification times, Date headers and
	// rate windows) and that of the orders NewWooOrder places; default
	// time.Now. A test steps it to reach a later second without sleeping.
	Now func() time.Time
	// Mailchimp, Klaviyo and Marketo serve a fake Mailchimp or Klaviyo
	// account or Marketo instance too (see Mailchimp, Klaviyo and
	// Marketo), for those adapter plugins.
	Mailchimp, Klaviyo, Marketo bool
	// Pardot serves a fake Account Engagement business unit too (see
	// Pardot), for that adapter plugin.
	Pardot bool
}

// Endpoint is how to reach one fake platform.
type Endpoint struct {
	// Platform is the instance's name: the platform's, or a shop's
	// (ShopName).
	Platform string `json:"platform"`
	// Adapter is the adapter the instance runs, when it is not Platform
	// (woocommerce for woocommerce-2).
	Adapter string `json:"adapter,omitempty"`
	BaseURL string `json:"base_url"`
	// Credentials are the secrets and ids the fake accepts, by name, for
	// printing: token, client_id, client_secret, refresh_token,
	// consumer_key, consumer_secret, webhook_secret, …
	Credentials map[string]string `json:"credentials"`
	// Config is the platform's section for the matching connector's
	// Configure, pointing at the fake with these credentials.
	Config adapter.Config `json:"config"`
}

// Sandbox is the running fakes and their data.
type Sandbox struct {
	Data *Dataset
	// The fakes themselves, for tests and the demo to inspect.
	HubSpotFake    *hubspotfake.Fake
	SalesforceFake *salesforcefake.Fake
	WooFake        *woocommercefake.Fake
	// MailchimpFake is the fake Mailchimp account, when Options.Mailchimp
	// started it.
	MailchimpFake *mailchimpfake.Fake
	// KlaviyoFake is the fake Klaviyo account, when Options.Klaviyo
	// started it.
	KlaviyoFake *klaviyofake.Fake
	// PardotFake is the fake Account Engagement business unit, when
	// Options.Pardot started it.
	PardotFake *pardotfake.Fake
	// MarketoFake is the fake Marketo instance, when Options.Marketo
	// started it.
	MarketoFake *marketofake.Fake
	// Shops are the WooCommerce fakes by instance name (ShopName), the
	// first (WooFake) included.
	Shops map[string]*woocommercefake.Fake

	endpoints map[string]Endpoint
	plugins   map[string]Endpoint // see PluginEndpoint
	// pluginObservers watch the plugin platforms' fakes, which are
	// plain handlers rather than fakekit servers (see Observe).
	pluginObservers map[string]*atomic.Pointer[func(*http.Request)]
	names           []string          // Platforms, then the further shops
	sfIDs           map[string]string // dataset id → fake id
	servers         []*http.Server
	log             *slog.Logger
	seed            uint64
	// hubspotTier is Options.HubSpotTier.
	hubspotTier string
	now         func() time.Time // Options.Now

	mu       sync.Mutex // guards what FireWebhooks changes
	fire     *firer
	closeErr error
	closed   bool
}

// Observe makes fn see every request the platform's fake receives, before
// the fake serves it; nil stops it. Tests and benchmarks use it to time
// or catch the connector's calls; it sits in the fake server's one Wrap
// hook. A function that reads the body must put it back.
func (s *Sandbox) Observe(platform string, fn func(*http.Request)) {
	if obs, ok := s.pluginObservers[platform]; ok {
		if fn == nil {
			obs.Store(nil)
		} else {
			obs.Store(&fn)
		}
		return
	}
	srv := s.fakeServer(platform)
	if fn == nil {
		srv.Wrap(nil)
		return
	}
	srv.Wrap(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fn(r)
			next.ServeHTTP(w, r)
		})
	})
}

// fakeServer returns the server of a platform's (or a shop's) fake.
func (s *Sandbox) fakeServer(platform string) *fakekit.Server {
	switch platform {
	case HubSpot:
		return s.HubSpotFake.Server
	case Salesforce:
		return s.SalesforceFake.Server
	}
	if f, ok := s.Shops[platform]; ok {
		return f.Server
	}
	panic("sandbox: no platform " + platform) // a programming error in a test
}

// secretFor derives a stable credential from the seed, so a config file
// written for `connector sandbox --seed N` keeps working across runs.
func secretFor(seed uint64, name string, n int) string {
	s := sha256.Sum256([]byte("segconn-sandbox/" + name + "/" + strconv.FormatUint(seed, 10)))
	return hex.EncodeToString(s[:])[:n]
}

// Start generates the dataset, starts the three fakes on loopback and
// seeds them. Close stops them.
func Start(ctx context.Context, opts Options) (*Sandbox, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AsOf.IsZero() {
		opts.AsOf = opts.Now()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Shops == 0 {
		opts.Shops = 1
	}
	names := slices.Clone(Platforms)
	for i := 1; i < opts.Shops; i++ {
		names = append(names, ShopName(i))
	}
	for p := range opts.Listen {
		if p == Pardot && opts.Pardot {
			continue
		}
		if !slices.Contains(names, p) && (p != Mailchimp || !opts.Mailchimp) && (p != Klaviyo || !opts.Klaviyo) && (p != Marketo || !opts.Marketo) {
			return nil, fmt.Errorf("starting sandbox: listen address for unknown platform %q (want one of %v)", p, names)
		}
	}
	ds, err := Generate(GenOptions{Seed: opts.Seed, Customers: opts.Customers, AsOf: opts.AsOf, Currency: opts.Currency, Params: opts.Params})
	if err != nil {
		return nil, fmt.Errorf("starting sandbox: %w", err)
	}
	if err := ds.splitShops(opts.Shops); err != nil {
		return nil, fmt.Errorf("starting sandbox: %w", err)
	}
	s := &Sandbox{Data: ds, endpoints: map[string]Endpoint{}, sfIDs: map[string]string{}, names: names,
		Shops: map[string]*woocommercefake.Fake{},
		log:   opts.Logger.With("component", "sandbox"), seed: opts.Seed, hubspotTier: opts.HubSpotTier, now: opts.Now}
	listeners := map[string]net.Listener{}
	for _, p := range names {
		addr := opts.Listen[p]
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		l, err := listenLoopback(ctx, addr)
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return nil, fmt.Errorf("starting sandbox %s: %w", p, err)
		}
		listeners[p] = l
	}
	base := func(p string) string { return "http://" + listeners[p].Addr().String() }

	s.startHubSpot(base(HubSpot))
	s.startSalesforce(base(Salesforce))
	for i := range opts.Shops {
		s.Shops[ShopName(i)] = s.startWoo(i, base(ShopName(i)))
	}
	s.WooFake = s.Shops[WooCommerce]
	for _, p := range names {
		h := s.fakeServer(p).Handler()
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
		s.servers = append(s.servers, srv)
		go func(l net.Listener) {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("serving sandbox platform", "platform", p, "error", err)
			}
		}(listeners[p])
	}
	s.plugins = map[string]Endpoint{}
	s.pluginObservers = map[string]*atomic.Pointer[func(*http.Request)]{}
	for name, start := range map[string]func(net.Listener){Mailchimp: s.startMailchimp, Klaviyo: s.startKlaviyo, Marketo: s.startMarketo} {
		if (name == Mailchimp && !opts.Mailchimp) || (name == Klaviyo && !opts.Klaviyo) || (name == Marketo && !opts.Marketo) {
			continue
		}
		addr := opts.Listen[name]
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		l, err := listenLoopback(ctx, addr)
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("starting sandbox %s: %w", name, err)
		}
		start(l)
	}
	if err := s.startPardotFake(ctx, opts); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.fire = newFirer(s)
	s.log.Info("sandbox started", "seed", opts.Seed, "people", len(ds.People), "shops", opts.Shops,
		"hubspot", base(HubSpot), "salesforce", base(Salesforce), "woocommerce", base(WooCommerce))
	return s, nil
}

func listenLoopback(ctx context.Context, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("listen address %q: the sandbox serves on loopback only (127.0.0.1 or ::1)", addr)
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return l, nil
}

// Endpoint returns how to reach one platform.
func (s *Sandbox) Endpoint(platform string) (Endpoint, bool) {
	e, ok := s.endpoints[platform]
	return e, ok
}

// Endpoints returns every platform's endpoint in Platforms order, then
// the further shops'.
func (s *Sandbox) Endpoints() []Endpoint {
	out := make([]Endpoint, 0, len(s.names))
	for _, p := range s.names {
		out = append(out, s.endpoints[p])
	}
	return out
}

// Names returns the sandbox's instance names: Platforms, then the
// further shops (ShopName).
func (s *Sandbox) Names() []string { return slices.Clone(s.names) }

// Configs returns the platforms section of a connector config pointing
// at the sandbox: a section per instance, which names its adapter when
// that is not its name.
func (s *Sandbox) Configs() map[string]adapter.Config {
	out := map[string]adapter.Config{}
	for p, e := range s.endpoints {
		sec := adapter.Config{}
		for k, v := range e.Config {
			sec[k] = v
		}
		if e.Adapter != "" && e.Adapter != p {
			sec["adapter"] = e.Adapter
		}
		out[p] = sec
	}
	return out
}

// SalesforceID maps a dataset Salesforce id (Records.*.Ref.ID) to the id
// the fake assigned on insert.
func (s *Sandbox) SalesforceID(datasetID string) (string, bool) {
	id, ok := s.sfIDs[datasetID]
	return id, ok
}

// Close stops the servers. It is safe to call twice.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.closeErr
	}
	s.closed = true
	var errs []error
	for _, srv := range s.servers {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			_ = srv.Close()
		}
		cancel()
	}
	if err := errors.Join(errs...); err != nil {
		s.closeErr = fmt.Errorf("stopping sandbox: %w", err)
	}
	return s.closeErr
}
