package pardot

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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// Name is the platform name of refs and of the adapter.
const Name = "pardot"

// Version is the plugin's version.
const Version = "0.1.0"

// Limits from the Account Engagement documentation.
const (
	maxPageSize   = 1000 // rows per v5 query page
	maxConcurrent = 5    // concurrent API requests per business unit
	maxPushBatch  = 10000
)

// Error codes of the v5 error body {code, message} the plugin acts on.
const (
	codeConcurrent = 66  // concurrent request limit
	codeDaily      = 122 // daily call limit
)

// Config is the plugin's config section.
type Config struct {
	ClientID       string `spec:"client_id,required" doc:"consumer key of the Salesforce connected app (scope pardot_api, refresh_token)"`
	ClientSecret   string `spec:"client_secret,required,secret" doc:"consumer secret of the connected app"`
	RefreshToken   string `spec:"refresh_token,required,secret" doc:"OAuth refresh token of an SSO-enabled Salesforce user"`
	BusinessUnitID string `spec:"business_unit_id,required" doc:"Account Engagement business unit id (18 characters, starts with 0Uv)"`
	LoginURL       string `spec:"login_url" default:"https://login.salesforce.com" doc:"Salesforce login host (https://test.salesforce.com for a sandbox)"`
	BaseURL        string `spec:"base_url" default:"https://pi.pardot.com" doc:"Account Engagement API host (https://pi.demo.pardot.com for demo and sandbox)"`
	PageSize       int    `spec:"page_size" default:"1000" min:"1" max:"1000" doc:"prospects per query page"`
	DailyQuota     int    `spec:"daily_quota" default:"25000" min:"0" doc:"API calls a day of the edition (Growth 25000, Plus 50000, Advanced and Premium 100000)"`
	Engagement     bool   `spec:"engagement" default:"true" doc:"read visitor activities (email opens and clicks, page views, form handlers) as engagement"`
	ReadFields     string `spec:"read_fields" doc:"comma-separated custom field ids (without __c) read as attributes pardot_<id>"`
	// The pacing the plugin asks of the host's live write-back.
	PropertyEvery time.Duration `spec:"property_every" default:"250ms" min:"0" doc:"least time between two live writes of segment values"`
	Timeout       time.Duration `spec:"timeout" default:"60s" min:">0" doc:"per-request timeout"`
}

// Plugin is the Account Engagement adapter.
type Plugin struct {
	sdk.Unimplemented
	log *slog.Logger

	mu        sync.Mutex
	cfg       Config
	base      string
	obs       adapter.HTTPObserver
	client    *httpkit.Client
	auth      *oauth
	sem       chan struct{} // the five concurrent requests
	exhausted time.Time     // the daily quota is spent until then
	remaining int           // calls left today as last known; -1 unknown

	ensureMu sync.Mutex
	listIDs  map[string]string
	fieldIDs map[string]bool
}

// New returns an unconfigured plugin that logs nothing.
func New() *Plugin { return NewWithLogger(nil) }

// NewWithLogger returns an unconfigured plugin logging to log (nil:
// nowhere); the plugin program passes sdk.Logger().
func NewWithLogger(log *slog.Logger) *Plugin {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Plugin{log: log, remaining: -1}
}

// Describe implements sdk.Plugin.
func (p *Plugin) Describe(context.Context) (adapter.Descriptor, error) {
	return adapter.Descriptor{Name: Name, Version: Version,
		Capabilities: adapter.Capabilities{Objects: []string{"contact"}, Incremental: []string{"contact"},
			Targets: []adapter.TargetKind{adapter.TargetProperty, adapter.TargetList}, MaxPushBatch: maxPushBatch},
		ConfigSchema: sdk.ConfigSchema(Config{})}, nil
}

// ValidateConfig implements sdk.ConfigValidator.
func (p *Plugin) ValidateConfig(_ context.Context, raw adapter.Config) ([]adapter.Diagnostic, error) {
	var c Config
	ds := sdk.DecodeConfig(raw, &c)
	if c.BusinessUnitID != "" && (len(c.BusinessUnitID) != 18 || !strings.HasPrefix(c.BusinessUnitID, "0Uv")) {
		ds = append(ds, adapter.Diagnostic{Severity: adapter.SeverityError, Path: "business_unit_id",
			Summary: "a business unit id is 18 characters long and starts with 0Uv"})
	}
	return ds, nil
}

// ObserveHTTP implements sdk.Observable.
func (p *Plugin) ObserveHTTP(o adapter.HTTPObserver) {
	p.mu.Lock()
	p.obs = o
	p.mu.Unlock()
}

// WritePacing implements sdk.WritePacer. Every write is one call (v5 has
// no batch form for prospects or memberships), so membership changes
// gain nothing from being held; property writes are paced so live
// write-back leaves room for pulls within the five concurrent requests.
func (p *Plugin) WritePacing() adapter.WritePacing {
	p.mu.Lock()
	defer p.mu.Unlock()
	return adapter.WritePacing{PropertyEvery: p.cfg.PropertyEvery}
}

// DailyQuota implements sdk.QuotaReporter: the edition's daily calls and
// what is left as far as the plugin knows (it counts its own calls since
// UTC midnight; 0 once code 122 was answered).
func (p *Plugin) DailyQuota() adapter.Quota {
	p.mu.Lock()
	defer p.mu.Unlock()
	return adapter.Quota{Limit: p.cfg.DailyQuota, Remaining: p.remaining}
}

// Configure implements sdk.Plugin.
func (p *Plugin) Configure(ctx context.Context, raw adapter.Config) error {
	ds, _ := p.ValidateConfig(ctx, raw)
	for _, d := range ds {
		if d.Severity == adapter.SeverityError {
			return adapter.Permanent(fmt.Errorf("pardot config: %s", d))
		}
	}
	var c Config
	sdk.DecodeConfig(raw, &c)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg = c
	p.base = strings.TrimRight(c.BaseURL, "/")
	p.auth = &oauth{cfg: c, hc: &http.Client{Timeout: c.Timeout}}
	p.client = httpkit.New(httpkit.Options{
		Platform: Name, Logger: p.log, Timeout: c.Timeout, Auth: p.auth, Classify: classify,
		Secrets:   []string{c.ClientSecret, c.RefreshToken},
		Transport: quotaTransport{base: http.DefaultTransport.(*http.Transport).Clone()},
		Hooks:     httpkit.ObserverHooks(p.obs, httpkit.Hooks{}),
	})
	p.sem = make(chan struct{}, maxConcurrent)
	p.exhausted = time.Time{}
	p.ensureMu.Lock()
	p.listIDs, p.fieldIDs = nil, nil
	p.ensureMu.Unlock()
	return nil
}

// Close implements sdk.Plugin.
func (p *Plugin) Close(context.Context) error { return nil }

// apiError is the v5 error body (version5overview.html).
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func codeOf(body []byte) apiError {
	var e apiError
	_ = json.Unmarshal(body, &e)
	return e
}

// classify maps the codes of the error body to kinds: 66 (too many
// concurrent requests) is a short rate limit, 122 (daily quota) a rate
// limit until UTC midnight; the status does not matter.
func classify(status int, _ http.Header, body []byte) (adapter.Kind, time.Duration) {
	switch codeOf(body).Code {
	case codeConcurrent:
		return adapter.KindRateLimited, time.Second
	case codeDaily:
		return adapter.KindRateLimited, untilMidnight(time.Now())
	}
	return adapter.KindUnknown, 0
}

func untilMidnight(now time.Time) time.Duration {
	now = now.UTC()
	return time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC).Sub(now)
}

// call sends one v5 request to path (under the base URL, or a whole
// nextPageUrl on the same host) and decodes the answer into out.
func (p *Plugin) call(ctx context.Context, method, path string, body, out any) error {
	p.mu.Lock()
	c, sem, base, exhausted := p.client, p.sem, p.base, p.exhausted
	p.mu.Unlock()
	if c == nil {
		return adapter.Permanent(errors.New("pardot: not configured"))
	}
	if time.Now().Before(exhausted) {
		return &adapter.Error{Kind: adapter.KindRateLimited, RetryAfter: time.Until(exhausted),
			Err: errors.New("pardot: the daily API call quota is spent (code 122)")}
	}
	u := path
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		if !sameHost(u, base) {
			return adapter.Permanent(fmt.Errorf("pardot: refusing to follow a link off %s", base))
		}
	} else {
		u = base + path
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return adapter.Permanent(fmt.Errorf("pardot: encoding %s %s: %w", method, path, err))
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(withTokenNote(ctx), method, u, rd)
	if err != nil {
		return adapter.Permanent(fmt.Errorf("pardot: building %s: %w", method, err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	resp, err := c.Do(req.Context(), req)
	<-sem
	p.spent(err)
	if err != nil {
		return withDetail(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return adapter.Retryable(fmt.Errorf("pardot: reading the answer: %w", err))
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return adapter.Retryable(fmt.Errorf("pardot: decoding the answer: %w", err))
	}
	return nil
}

// spent counts a call against the daily quota, and on code 122 stops
// calls until UTC midnight.
func (p *Plugin) spent(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := errBody(err); ok && e.Code == codeDaily {
		p.exhausted = time.Now().Add(untilMidnight(time.Now()))
		p.remaining = 0
		return
	}
	if p.remaining < 0 && p.cfg.DailyQuota > 0 {
		p.remaining = p.cfg.DailyQuota
	}
	if p.remaining > 0 {
		p.remaining--
	}
}

func errBody(err error) (apiError, bool) {
	var se *httpkit.StatusError
	if !errors.As(err, &se) {
		return apiError{}, false
	}
	e := codeOf(se.Body)
	return e, e.Code != 0
}

func statusOf(err error) int {
	var se *httpkit.StatusError
	if errors.As(err, &se) {
		return se.StatusCode
	}
	return 0
}

// withDetail adds the code and message of the error body to err's
// message, keeping its kind.
func withDetail(err error) error {
	e, ok := errBody(err)
	if !ok {
		return fmt.Errorf("pardot: %w", err)
	}
	return &adapter.Error{Kind: adapter.KindOf(err), RetryAfter: adapter.RetryAfterOf(err),
		Err: fmt.Errorf("pardot: %w (code %d: %s)", err, e.Code, e.Message)}
}

func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host == ub.Host
}

// quotaTransport gives an answer with code 122 (the daily quota spent) a
// Retry-After up to the next UTC midnight, which Account Engagement does
// not send: the HTTP kit then returns it at once as rate-limited with
// that wait instead of retrying a call that cannot succeed today.
type quotaTransport struct{ base http.RoundTripper }

func (t quotaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if rerr == nil && codeOf(b).Code == codeDaily {
		resp.Header.Set("Retry-After", strconv.Itoa(int(untilMidnight(time.Now()).Seconds())+1))
	}
	return resp, nil
}
