package salesforce

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/adapter"
)

// Auth flows.
const (
	FlowRefreshToken      = "refresh_token"
	FlowJWTBearer         = "jwt_bearer"
	FlowClientCredentials = "client_credentials"
)

// Config is the `platforms.salesforce` section.
type Config struct {
	// BaseURL is the login host the token endpoint lives on:
	// https://login.salesforce.com, https://test.salesforce.com for
	// sandboxes, or the org's My Domain (required for client credentials).
	BaseURL string
	// InstanceURL overrides the instance_url of the token response.
	InstanceURL string
	APIVersion  string // e.g. "v62.0"

	Flow         string
	ClientID     string
	ClientSecret string // secret
	RefreshToken string // secret
	Username     string // JWT sub
	PrivateKey   string // secret: PEM RSA key for the JWT bearer flow
	Audience     string // JWT aud; default https://login.salesforce.com

	// OrganizationID is the org's 15- or 18-character id; Outbound
	// Messages from any other org are refused.
	OrganizationID string
	// WebhookPathSecret, when set, must be the last path segment of the
	// Outbound Message endpoint URL.
	WebhookPathSecret string // secret

	Leads  bool // pull Leads with Contacts (default true)
	Orders bool // pull Order records as well as Opportunities (default false)
	// ContactRoles links opportunities without a ContactId to the contact
	// of their primary OpportunityContactRole (default true).
	ContactRoles  bool
	Currency      string
	MultiCurrency bool // the org has CurrencyIsoCode fields

	PageSize         int // REST query batch size, 200 to 2000
	BulkThreshold    int // initial pulls larger than this use Bulk API 2.0; 0 disables
	BulkPageSize     int // maxRecords per Bulk results page
	BulkPollInterval time.Duration

	PullShare    float64       // share of the daily API limit pulls may use (default 0.8)
	QuotaRecheck time.Duration // how long a quota stop lasts before /limits is asked again

	// CampaignInterval holds live Campaign membership changes this long
	// so that many records' changes share each composite call, and the
	// field updates the daemon writes at once are not queued behind them
	// (0: written together).
	CampaignInterval time.Duration

	RequestsPerSecond float64
	Burst             int
	RetryMax          int
	RetryWaitMin      time.Duration
	RetryWaitMax      time.Duration
	Timeout           time.Duration

	privateKey *rsa.PrivateKey
}

// configFields is the schema published through Describe.
var configFields = []adapter.ConfigField{
	{Name: "base_url", Type: adapter.FieldURL, Default: "https://login.salesforce.com", Description: "login host: login.salesforce.com, test.salesforce.com or the org's My Domain (required for client_credentials)"},
	{Name: "instance_url", Type: adapter.FieldURL, Description: "override for the instance_url the token endpoint returns"},
	{Name: "api_version", Type: adapter.FieldString, Default: "v62.0", Description: "REST API version"},
	{Name: "auth.flow", Type: adapter.FieldString, Default: FlowRefreshToken, Enum: []string{FlowRefreshToken, FlowJWTBearer, FlowClientCredentials}, Description: "OAuth flow"},
	{Name: "auth.client_id", Type: adapter.FieldString, Required: true, Description: "connected app consumer key"},
	{Name: "auth.client_secret", Type: adapter.FieldString, Secret: true, Description: "connected app consumer secret (refresh_token, client_credentials)"},
	{Name: "auth.refresh_token", Type: adapter.FieldString, Secret: true, Description: "refresh token (refresh_token flow)"},
	{Name: "auth.username", Type: adapter.FieldString, Description: "integration user (jwt_bearer sub)"},
	{Name: "auth.private_key", Type: adapter.FieldString, Secret: true, Description: "PEM RSA private key of the connected app certificate (jwt_bearer)"},
	{Name: "auth.audience", Type: adapter.FieldURL, Default: "https://login.salesforce.com", Description: "JWT aud: login.salesforce.com (test.salesforce.com when base_url is a sandbox) or a community URL"},
	{Name: "organization_id", Type: adapter.FieldString, Description: "15/18-character org id; required to accept Outbound Messages"},
	{Name: "webhook.path_secret", Type: adapter.FieldString, Secret: true, Description: "secret last path segment of the Outbound Message URL"},
	{Name: "objects.leads", Type: adapter.FieldBool, Default: "true", Description: "pull Leads as contacts"},
	{Name: "objects.orders", Type: adapter.FieldBool, Default: "false", Description: "pull Order records besides Opportunities"},
	{Name: "objects.contact_roles", Type: adapter.FieldBool, Default: "true", Description: "link opportunities without ContactId through their primary OpportunityContactRole"},
	{Name: "currency", Type: adapter.FieldString, Default: "USD", Description: "the org's currency (single-currency orgs)"},
	{Name: "multi_currency", Type: adapter.FieldBool, Default: "false", Description: "read CurrencyIsoCode per record"},
	{Name: "page_size", Type: adapter.FieldInt, Default: "2000", Description: "REST query batch size (200-2000)"},
	{Name: "bulk.threshold", Type: adapter.FieldInt, Default: "10000", Description: "initial pulls above this many records use Bulk API 2.0; 0 disables"},
	{Name: "bulk.page_size", Type: adapter.FieldInt, Default: "50000", Description: "rows per Bulk API 2.0 results page"},
	{Name: "bulk.poll_interval", Type: adapter.FieldDuration, Default: "2s", Description: "wait between Bulk job status polls"},
	{Name: "quota.pull_share", Type: adapter.FieldString, Default: "0.8", Description: "share of the daily API request limit pulls may use; write-back and webhooks use the rest"},
	{Name: "quota.recheck", Type: adapter.FieldDuration, Default: "1h", Description: "after a quota stop, wait this long before asking /limits again"},
	{Name: "write_back.campaign_interval", Type: adapter.FieldDuration, Default: "1s", Description: "live write-back: hold Campaign membership changes this long so many records share each call, while field updates go at once; 0 writes them together"},
	{Name: "rate.requests_per_second", Type: adapter.FieldString, Default: "20", Description: "client-side request rate"},
	{Name: "rate.burst", Type: adapter.FieldInt, Default: "20", Description: "client-side burst"},
	{Name: "http.retry_max", Type: adapter.FieldInt, Default: "4", Description: "retries per call for 5xx and network errors"},
	{Name: "http.retry_wait_min", Type: adapter.FieldDuration, Default: "200ms", Description: "first retry wait"},
	{Name: "http.retry_wait_max", Type: adapter.FieldDuration, Default: "10s", Description: "longest retry wait"},
	{Name: "http.timeout", Type: adapter.FieldDuration, Default: "60s", Description: "per-attempt timeout"},
}

var (
	versionRE = regexp.MustCompile(`^v[0-9]{2,3}\.0$`)
	orgIDRE   = regexp.MustCompile(`^00D[0-9A-Za-z]{12}([0-9A-Za-z]{3})?$`)
)

// reader walks a decoded YAML tree, collecting diagnostics.
type reader struct {
	cfg   adapter.Config
	diags []adapter.Diagnostic
	used  map[string]bool
}

func (r *reader) path(key string) string { return "platforms." + Name + "." + key }

func (r *reader) errorf(key, format string, args ...any) {
	r.diags = append(r.diags, adapter.Diagnostic{Severity: adapter.SeverityError, Path: r.path(key), Summary: fmt.Sprintf(format, args...)})
}

func (r *reader) lookup(key string) (any, bool) {
	r.used[key] = true
	var cur any = map[string]any(r.cfg)
	for _, part := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			if ac, ok2 := cur.(adapter.Config); ok2 {
				m = ac
			} else {
				return nil, false
			}
		}
		cur, ok = m[part]
		if !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

func (r *reader) str(key, def string) string {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case string:
		return x
	case int, int64, float64:
		return fmt.Sprint(x)
	}
	r.errorf(key, "must be a string, not %T", v)
	return def
}

func (r *reader) boolean(key string, def bool) bool {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return b
		}
	}
	r.errorf(key, "must be true or false, not %v", v)
	return def
}

func (r *reader) integer(key string, def int) int {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case float64:
		if x == float64(int(x)) {
			return int(x)
		}
	case string:
		if n, err := strconv.Atoi(x); err == nil {
			return n
		}
	}
	r.errorf(key, "must be a whole number, not %v", v)
	return def
}

func (r *reader) float(key string, def float64) float64 {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	case string:
		s := strings.TrimSpace(x)
		pct := strings.HasSuffix(s, "%")
		if f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64); err == nil {
			if pct {
				f /= 100
			}
			return f
		}
	}
	r.errorf(key, "must be a number, not %v", v)
	return def
}

func (r *reader) duration(key string, def time.Duration) time.Duration {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	if s, ok := v.(string); ok {
		if d, err := time.ParseDuration(s); err == nil && d >= 0 {
			return d
		}
	}
	r.errorf(key, "must be a duration such as 2s or 1h, not %v", v)
	return def
}

// unknown reports keys that are not part of the schema.
func (r *reader) unknown() {
	// "enabled" belongs to the host; "<secret>_file" keys are resolved by
	// the host but tolerated if one is passed through.
	known := map[string]bool{"enabled": true}
	for _, f := range configFields {
		known[f.Name] = true
		if f.Secret {
			known[f.Name+"_file"] = true
		}
	}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			if sub, ok := m[k].(map[string]any); ok && !known[p] {
				walk(p, sub)
				continue
			}
			if !known[p] {
				r.errorf(p, "unknown setting")
			}
		}
	}
	walk("", r.cfg)
}

// ParseConfig decodes and validates a config section without network I/O.
// It returns every problem found; the Config is usable only when no
// diagnostic has error severity.
func ParseConfig(raw adapter.Config) (*Config, []adapter.Diagnostic) {
	r := &reader{cfg: raw, used: map[string]bool{}}
	c := &Config{
		BaseURL:           strings.TrimRight(r.str("base_url", "https://login.salesforce.com"), "/"),
		InstanceURL:       strings.TrimRight(r.str("instance_url", ""), "/"),
		APIVersion:        r.str("api_version", "v62.0"),
		Flow:              r.str("auth.flow", FlowRefreshToken),
		ClientID:          r.str("auth.client_id", ""),
		ClientSecret:      r.str("auth.client_secret", ""),
		RefreshToken:      r.str("auth.refresh_token", ""),
		Username:          r.str("auth.username", ""),
		PrivateKey:        r.str("auth.private_key", ""),
		Audience:          strings.TrimRight(r.str("auth.audience", ""), "/"),
		OrganizationID:    r.str("organization_id", ""),
		WebhookPathSecret: r.str("webhook.path_secret", ""),
		Leads:             r.boolean("objects.leads", true),
		Orders:            r.boolean("objects.orders", false),
		ContactRoles:      r.boolean("objects.contact_roles", true),
		Currency:          strings.ToUpper(r.str("currency", "USD")),
		MultiCurrency:     r.boolean("multi_currency", false),
		PageSize:          r.integer("page_size", 2000),
		BulkThreshold:     r.integer("bulk.threshold", 10000),
		BulkPageSize:      r.integer("bulk.page_size", 50000),
		BulkPollInterval:  r.duration("bulk.poll_interval", 2*time.Second),
		PullShare:         r.float("quota.pull_share", 0.8),
		QuotaRecheck:      r.duration("quota.recheck", time.Hour),
		CampaignInterval:  r.duration("write_back.campaign_interval", time.Second),
		RequestsPerSecond: r.float("rate.requests_per_second", 20),
		Burst:             r.integer("rate.burst", 20),
		RetryMax:          r.integer("http.retry_max", 4),
		RetryWaitMin:      r.duration("http.retry_wait_min", 200*time.Millisecond),
		RetryWaitMax:      r.duration("http.retry_wait_max", 10*time.Second),
		Timeout:           r.duration("http.timeout", 60*time.Second),
	}
	r.unknown()
	if c.Audience == "" {
		// Sandboxes sign in at test.salesforce.com and expect it as aud;
		// production orgs and My Domains expect login.salesforce.com.
		c.Audience = "https://login.salesforce.com"
		if u, err := url.Parse(c.BaseURL); err == nil && (u.Host == "test.salesforce.com" || strings.HasSuffix(u.Host, ".sandbox.my.salesforce.com")) {
			c.Audience = "https://test.salesforce.com"
		}
	}
	checkURL := func(key, v string, required bool) {
		if v == "" {
			if required {
				r.errorf(key, "is required")
			}
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			r.errorf(key, "must be an absolute http(s) URL, not %q", v)
		}
	}
	checkURL("base_url", c.BaseURL, true)
	checkURL("instance_url", c.InstanceURL, false)
	checkURL("auth.audience", c.Audience, true)
	if !versionRE.MatchString(c.APIVersion) {
		r.errorf("api_version", "must look like v62.0, not %q", c.APIVersion)
	}
	if c.ClientID == "" {
		r.errorf("auth.client_id", "is required (the connected app's consumer key)")
	}
	switch c.Flow {
	case FlowRefreshToken:
		if c.RefreshToken == "" {
			r.errorf("auth.refresh_token", "is required for auth.flow %s", c.Flow)
		}
	case FlowClientCredentials:
		if c.ClientSecret == "" {
			r.errorf("auth.client_secret", "is required for auth.flow %s", c.Flow)
		}
	case FlowJWTBearer:
		if c.Username == "" {
			r.errorf("auth.username", "is required for auth.flow %s (the JWT sub)", c.Flow)
		}
		if c.PrivateKey == "" {
			r.errorf("auth.private_key", "is required for auth.flow %s", c.Flow)
		} else if k, err := parsePrivateKey(c.PrivateKey); err != nil {
			r.errorf("auth.private_key", "%v", err)
		} else {
			c.privateKey = k
		}
	default:
		r.errorf("auth.flow", "must be one of %s, %s, %s, not %q", FlowRefreshToken, FlowJWTBearer, FlowClientCredentials, c.Flow)
	}
	if c.OrganizationID != "" && !orgIDRE.MatchString(c.OrganizationID) {
		r.errorf("organization_id", "must be a 15- or 18-character id starting with 00D, not %q", c.OrganizationID)
	}
	if len(c.Currency) != 3 {
		r.errorf("currency", "must be an ISO 4217 code such as USD, not %q", c.Currency)
	}
	if c.PageSize < 200 || c.PageSize > 2000 {
		r.errorf("page_size", "must be between 200 and 2000, not %d", c.PageSize)
	}
	if c.BulkThreshold < 0 {
		r.errorf("bulk.threshold", "must be 0 (off) or more, not %d", c.BulkThreshold)
	}
	if c.BulkPageSize < 1 {
		r.errorf("bulk.page_size", "must be positive, not %d", c.BulkPageSize)
	}
	if c.PullShare <= 0 || c.PullShare > 1 {
		r.errorf("quota.pull_share", "must be in (0, 1], not %v", c.PullShare)
	}
	if c.RequestsPerSecond <= 0 {
		r.errorf("rate.requests_per_second", "must be positive, not %v", c.RequestsPerSecond)
	}
	if c.Burst < 1 {
		r.errorf("rate.burst", "must be at least 1, not %d", c.Burst)
	}
	if c.RetryMax < 0 {
		r.errorf("http.retry_max", "must be 0 or more, not %d", c.RetryMax)
	}
	if c.OrganizationID == "" {
		r.diags = append(r.diags, adapter.Diagnostic{Severity: adapter.SeverityWarning, Path: r.path("organization_id"),
			Summary: "not set: Outbound Messages will be refused"})
	}
	return c, r.diags
}

func parsePrivateKey(s string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, fmt.Errorf("is not a PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("is not a PKCS#1 or PKCS#8 RSA private key")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("is not an RSA private key")
	}
	return rk, nil
}

// secrets lists the values to redact everywhere.
func (c *Config) secrets() []string {
	return []string{c.ClientSecret, c.RefreshToken, c.PrivateKey, c.WebhookPathSecret}
}

func hasErrors(diags []adapter.Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == adapter.SeverityError {
			return true
		}
	}
	return false
}
