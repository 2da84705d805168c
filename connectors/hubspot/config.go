package hubspot

//go:generate env SPEC_WRITE_DOCS=1 go test -count=1 -run ^TestConfigDocsFollowSpec$ .

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/spec"
)

// TierLimits returns a tier's requests per 10-second window and per day
// (0: none reported); unknown tiers get Professional's.
func TierLimits(tier string) (perTenSeconds, daily int) { return tierLimits(tier) }

// tierLimits are HubSpot's published per-account budgets (see README):
// requests per 10-second rolling window and per day.
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

// Config is the `platforms.hubspot` section. The tags are its spec: they
// drive decoding, Describe's schema, the README table and the example
// config (regenerate the docs with `go generate ./connectors/hubspot`).
type Config struct {
	BaseURL string      `spec:"base_url,url" default:"https://api.hubapi.com" doc:"API host; point it at connector sandbox to use the fake"`
	Account string      `spec:"account" example:"\"12345678\"" doc:"portal (hub) id recorded in every external reference"`
	Token   string      `spec:"token,secret" example:"pat-na1-00000000-0000-0000-0000-000000000000" doc:"private-app or service-key bearer token; or oauth"`
	OAuth   OAuthConfig `spec:"oauth"`

	Tier      string          `spec:"tier" default:"professional" enum:"free,starter,professional,enterprise,api_pack,oauth_app" doc:"sets the rate_limit defaults from HubSpot's published tiers"`
	RateLimit RateLimitConfig `spec:"rate_limit"`
	Retry     RetryConfig     `spec:"retry"`

	PageSize      int           `spec:"page_size" default:"100" min:"1" max:"100" doc:"list page size; HubSpot's list endpoints return at most 100 records per page"`
	SearchSize    int           `spec:"search_page_size" default:"200" min:"1" max:"200" doc:"search page size; HubSpot's search returns at most 200 records per page"`
	SearchLag     time.Duration `spec:"search_lag" default:"5s" min:"0" doc:"incremental pulls stop this far behind now, as search is eventually consistent"`
	ArchivedSweep time.Duration `spec:"archived_sweep" default:"1h" min:"0" doc:"how often incremental pulls list archived records (0: every pull)"`
	Firmographics bool          `spec:"firmographics" default:"true" doc:"attach each contact's primary company"`
	LineItems     bool          `spec:"line_items" default:"true" doc:"read line items of deals and orders"`
	Properties    []string      `spec:"properties" example:"[hs_persona, industry_focus]" doc:"extra contact properties copied into attributes"`
	Currency      string        `spec:"currency" default:"USD" doc:"ISO 4217 currency of amounts that carry none"`

	Create               string `spec:"create" default:"never" enum:"never,members,all" doc:"for whom write-back creates a contact where a segment needs one and HubSpot has none: never, members (segment members) or all (holdout members too); a segment's writeback.hubspot.create overrides it"`
	MarketingContactsCap int    `spec:"marketing_contacts_cap" default:"0" min:"0" doc:"most contacts the connector creates in total, 0 for no cap; HubSpot bills marketing contacts, and a plan that would pass the cap creates only up to it and says so"`

	Deals     DealsConfig     `spec:"deals"`
	Webhooks  WebhookConfig   `spec:"webhooks"`
	WriteBack WriteBackConfig `spec:"write_back"`
}

// OAuthConfig holds OAuth app credentials; RefreshToken comes from the
// install flow.
type OAuthConfig struct {
	ClientID     string `spec:"client_id" doc:"OAuth app client id (instead of token)"`
	ClientSecret string `spec:"client_secret,secret" doc:"OAuth app client secret (also the webhook signing secret by default)"`
	RefreshToken string `spec:"refresh_token,secret" doc:"refresh token from the app's install flow"`
	TokenURL     string `spec:"token_url,url" doc:"token endpoint; default base_url + /oauth/v1/token"`
}

// RateLimitConfig sizes the per-account budget.
type RateLimitConfig struct {
	Requests        int           `spec:"requests" min:"1" doc:"requests per rate_limit.interval; default from tier"`
	Interval        time.Duration `spec:"interval" default:"10s" min:">0" doc:"rolling window of the burst limit"`
	Daily           int           `spec:"daily" min:"0" doc:"requests per day, 0 for none; default from tier"`
	SearchPerSecond int           `spec:"search_per_second" default:"5" min:"1" doc:"search API budget per second"`
}

// RetryConfig tunes retries inside the HTTP client.
type RetryConfig struct {
	Max     int           `spec:"max" default:"4" min:"0" doc:"retries of 429, 5xx and network errors per call"`
	WaitMin time.Duration `spec:"wait_min" default:"200ms" min:"0" doc:"first retry backoff"`
	WaitMax time.Duration `spec:"wait_max" default:"10s" min:"0" doc:"longest retry backoff"`
}

// DealsConfig says how deal stages map to order statuses.
type DealsConfig struct {
	WonStages  []string `spec:"won_stages" default:"closedwon" doc:"deal stages that count as purchases"`
	LostStages []string `spec:"lost_stages" default:"closedlost" doc:"deal stages that count as lost"`
}

// WebhookConfig verifies inbound webhooks.
type WebhookConfig struct {
	ClientSecret string        `spec:"client_secret,secret" example:"your-app-secret" doc:"app secret that signs webhooks; default oauth.client_secret"`
	Versions     []string      `spec:"versions" default:"v3" enum:"v1,v2,v3" doc:"signature versions accepted"`
	MaxAge       time.Duration `spec:"max_age" default:"5m" min:">0" doc:"oldest v3 timestamp accepted"`
	// AppID and DeveloperAPIKey let the connector read the public app's
	// webhook subscriptions (webhooks API v3), to report paused ones.
	AppID           string `spec:"app_id" doc:"id of the public app whose webhook subscriptions the connector watches (with developer_api_key)"`
	DeveloperAPIKey string `spec:"developer_api_key,secret" doc:"developer account API key that reads the app's webhook subscriptions; without it they are not watched"`
}

// WriteBackConfig tunes write-back.
type WriteBackConfig struct {
	PropertyGroup string `spec:"property_group" default:"contactinformation" doc:"group of the properties write-back creates"`
	ListBatch     int    `spec:"list_batch" default:"100" min:"1" doc:"record ids per list membership call"`
	// MembershipInterval is how long the daemon may hold live list
	// membership changes to write each list once for many records
	// (0 writes them with the property changes).
	MembershipInterval time.Duration `spec:"membership_interval" default:"2s" min:"0" doc:"how long live list changes are held to write each list once for many records (0: with the property changes)"`
}

// Secrets returns the secret values, for redaction.
func (c *Config) Secrets() []string {
	return []string{c.Token, c.OAuth.ClientSecret, c.OAuth.RefreshToken, c.Webhooks.ClientSecret, c.Webhooks.DeveloperAPIKey}
}

// ParseConfig decodes and validates a section. prefix is the section's
// dotted path (platforms.hubspot). It never touches the network.
func ParseConfig(raw adapter.Config, prefix string) (Config, []adapter.Diagnostic) {
	var c Config
	ds := spec.Decode(raw, prefix, &c)
	// Defaults that depend on other keys.
	requests, daily := tierLimits(c.Tier)
	if !spec.Given(raw, "rate_limit.requests") {
		c.RateLimit.Requests = requests
	}
	if !spec.Given(raw, "rate_limit.daily") {
		c.RateLimit.Daily = daily
	}
	if !spec.Given(raw, "webhooks.client_secret") {
		c.Webhooks.ClientSecret = c.OAuth.ClientSecret
	}
	return c, append(ds, c.Validate(prefix)...)
}

var propertyName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Validate checks the rules the tags cannot express: the choice between a
// token and OAuth, and HubSpot's naming rules.
func (c *Config) Validate(prefix string) []adapter.Diagnostic {
	var ds []adapter.Diagnostic
	bad := func(path, summary, detail string) {
		ds = append(ds, adapter.Diagnostic{Severity: adapter.SeverityError, Path: prefix + "." + path, Summary: summary, Detail: detail})
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
	for i, p := range c.Properties {
		if !propertyName.MatchString(p) {
			bad("properties["+strconv.Itoa(i)+"]", "is not a HubSpot property name", fmt.Sprintf("got %q", p))
		}
	}
	if len(c.Currency) != 3 {
		bad("currency", "must be an ISO 4217 code", fmt.Sprintf("got %q", c.Currency))
	}
	if !propertyName.MatchString(c.WriteBack.PropertyGroup) {
		bad("write_back.property_group", "is not a HubSpot property group name", fmt.Sprintf("got %q", c.WriteBack.PropertyGroup))
	}
	return ds
}

func (c *Config) tokenURL() string {
	if c.OAuth.TokenURL != "" {
		return c.OAuth.TokenURL
	}
	return strings.TrimRight(c.BaseURL, "/") + "/oauth/v1/token"
}
