package hubspot

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/adapter"
)

// DefaultBaseURL is HubSpot's API host.
const DefaultBaseURL = "https://api.hubapi.com"

// tierLimits are HubSpot's published per-account budgets (see README):
// requests per 10-second rolling window and per day.
func tierNames() []string {
	return []string{"free", "starter", "professional", "enterprise", "api_pack", "oauth_app"}
}

// TierLimits returns a tier's requests per 10-second window and per day
// (0: none reported); unknown tiers get Professional's.
func TierLimits(tier string) (perTenSeconds, daily int) { return tierLimits(tier) }

func tierLimits(tier string) (burst int, daily int) {
	switch tier {
	case "free", "starter":
		return 100, 250_000
	case "enterprise":
		return 190, 1_000_000
	case "api_pack":
		return 250, 2_000_000
	case "oauth_app":
		return 110, 0 // public apps: no daily limit reported
	default: // professional
		return 190, 650_000
	}
}

// Config is the `platforms.hubspot` section.
type Config struct {
	BaseURL string // default https://api.hubapi.com
	Account string // portal id, recorded in every ExternalRef
	Token   string // private-app or service-key token (secret)
	OAuth   OAuthConfig

	Tier      string
	RateLimit RateLimitConfig
	Retry     RetryConfig

	PageSize      int           // list page size, ≤ 100
	SearchSize    int           // search page size, ≤ 200
	SearchLag     time.Duration // records newer than now-SearchLag wait for the next run
	ArchivedSweep time.Duration // how often incremental pulls list archived records; 0 = every run
	Firmographics bool          // attach each contact's primary company
	LineItems     bool          // read line items of deals and orders
	Properties    []string      // extra contact properties copied into Contact.Attributes
	Currency      string        // default currency for amounts without one

	Deals     DealsConfig
	Webhooks  WebhookConfig
	WriteBack WriteBackConfig
}

// OAuthConfig holds OAuth app credentials; RefreshToken comes from the
// install flow.
type OAuthConfig struct {
	ClientID     string
	ClientSecret string // secret
	RefreshToken string // secret
	TokenURL     string // default base_url + /oauth/v1/token
}

// RateLimitConfig sizes the per-account budget.
type RateLimitConfig struct {
	Requests        int           // per Interval (rolling window)
	Interval        time.Duration // default 10s
	Daily           int           // per day, 0 = unlimited
	SearchPerSecond int           // search endpoints' own budget, default 5
}

// RetryConfig tunes retries inside the HTTP client.
type RetryConfig struct {
	Max     int
	WaitMin time.Duration
	WaitMax time.Duration
}

// DealsConfig says how deal stages map to order statuses.
type DealsConfig struct {
	WonStages  []string
	LostStages []string
}

// WebhookConfig verifies inbound webhooks.
type WebhookConfig struct {
	ClientSecret string   // secret; defaults to oauth.client_secret
	Versions     []string // accepted signature versions: v3 (default), v2, v1
	MaxAge       time.Duration
}

// WriteBackConfig tunes write-back.
type WriteBackConfig struct {
	PropertyGroup string // group for created properties, default contactinformation
	ListBatch     int    // record ids per list membership call, default 100
	// MembershipInterval is how long the daemon may hold live list
	// membership changes to write each list once for many records
	// (default 2s; 0 writes them with the property changes).
	MembershipInterval time.Duration
}

// Secrets returns the secret values, for redaction.
func (c *Config) Secrets() []string {
	return []string{c.Token, c.OAuth.ClientSecret, c.OAuth.RefreshToken, c.Webhooks.ClientSecret}
}

func defaultConfig() Config {
	return Config{
		BaseURL:       DefaultBaseURL,
		Tier:          "professional",
		Retry:         RetryConfig{Max: 4, WaitMin: 200 * time.Millisecond, WaitMax: 10 * time.Second},
		PageSize:      100,
		SearchSize:    200,
		SearchLag:     5 * time.Second,
		ArchivedSweep: time.Hour,
		Firmographics: true,
		LineItems:     true,
		Currency:      "USD",
		Deals:         DealsConfig{WonStages: []string{"closedwon"}, LostStages: []string{"closedlost"}},
		Webhooks:      WebhookConfig{Versions: []string{"v3"}, MaxAge: 5 * time.Minute},
		WriteBack:     WriteBackConfig{PropertyGroup: "contactinformation", ListBatch: 100, MembershipInterval: 2 * time.Second},
	}
}

// ParseConfig decodes and validates a section. prefix is the section's
// dotted path (platforms.hubspot). It never touches the network.
func ParseConfig(raw adapter.Config, prefix string) (Config, []adapter.Diagnostic) {
	c := defaultConfig()
	d := &decoder{prefix: prefix}
	m := map[string]any(raw)
	d.known(m, "", "base_url", "account", "token", "oauth", "tier", "rate_limit", "retry", "page_size", "search_page_size",
		"search_lag", "archived_sweep", "firmographics", "line_items", "properties", "currency", "deals", "webhooks", "write_back")
	d.str(m, "base_url", &c.BaseURL)
	d.str(m, "account", &c.Account)
	d.str(m, "token", &c.Token)
	if o := d.section(m, "oauth"); o != nil {
		d.known(o, "oauth.", "client_id", "client_secret", "refresh_token", "token_url")
		d.str(o, "oauth.client_id", &c.OAuth.ClientID)
		d.str(o, "oauth.client_secret", &c.OAuth.ClientSecret)
		d.str(o, "oauth.refresh_token", &c.OAuth.RefreshToken)
		d.str(o, "oauth.token_url", &c.OAuth.TokenURL)
	}
	d.str(m, "tier", &c.Tier)
	c.RateLimit.Requests, c.RateLimit.Daily = tierLimits(c.Tier)
	c.RateLimit.Interval, c.RateLimit.SearchPerSecond = 10*time.Second, 5
	if rl := d.section(m, "rate_limit"); rl != nil {
		d.known(rl, "rate_limit.", "requests", "interval", "daily", "search_per_second")
		d.int(rl, "rate_limit.requests", &c.RateLimit.Requests)
		d.dur(rl, "rate_limit.interval", &c.RateLimit.Interval)
		d.int(rl, "rate_limit.daily", &c.RateLimit.Daily)
		d.int(rl, "rate_limit.search_per_second", &c.RateLimit.SearchPerSecond)
	}
	if r := d.section(m, "retry"); r != nil {
		d.known(r, "retry.", "max", "wait_min", "wait_max")
		d.int(r, "retry.max", &c.Retry.Max)
		d.dur(r, "retry.wait_min", &c.Retry.WaitMin)
		d.dur(r, "retry.wait_max", &c.Retry.WaitMax)
	}
	d.int(m, "page_size", &c.PageSize)
	d.int(m, "search_page_size", &c.SearchSize)
	d.dur(m, "search_lag", &c.SearchLag)
	d.dur(m, "archived_sweep", &c.ArchivedSweep)
	d.bool(m, "firmographics", &c.Firmographics)
	d.bool(m, "line_items", &c.LineItems)
	d.strs(m, "properties", &c.Properties)
	d.str(m, "currency", &c.Currency)
	if dl := d.section(m, "deals"); dl != nil {
		d.known(dl, "deals.", "won_stages", "lost_stages")
		d.strs(dl, "deals.won_stages", &c.Deals.WonStages)
		d.strs(dl, "deals.lost_stages", &c.Deals.LostStages)
	}
	c.Webhooks.ClientSecret = c.OAuth.ClientSecret
	if w := d.section(m, "webhooks"); w != nil {
		d.known(w, "webhooks.", "client_secret", "versions", "max_age")
		d.str(w, "webhooks.client_secret", &c.Webhooks.ClientSecret)
		d.strs(w, "webhooks.versions", &c.Webhooks.Versions)
		d.dur(w, "webhooks.max_age", &c.Webhooks.MaxAge)
	}
	if wb := d.section(m, "write_back"); wb != nil {
		d.known(wb, "write_back.", "property_group", "list_batch", "membership_interval")
		d.str(wb, "write_back.property_group", &c.WriteBack.PropertyGroup)
		d.int(wb, "write_back.list_batch", &c.WriteBack.ListBatch)
		d.dur(wb, "write_back.membership_interval", &c.WriteBack.MembershipInterval)
	}
	d.diags = append(d.diags, c.Validate(prefix)...)
	return c, d.diags
}

var propertyName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Validate checks values (not types, which ParseConfig checks).
func (c *Config) Validate(prefix string) []adapter.Diagnostic {
	var ds []adapter.Diagnostic
	bad := func(path, summary, detail string) {
		ds = append(ds, adapter.Diagnostic{Severity: adapter.SeverityError, Path: prefix + "." + path, Summary: summary, Detail: detail})
	}
	checkURL := func(path, v string) {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(path, "must be an absolute http(s) URL", fmt.Sprintf("got %q", v))
		}
	}
	checkURL("base_url", c.BaseURL)
	if c.OAuth.TokenURL != "" {
		checkURL("oauth.token_url", c.OAuth.TokenURL)
	}
	oauth := c.OAuth.ClientID != "" || c.OAuth.ClientSecret != "" || c.OAuth.RefreshToken != ""
	switch {
	case c.Token == "" && !oauth:
		bad("token", "is required unless oauth is configured", "set a private-app token (token or token_file) or oauth.client_id, oauth.client_secret and oauth.refresh_token")
	case c.Token != "" && oauth:
		bad("token", "conflicts with oauth", "configure either a private-app token or OAuth, not both")
	case oauth:
		if c.OAuth.ClientID == "" {
			bad("oauth.client_id", "is required for OAuth", "")
		}
		if c.OAuth.ClientSecret == "" {
			bad("oauth.client_secret", "is required for OAuth", "")
		}
		if c.OAuth.RefreshToken == "" {
			bad("oauth.refresh_token", "is required for OAuth", "the refresh token from the app's install flow")
		}
	}
	if !slices.Contains(tierNames(), c.Tier) {
		bad("tier", "is not a known HubSpot tier", "one of "+strings.Join(tierNames(), ", "))
	}
	if c.RateLimit.Requests < 1 {
		bad("rate_limit.requests", "must be at least 1", "")
	}
	if c.RateLimit.Interval <= 0 {
		bad("rate_limit.interval", "must be positive", "")
	}
	if c.RateLimit.Daily < 0 {
		bad("rate_limit.daily", "must not be negative", "0 means no daily limit")
	}
	if c.RateLimit.SearchPerSecond < 1 {
		bad("rate_limit.search_per_second", "must be at least 1", "")
	}
	if c.Retry.Max < 0 {
		bad("retry.max", "must not be negative", "")
	}
	if c.PageSize < 1 || c.PageSize > 100 {
		bad("page_size", "must be between 1 and 100", "HubSpot's list endpoints return at most 100 records per page")
	}
	if c.SearchSize < 1 || c.SearchSize > 200 {
		bad("search_page_size", "must be between 1 and 200", "HubSpot's search returns at most 200 records per page")
	}
	if c.SearchLag < 0 {
		bad("search_lag", "must not be negative", "")
	}
	if c.ArchivedSweep < 0 {
		bad("archived_sweep", "must not be negative", "")
	}
	for i, p := range c.Properties {
		if !propertyName.MatchString(p) {
			bad("properties."+strconv.Itoa(i), "is not a HubSpot property name", fmt.Sprintf("got %q", p))
		}
	}
	if len(c.Currency) != 3 {
		bad("currency", "must be an ISO 4217 code", fmt.Sprintf("got %q", c.Currency))
	}
	for i, v := range c.Webhooks.Versions {
		if v != "v1" && v != "v2" && v != "v3" {
			bad("webhooks.versions."+strconv.Itoa(i), "must be v1, v2 or v3", fmt.Sprintf("got %q", v))
		}
	}
	if c.Webhooks.MaxAge <= 0 {
		bad("webhooks.max_age", "must be positive", "")
	}
	if !propertyName.MatchString(c.WriteBack.PropertyGroup) {
		bad("write_back.property_group", "is not a HubSpot property group name", fmt.Sprintf("got %q", c.WriteBack.PropertyGroup))
	}
	if c.WriteBack.ListBatch < 1 {
		bad("write_back.list_batch", "must be at least 1", "")
	}
	if c.WriteBack.MembershipInterval < 0 {
		bad("write_back.membership_interval", "must not be negative", "0 writes list changes with the property changes")
	}
	return ds
}

// decoder reads a YAML-decoded tree with typed diagnostics.
type decoder struct {
	prefix string
	diags  []adapter.Diagnostic
}

func (d *decoder) fail(path, summary, detail string) {
	d.diags = append(d.diags, adapter.Diagnostic{Severity: adapter.SeverityError, Path: d.prefix + "." + path, Summary: summary, Detail: detail})
}

func (d *decoder) known(m map[string]any, prefix string, names ...string) {
	var unknown []string
	for k := range m {
		if !slices.Contains(names, k) && !strings.HasSuffix(k, "_file") {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		d.fail(prefix+k, "is not a known setting", "known settings: "+strings.Join(names, ", "))
	}
}

func last(path string) string { return path[strings.LastIndexByte(path, '.')+1:] }

func (d *decoder) section(m map[string]any, key string) map[string]any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	s, ok := v.(map[string]any)
	if !ok {
		d.fail(key, "must be a mapping", fmt.Sprintf("got %T", v))
		return nil
	}
	return s
}

func (d *decoder) str(m map[string]any, path string, out *string) {
	v, ok := m[last(path)]
	if !ok || v == nil {
		return
	}
	s, ok := v.(string)
	if !ok {
		d.fail(path, "must be a string", fmt.Sprintf("got %T", v))
		return
	}
	*out = strings.TrimSpace(s)
}

func (d *decoder) int(m map[string]any, path string, out *int) {
	v, ok := m[last(path)]
	if !ok || v == nil {
		return
	}
	switch x := v.(type) {
	case int:
		*out = x
	case int64:
		*out = int(x)
	case uint64:
		*out = int(x)
	case float64:
		if x != float64(int(x)) {
			d.fail(path, "must be a whole number", fmt.Sprintf("got %v", x))
			return
		}
		*out = int(x)
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			d.fail(path, "must be a whole number", fmt.Sprintf("got %q", x))
			return
		}
		*out = n
	default:
		d.fail(path, "must be a whole number", fmt.Sprintf("got %T", v))
	}
}

func (d *decoder) dur(m map[string]any, path string, out *time.Duration) {
	v, ok := m[last(path)]
	if !ok || v == nil {
		return
	}
	switch x := v.(type) {
	case string:
		t, err := time.ParseDuration(strings.TrimSpace(x))
		if err != nil {
			d.fail(path, "must be a duration such as 10s or 5m", fmt.Sprintf("got %q", x))
			return
		}
		*out = t
	case int:
		*out = time.Duration(x) * time.Second
	case int64:
		*out = time.Duration(x) * time.Second
	case float64:
		*out = time.Duration(x * float64(time.Second))
	case time.Duration:
		*out = x
	default:
		d.fail(path, "must be a duration such as 10s or 5m", fmt.Sprintf("got %T", v))
	}
}

func (d *decoder) bool(m map[string]any, path string, out *bool) {
	v, ok := m[last(path)]
	if !ok || v == nil {
		return
	}
	b, ok := v.(bool)
	if !ok {
		d.fail(path, "must be true or false", fmt.Sprintf("got %T", v))
		return
	}
	*out = b
}

func (d *decoder) strs(m map[string]any, path string, out *[]string) {
	v, ok := m[last(path)]
	if !ok || v == nil {
		return
	}
	var res []string
	switch x := v.(type) {
	case []string:
		res = x
	case []any:
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				d.fail(path+"."+strconv.Itoa(i), "must be a string", fmt.Sprintf("got %T", e))
				return
			}
			res = append(res, s)
		}
	case string:
		for _, p := range strings.Split(x, ",") {
			if p = strings.TrimSpace(p); p != "" {
				res = append(res, p)
			}
		}
	default:
		d.fail(path, "must be a list of strings", fmt.Sprintf("got %T", v))
		return
	}
	*out = res
}

func (c *Config) tokenURL() string {
	if c.OAuth.TokenURL != "" {
		return c.OAuth.TokenURL
	}
	return strings.TrimRight(c.BaseURL, "/") + "/oauth/v1/token"
}

// configSchema describes the section for Describe.
func configSchema() []adapter.ConfigField {
	return []adapter.ConfigField{
		{Name: "base_url", Type: adapter.FieldURL, Default: DefaultBaseURL, Description: "API host; point it at `connector sandbox` to use the fake"},
		{Name: "account", Type: adapter.FieldString, Description: "portal (hub) id recorded in every external reference"},
		{Name: "token", Type: adapter.FieldString, Secret: true, Description: "private-app or service-key bearer token"},
		{Name: "oauth.client_id", Type: adapter.FieldString, Description: "OAuth app client id"},
		{Name: "oauth.client_secret", Type: adapter.FieldString, Secret: true, Description: "OAuth app client secret (also the webhook signing secret by default)"},
		{Name: "oauth.refresh_token", Type: adapter.FieldString, Secret: true, Description: "refresh token from the install flow"},
		{Name: "oauth.token_url", Type: adapter.FieldURL, Description: "token endpoint; default base_url + /oauth/v1/token"},
		{Name: "tier", Type: adapter.FieldString, Default: "professional", Enum: tierNames(), Description: "sets rate_limit defaults from HubSpot's published tiers"},
		{Name: "rate_limit.requests", Type: adapter.FieldInt, Description: "requests per rate_limit.interval (tier default)"},
		{Name: "rate_limit.interval", Type: adapter.FieldDuration, Default: "10s", Description: "rolling window of the burst limit"},
		{Name: "rate_limit.daily", Type: adapter.FieldInt, Description: "requests per day, 0 for none (tier default)"},
		{Name: "rate_limit.search_per_second", Type: adapter.FieldInt, Default: "5", Description: "search API budget"},
		{Name: "retry.max", Type: adapter.FieldInt, Default: "4", Description: "retries of 429/5xx/network errors per call"},
		{Name: "retry.wait_min", Type: adapter.FieldDuration, Default: "200ms", Description: "first retry backoff"},
		{Name: "retry.wait_max", Type: adapter.FieldDuration, Default: "10s", Description: "longest retry backoff"},
		{Name: "page_size", Type: adapter.FieldInt, Default: "100", Description: "list page size (≤ 100)"},
		{Name: "search_page_size", Type: adapter.FieldInt, Default: "200", Description: "search page size (≤ 200)"},
		{Name: "search_lag", Type: adapter.FieldDuration, Default: "5s", Description: "incremental pulls stop this far behind now, as search is eventually consistent"},
		{Name: "archived_sweep", Type: adapter.FieldDuration, Default: "1h", Description: "how often incremental pulls list archived records (0: every pull)"},
		{Name: "firmographics", Type: adapter.FieldBool, Default: "true", Description: "attach each contact's primary company"},
		{Name: "line_items", Type: adapter.FieldBool, Default: "true", Description: "read line items of deals and orders"},
		{Name: "properties", Type: adapter.FieldList, Description: "extra contact properties copied into attributes"},
		{Name: "currency", Type: adapter.FieldString, Default: "USD", Description: "currency of amounts that carry none"},
		{Name: "deals.won_stages", Type: adapter.FieldList, Default: "closedwon", Description: "deal stages that count as purchases"},
		{Name: "deals.lost_stages", Type: adapter.FieldList, Default: "closedlost", Description: "deal stages that count as lost"},
		{Name: "webhooks.client_secret", Type: adapter.FieldString, Secret: true, Description: "app secret that signs webhooks (default oauth.client_secret)"},
		{Name: "webhooks.versions", Type: adapter.FieldList, Default: "v3", Enum: []string{"v1", "v2", "v3"}, Description: "signature versions accepted"},
		{Name: "webhooks.max_age", Type: adapter.FieldDuration, Default: "5m", Description: "oldest v3 timestamp accepted"},
		{Name: "write_back.property_group", Type: adapter.FieldString, Default: "contactinformation", Description: "group of the properties write-back creates"},
		{Name: "write_back.list_batch", Type: adapter.FieldInt, Default: "100", Description: "record ids per list membership call"},
		{Name: "write_back.membership_interval", Type: adapter.FieldDuration, Default: "2s", Description: "how long live list changes are held to write each list once for many records (0: with the property changes)"},
	}
}
