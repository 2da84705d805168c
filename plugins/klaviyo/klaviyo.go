package klaviyo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// Name is the platform name of refs and of the adapter.
const Name = "klaviyo"

// Version is the plugin's version.
const Version = "0.1.0"

// Batch limits from the operation descriptions of Klaviyo's API.
const (
	maxListBatch = 1000      // profiles per list-membership call
	maxBulkJob   = 10000     // profiles per bulk import job
	maxBulkBody  = 4_500_000 // bytes per bulk import body (Klaviyo's limit is 5 MB)
	maxPageSize  = 100       // profiles per page of GET /api/profiles
)

// Config is the plugin's config section.
type Config struct {
	APIKey   string `spec:"api_key,required,secret" doc:"private API key (pk_…) with the scopes listed in the plugin's README"`
	BaseURL  string `spec:"base_url" default:"https://a.klaviyo.com" doc:"API base URL"`
	Revision string `spec:"revision" default:"2026-07-15" doc:"API revision sent in the revision header"`
	PageSize int    `spec:"page_size" default:"100" min:"1" max:"100" doc:"profiles per page"`
	// BulkThreshold decides between one profile-import call per profile
	// and a bulk import job for property writes.
	BulkThreshold int           `spec:"bulk_threshold" default:"50" min:"1" max:"10000" doc:"property writes for more profiles than this go through a bulk import job"`
	JobPoll       time.Duration `spec:"job_poll" default:"2s" min:">0" doc:"wait between polls of a bulk import job"`
	JobTimeout    time.Duration `spec:"job_timeout" default:"10m" min:">0" doc:"longest wait for a bulk import job to complete"`
	Engagement    bool          `spec:"engagement" default:"true" doc:"read Opened Email and Clicked Email events as engagement"`
	// The pacing the plugin asks of the host's live write-back.
	PropertyEvery   time.Duration `spec:"property_every" default:"1s" min:"0" doc:"least time between two live writes of segment values"`
	MembershipEvery time.Duration `spec:"membership_every" default:"30s" min:"0" doc:"how long live list changes are held so that many profiles share each list's call"`
	Timeout         time.Duration `spec:"timeout" default:"60s" min:">0" doc:"per-request timeout"`
}

// Plugin is the Klaviyo adapter.
type Plugin struct {
	sdk.Unimplemented
	cfg  Config
	base string
	log  *slog.Logger

	mu      sync.Mutex
	obs     adapter.HTTPObserver
	clients map[string]*httpkit.Client // per operation: each has its own rate budget
	metrics map[string]string          // metric name → id, once looked up

	ensureMu sync.Mutex        // one list lookup or creation at a time
	listIDs  map[string]string // list name → id, found or created
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
			Targets: []adapter.TargetKind{adapter.TargetProperty, adapter.TargetList}, MaxPushBatch: maxBulkJob},
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

// WritePacing implements sdk.WritePacer. Membership writes cost one call
// per list and 1000 profiles, in the 150-a-minute tier, so the host holds
// them (membership_every) to share calls, and spends at most 0.4 s of the
// budget per call; property writes spend the 750-a-minute tier of
// profile-import (property_every).
func (p *Plugin) WritePacing() adapter.WritePacing {
	p.mu.Lock()
	defer p.mu.Unlock()
	return adapter.WritePacing{PropertyEvery: p.cfg.PropertyEvery, MembershipEvery: p.cfg.MembershipEvery,
		MembershipCallEvery: time.Minute / 150}
}

// Configure implements sdk.Plugin.
func (p *Plugin) Configure(ctx context.Context, raw adapter.Config) error {
	ds, _ := p.ValidateConfig(ctx, raw)
	for _, d := range ds {
		if d.Severity == adapter.SeverityError {
			return adapter.Permanent(fmt.Errorf("klaviyo config: %s", d))
		}
	}
	var c Config
	sdk.DecodeConfig(raw, &c)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg = c
	p.base = strings.TrimRight(c.BaseURL, "/")
	p.clients = map[string]*httpkit.Client{}
	p.metrics = nil
	p.ensureMu.Lock()
	p.listIDs = nil
	p.ensureMu.Unlock()
	return nil
}

// Close implements sdk.Plugin.
func (p *Plugin) Close(context.Context) error { return nil }

// tier returns an operation's rate limits (burst per second, steady per
// minute), from its x-klaviyo-ratelimit in Klaviyo's API description.
func tier(op string) (burst, steady int, ok bool) {
	switch op {
	case "get_profiles", "get_profile", "create_or_update_profile", "get_lists":
		return 75, 750, true
	case "create_list", "add_profiles_to_list", "remove_profiles_from_list", "bulk_import_profiles",
		"get_bulk_import_job", "get_bulk_import_errors", "get_metrics":
		return 10, 150, true
	case "get_events":
		return 350, 3500, true
	case "request_profile_deletion":
		return 3, 60, true
	}
	return 0, 0, false
}

// limiter keeps an operation within both of Klaviyo's fixed windows: a
// token bucket of b tokens refilled at r per second lets through at most
// b + r·T requests in any T seconds, so with b half the burst allowance
// and r what is left of 95% of the steady one after b, neither a 1-second
// nor a 1-minute window ever fills.
func limiter(burst, steady int) *rate.Limiter {
	b := max(1, burst/2)
	r := (float64(steady)*0.95 - float64(b)) / 60
	return rate.NewLimiter(rate.Limit(r), b)
}

// client returns the HTTP client of operation op.
func (p *Plugin) client(op string) (*httpkit.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clients == nil {
		return nil, adapter.Permanent(errors.New("klaviyo: not configured"))
	}
	if c := p.clients[op]; c != nil {
		return c, nil
	}
	burst, steady, ok := tier(op)
	if !ok {
		return nil, adapter.Permanent(fmt.Errorf("klaviyo: unknown operation %s", op))
	}
	c := httpkit.New(httpkit.Options{
		Platform: Name, Logger: p.log, Timeout: p.cfg.Timeout,
		Limiter: limiter(burst, steady),
		Auth:    keyAuth{key: p.cfg.APIKey, revision: p.cfg.Revision},
		Secrets: []string{p.cfg.APIKey},
		Hooks:   httpkit.ObserverHooks(p.obs, httpkit.Hooks{}),
	})
	p.clients[op] = c
	return c, nil
}

// keyAuth sends the private key and the API revision on every request.
type keyAuth struct{ key, revision string }

func (a keyAuth) Apply(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Klaviyo-API-Key "+a.key)
	req.Header.Set("revision", a.revision)
	return nil
}

// apiError is one member of Klaviyo's error document.
type apiError struct {
	ID     string `json:"id"`
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Source struct {
		Pointer   string `json:"pointer"`
		Parameter string `json:"parameter"`
	} `json:"source"`
}

// errorsOf returns the error document of a failed call, if it has one.
func errorsOf(err error) (int, []apiError) {
	var se *httpkit.StatusError
	if !errors.As(err, &se) {
		return 0, nil
	}
	var doc struct {
		Errors []apiError `json:"errors"`
	}
	_ = json.Unmarshal(se.Body, &doc)
	return se.StatusCode, doc.Errors
}

// call sends one JSON:API request of operation op to path (under the
// base URL, or a whole URL such as a links.next) and decodes the answer
// into out (nil: none expected).
func (p *Plugin) call(ctx context.Context, op, method, path string, body, out any) error {
	c, err := p.client(op)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return adapter.Permanent(fmt.Errorf("klaviyo: encoding %s: %w", op, err))
		}
		rd = bytes.NewReader(b)
	}
	u := path
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		u = p.base + path
	} else if !sameHost(u, p.base) {
		// A links.next elsewhere would carry the private key there.
		return adapter.Permanent(fmt.Errorf("klaviyo %s: refusing to follow a link off %s", op, p.base))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return adapter.Permanent(fmt.Errorf("klaviyo: building %s: %w", op, err))
	}
	req.Header.Set("Accept", "application/vnd.api+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/vnd.api+json")
	}
	resp, err := c.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("klaviyo %s: %w", op, withDetail(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return adapter.Retryable(fmt.Errorf("klaviyo %s: reading the answer: %w", op, err))
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return adapter.Retryable(fmt.Errorf("klaviyo %s: decoding the answer: %w", op, err))
	}
	return nil
}

func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host == ub.Host
}

// withDetail adds the titles and details of Klaviyo's error document to
// err's message, keeping its kind.
func withDetail(err error) error {
	_, errs := errorsOf(err)
	if len(errs) == 0 {
		return err
	}
	var parts []string
	for _, e := range errs {
		parts = append(parts, strings.TrimSpace(e.Code+": "+e.Detail))
	}
	return &adapter.Error{Kind: adapter.KindOf(err), RetryAfter: adapter.RetryAfterOf(err),
		Err: fmt.Errorf("%w (%s)", err, strings.Join(parts, "; "))}
}
