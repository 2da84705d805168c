package mailchimp

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Name is the platform name of refs and of the adapter.
const Name = "mailchimp"

// Version is the plugin's version.
const Version = "0.1.0"

// maxCount is the largest page GET /lists/{list_id}/members serves.
const maxCount = 1000

// Config is the plugin's config section.
type Config struct {
	APIKey      string        `spec:"api_key,required,secret" doc:"API key; its suffix (e.g. -us6) names the data center"`
	ListID      string        `spec:"list_id,required" doc:"the audience (list) id"`
	BaseURL     string        `spec:"base_url" doc:"API base URL; default https://<dc>.api.mailchimp.com/3.0"`
	Connections int           `spec:"connections" default:"10" min:"1" max:"10" doc:"simultaneous connections (Mailchimp allows 10)"`
	PageSize    int           `spec:"page_size" default:"1000" min:"1" max:"1000" doc:"members per page"`
	Timeout     time.Duration `spec:"timeout" default:"120s" min:">0" doc:"per-request timeout (Mailchimp's own is 120 s)"`
	// WebhookSecret authenticates audience webhooks, which Mailchimp does
	// not sign: register the callback URL with ?secret=<it>.
	WebhookSecret string `spec:"webhook_secret,secret" doc:"secret query parameter of the webhook callback URL"`
	// BatchThreshold decides between direct calls and a batch operation
	// for a write-back.
	BatchThreshold int           `spec:"batch_threshold" default:"100" min:"1" doc:"write-backs of more member calls than this go as one batch operation (POST /batches)"`
	BatchPoll      time.Duration `spec:"batch_poll" default:"2s" min:">0" doc:"wait between polls of a batch operation"`
	BatchTimeout   time.Duration `spec:"batch_timeout" default:"10m" min:">0" doc:"longest wait for a batch operation to finish"`
}

// Plugin is the Mailchimp adapter.
type Plugin struct {
	sdk.Unimplemented
	cfg    Config
	base   string
	client *http.Client
	conns  chan struct{} // one token per allowed connection

	ensureMu sync.Mutex // one merge field lookup or creation at a time
}

// New returns an unconfigured plugin.
func New() *Plugin { return &Plugin{} }

// SubscriberHash is the MD5 of the lower-cased email, a member's id.
func SubscriberHash(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(email)))
	return hex.EncodeToString(sum[:])
}

// Describe implements sdk.Plugin.
func (p *Plugin) Describe(context.Context) (adapter.Descriptor, error) {
	return adapter.Descriptor{Name: Name, Version: Version,
		Capabilities: adapter.Capabilities{Objects: []string{"contact"}, Incremental: []string{"contact"},
			Targets: []adapter.TargetKind{adapter.TargetProperty, adapter.TargetList}, MaxPushBatch: 500, Webhooks: true},
		ConfigSchema: sdk.ConfigSchema(Config{})}, nil
}

// ValidateConfig implements sdk.ConfigValidator.
func (p *Plugin) ValidateConfig(_ context.Context, raw adapter.Config) ([]adapter.Diagnostic, error) {
	var c Config
	ds := sdk.DecodeConfig(raw, &c)
	if c.APIKey != "" && c.BaseURL == "" && !strings.Contains(c.APIKey, "-") {
		ds = append(ds, adapter.Diagnostic{Severity: adapter.SeverityError, Path: "api_key",
			Summary: "has no data-center suffix (such as -us6); give base_url instead"})
	}
	return ds, nil
}

// Configure implements sdk.Plugin.
func (p *Plugin) Configure(ctx context.Context, raw adapter.Config) error {
	ds, _ := p.ValidateConfig(ctx, raw)
	for _, d := range ds {
		if d.Severity == adapter.SeverityError {
			return adapter.Permanent(fmt.Errorf("mailchimp config: %s", d))
		}
	}
	var c Config
	sdk.DecodeConfig(raw, &c)
	p.cfg = c
	p.base = strings.TrimRight(c.BaseURL, "/")
	if p.base == "" {
		_, dc, _ := strings.Cut(c.APIKey, "-")
		p.base = "https://" + dc + ".api.mailchimp.com/3.0"
	}
	p.client = &http.Client{Timeout: c.Timeout}
	p.conns = make(chan struct{}, c.Connections)
	return nil
}

// Close implements sdk.Plugin.
func (p *Plugin) Close(context.Context) error {
	if p.client != nil {
		p.client.CloseIdleConnections()
	}
	return nil
}

// problem is Mailchimp's Problem Detail Document.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// errNotFound marks a 404.
var errNotFound = errors.New("not found")

// call sends one request within the connection limit and decodes a JSON
// answer into out (nil: none expected). Errors are classified: 429 rate
// limited, 401/403 auth, other 4xx permanent, 5xx and transport retryable.
func (p *Plugin) call(ctx context.Context, method, path string, body, out any) error {
	if p.client == nil {
		return adapter.Permanent(errors.New("mailchimp: not configured"))
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return adapter.Permanent(fmt.Errorf("encoding %s %s: %w", method, path, err))
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, rd)
	if err != nil {
		return adapter.Permanent(fmt.Errorf("building %s %s: %w", method, path, err))
	}
	req.SetBasicAuth("connector", p.cfg.APIKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	select {
	case p.conns <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	resp, err := p.client.Do(req)
	if err != nil {
		<-p.conns
		return adapter.Retryable(fmt.Errorf("%s %s: %w", method, path, err))
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	<-p.conns
	if err != nil {
		return adapter.Retryable(fmt.Errorf("reading %s %s: %w", method, path, err))
	}
	if resp.StatusCode >= 300 {
		var pr problem
		_ = json.Unmarshal(b, &pr)
		e := fmt.Errorf("%s %s: %d %s: %s", method, path, resp.StatusCode, pr.Title, pr.Detail)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			return adapter.RateLimited(time.Second, e) // Mailchimp sends no Retry-After
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			return adapter.Auth(e)
		case resp.StatusCode == http.StatusNotFound:
			return adapter.Permanent(fmt.Errorf("%w: %w", e, errNotFound))
		case resp.StatusCode >= 500:
			return adapter.Retryable(e)
		default:
			return adapter.Permanent(e)
		}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return adapter.Retryable(fmt.Errorf("decoding %s %s: %w", method, path, err))
		}
	}
	return nil
}
