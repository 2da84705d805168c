package woocommerce

//go:generate env SPEC_WRITE_DOCS=1 go test -count=1 -run ^TestConfigDocsFollowSpec$ .

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/spec"
)

// Auth modes.
const (
	AuthAuto   = "auto"   // basic over https, oauth1 over http
	AuthBasic  = "basic"  // HTTP Basic with the key pair (HTTPS only)
	AuthQuery  = "query"  // consumer_key/consumer_secret query parameters (HTTPS only)
	AuthOAuth1 = "oauth1" // OAuth 1.0a one-legged (plain HTTP)
)

// RateLimit is the client-side request budget. WooCommerce core has no
// rate limit; hosts and firewalls do, so the default is gentle.
type RateLimit struct {
	RequestsPerSecond float64 `spec:"requests_per_second" default:"5" min:">0" doc:"client-side budget (core WooCommerce has none; hosts do)"`
	Burst             int     `spec:"burst" min:"1" doc:"burst of the budget; default the larger of 5 and requests_per_second"`
}

// Retry tunes the HTTP retry policy.
type Retry struct {
	Max           int           `spec:"max" default:"4" doc:"retries per request (429, 5xx, resets); -1 for none"`
	WaitMin       time.Duration `spec:"wait_min" default:"200ms" min:"0" doc:"first retry wait"`
	WaitMax       time.Duration `spec:"wait_max" default:"10s" min:"0" doc:"longest retry wait"`
	MaxRetryAfter time.Duration `spec:"max_retry_after" default:"30s" min:"0" doc:"longest Retry-After honoured"`
}

// WriteBack says which customer meta keys the connector owns and how
// lists are written.
type WriteBack struct {
	// MetaPrefix: every meta key starting with it is owned by the connector,
	// and targets whose names are not owned keys are written under it.
	MetaPrefix string `spec:"meta_prefix,required" default:"_seg" doc:"customer meta keys under this prefix are owned by the connector"`
	// OwnedKeys are further meta keys the connector may write.
	OwnedKeys []string `spec:"owned_keys" default:"_segments,_rfm_segment,_clv_12m" doc:"further owned meta keys"`
	// BatchSize is the number of customers per batch call.
	BatchSize int `spec:"batch_size" default:"100" min:"1" max:"100" doc:"customers per batch call; WooCommerce accepts at most 100 items per batch request"`
}

// Consent maps a newsletter opt-in kept in customer meta to the
// customer's email marketing consent. WooCommerce itself keeps none; the
// plugin that adds the checkout checkbox decides where it goes:
// Mailchimp for WooCommerce writes user meta mailchimp_woocommerce_is_subscribed
// ("1" subscribed, "0" not), which the customers API returns in
// meta_data. MailPoet and AutomateWoo keep their subscribers in their
// own tables, not in customer meta, so the REST API cannot see them.
type Consent struct {
	MetaKey string   `spec:"meta_key" default:"mailchimp_woocommerce_is_subscribed" doc:"customer meta key holding the newsletter opt-in (\"\" reads none); Mailchimp for WooCommerce's is the default"`
	Granted []string `spec:"granted" default:"1,yes,true,subscribed" doc:"values (case-insensitive) that mean the customer accepts marketing email"`
	Denied  []string `spec:"denied" default:"0,no,false,unsubscribed" doc:"values that mean they do not; any other value leaves consent unknown"`
}

// Create says whether write-back may register customers the shop lacks.
// Registering a customer creates a WordPress account, and WooCommerce may
// send them its new-account email, so it is off unless allowed.
type Create struct {
	Allow bool   `spec:"allow" default:"false" doc:"let write-back register customers the shop does not have (creates WordPress accounts; WooCommerce may send its new-account email)"`
	Mode  string `spec:"mode" default:"never" enum:"never,members,all" doc:"with allow: for whom a customer is created where a segment needs one: never, members or all (holdout members too); a segment's writeback.woocommerce.create overrides it"`
}

// Webhooks configures inbound webhooks and their upkeep.
type Webhooks struct {
	Secret      string   `spec:"secret,secret" example:"your-webhook-secret" doc:"HMAC-SHA256 key of deliveries; set on every webhook the connector creates or re-enables"`
	DeliveryURL string   `spec:"delivery_url,url" example:"https://hooks.example.com/webhooks/woocommerce" doc:"public URL of this connector's WooCommerce webhook endpoint"`
	Topics      []string `spec:"topics" default:"customer.created,customer.updated,customer.deleted,order.created,order.updated,order.deleted" doc:"topics kept alive"`
	Name        string   `spec:"name,required" default:"segconn" doc:"name of the webhooks the connector creates"`
	// Manage lets the connector repair webhooks: at start and every
	// CheckInterval, and whenever the daemon's watch finds one disabled.
	// Without it the daemon only reports them.
	Manage        bool          `spec:"manage" default:"false" doc:"re-enable or recreate webhooks at start, every check_interval and whenever the daemon finds one disabled; without it the daemon only reports them in the status"`
	Reenable      *bool         `spec:"reenable" default:"true" doc:"re-activate disabled or paused webhooks"`
	Recreate      *bool         `spec:"recreate" default:"true" doc:"create missing webhooks"`
	CheckInterval time.Duration `spec:"check_interval" default:"15m" doc:"how often webhooks are checked (at least 1m)"`
}

// Config is the platforms.woocommerce section. The tags are its spec:
// they drive decoding, Describe's schema, the README table and the example
// config (regenerate the docs with `go generate ./connectors/woocommerce`).
type Config struct {
	// BaseURL is the store URL (the WordPress home URL, exactly as the
	// site reports it); the API is BaseURL + /wp-json/wc/v3.
	BaseURL         string `spec:"base_url,url,required" example:"https://shop.example.com" doc:"store URL as WordPress reports its home URL (www matters for OAuth); the API is <base_url>/wp-json/wc/v3"`
	ConsumerKey     string `spec:"consumer_key,secret,required" example:"ck_0000000000000000000000000000000000000000" doc:"REST API consumer key (ck_…); read is enough to pull, read_write to write back and manage webhooks"`
	ConsumerSecret  string `spec:"consumer_secret,secret,required" example:"cs_0000000000000000000000000000000000000000" doc:"REST API consumer secret (cs_…) of the same key"`
	Auth            string `spec:"auth" default:"auto" enum:"auto,basic,query,oauth1" doc:"auto: basic over https, oauth1 over http; query sends the keys as query parameters for servers that strip Authorization"`
	SignatureMethod string `spec:"signature_method" default:"HMAC-SHA256" enum:"HMAC-SHA256,HMAC-SHA1" doc:"OAuth 1.0a signature method"`
	// Account names the store in external refs; default the host name.
	Account      string            `spec:"account" example:"shop.example.com" doc:"account part of external refs; default the host of base_url"`
	PerPage      int               `spec:"per_page" default:"100" min:"1" max:"100" doc:"page size; WooCommerce refuses per_page outside 1..100"`
	CustomerRole string            `spec:"customer_role,required" default:"all" doc:"role filter of the customer sweep (all, customer, subscriber, …)"`
	OrderOverlap time.Duration     `spec:"order_overlap" default:"2m" min:"0" doc:"how far each incremental order sweep reaches back"`
	StatusMap    map[string]string `spec:"status_map" enum:"pending,processing,on_hold,completed,cancelled,refunded,failed,delete" example:"{wc-awaiting-shipment: processing}" doc:"custom order status → order status, or delete"`
	Timeout      time.Duration     `spec:"timeout" default:"60s" min:"0" doc:"per-request timeout"`
	RateLimit    RateLimit         `spec:"rate_limit"`
	Retry        Retry             `spec:"retry"`
	WriteBack    WriteBack         `spec:"write_back"`
	Create       Create            `spec:"create"`
	Consent      Consent           `spec:"consent"`
	Webhooks     Webhooks          `spec:"webhooks"`
}

// Limits and defaults used outside the spec.
const (
	// DefaultBurst is the least burst when rate_limit.burst is not set.
	DefaultBurst = 5
	// DefaultMetaPrefix is write_back.meta_prefix's default (a test keeps
	// it equal to the tag).
	DefaultMetaPrefix = "_seg"
	// MaxBatch is WooCommerce's largest batch request.
	MaxBatch = 100
)

const section = "platforms." + Name

// parseConfig decodes and validates raw: defaults, unknown keys and type
// errors with their full paths, then the rules across keys.
func parseConfig(raw adapter.Config) (Config, []adapter.Diagnostic) {
	var c Config
	ds := spec.Decode(raw, section, &c)
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if !spec.Given(raw, "rate_limit.burst") {
		c.RateLimit.Burst = max(DefaultBurst, int(c.RateLimit.RequestsPerSecond))
	}
	if c.Account == "" {
		if u, err := url.Parse(c.BaseURL); err == nil {
			c.Account = u.Host
		}
	}
	return c, append(ds, c.Validate()...)
}

// authMode resolves "auto" against the base URL's scheme.
func (c *Config) authMode() string {
	if c.Auth != AuthAuto {
		return c.Auth
	}
	if strings.HasPrefix(strings.ToLower(c.BaseURL), "https://") {
		return AuthBasic
	}
	return AuthOAuth1
}

// Validate checks the rules across keys that the tags cannot express.
func (c *Config) Validate() []adapter.Diagnostic {
	var ds []adapter.Diagnostic
	bad := func(path, summary, detail string) {
		ds = append(ds, adapter.Diagnostic{Severity: adapter.SeverityError, Path: section + "." + path, Summary: summary, Detail: detail})
	}
	warn := func(path, summary, detail string) {
		ds = append(ds, adapter.Diagnostic{Severity: adapter.SeverityWarning, Path: section + "." + path, Summary: summary, Detail: detail})
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || c.BaseURL == "" {
		u = nil
	}
	if u != nil && (u.RawQuery != "" || u.Fragment != "") {
		bad("base_url", "must not carry a query or fragment", "")
	}
	if (c.Auth == AuthBasic || c.Auth == AuthQuery) && u != nil && u.Scheme == "http" {
		bad("auth", "basic and query authentication need an https base_url", "WooCommerce only accepts them over HTTPS; use oauth1 over plain HTTP")
	}
	if c.Auth == AuthOAuth1 && u != nil && u.Scheme == "https" {
		warn("auth", "WooCommerce ignores OAuth 1.0a over HTTPS", "use basic or query")
	}
	if !strings.HasPrefix(c.WriteBack.MetaPrefix, "_") {
		warn("write_back.meta_prefix", "does not start with an underscore", "meta keys without a leading underscore show up as editable custom fields in wp-admin")
	}
	for i, k := range c.WriteBack.OwnedKeys {
		if strings.TrimSpace(k) == "" {
			bad(fmt.Sprintf("write_back.owned_keys[%d]", i), "must not be empty", "")
		}
	}
	if c.Webhooks.Manage {
		if c.Webhooks.DeliveryURL == "" {
			bad("webhooks.delivery_url", "is required when webhooks.manage is true", "")
		}
		if c.Webhooks.Secret == "" {
			bad("webhooks.secret", "is required when webhooks.manage is true", "the connector creates webhooks with this secret and verifies deliveries with it")
		}
		if c.Webhooks.CheckInterval < time.Minute {
			bad("webhooks.check_interval", "must be at least 1m", "")
		}
	}
	for i, t := range c.Webhooks.Topics {
		res, ev, ok := strings.Cut(t, ".")
		if !ok || (res != "customer" && res != "order") || (ev != "created" && ev != "updated" && ev != "deleted" && ev != "restored") {
			bad(fmt.Sprintf("webhooks.topics[%d]", i), "must be customer.* or order.* with created, updated, deleted or restored", "")
		}
	}
	return ds
}
