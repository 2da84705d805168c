package woocommerce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/segconn/connector/adapter"
)

// Auth modes.
const (
	AuthAuto   = "auto"   // basic over https, oauth1 over http
	AuthBasic  = "basic"  // HTTP Basic with the key pair (HTTPS only)
	AuthQuery  = "query"  // consumer_key/consumer_secret query parameters (HTTPS only)
	AuthOAuth1 = "oauth1" // OAuth 1.0a one-legged (plain HTTP)
)

// Duration is a time.Duration read from "90s"-style strings or seconds.
type Duration time.Duration

// UnmarshalJSON accepts a Go duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("not a duration: %q", s)
		}
		*d = Duration(v)
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("not a duration: %s", b)
	}
	*d = Duration(n * float64(time.Second))
	return nil
}

// RateLimit is the client-side request budget. WooCommerce core has no
// rate limit; hosts and firewalls do, so the default is gentle.
type RateLimit struct {
	RequestsPerSecond float64 `json:"requests_per_second"`
	Burst             int     `json:"burst"`
}

// Retry tunes the HTTP retry policy.
type Retry struct {
	Max           int      `json:"max"`
	WaitMin       Duration `json:"wait_min"`
	WaitMax       Duration `json:"wait_max"`
	MaxRetryAfter Duration `json:"max_retry_after"`
}

// WriteBack says which customer meta keys the connector owns and how
// lists are written.
type WriteBack struct {
	// MetaPrefix: every meta key starting with it is owned by the connector,
	// and targets whose names are not owned keys are written under it.
	MetaPrefix string `json:"meta_prefix"`
	// OwnedKeys are further meta keys the connector may write.
	OwnedKeys []string `json:"owned_keys"`
	// BatchSize is the number of customers per batch call (1..100).
	BatchSize int `json:"batch_size"`
}

// Webhooks configures inbound webhooks and their upkeep.
type Webhooks struct {
	Secret      string   `json:"secret"`
	DeliveryURL string   `json:"delivery_url"`
	Topics      []string `json:"topics"`
	Name        string   `json:"name"`
	// Manage turns on the check at start and every CheckInterval.
	Manage        bool     `json:"manage"`
	Reenable      *bool    `json:"reenable"`
	Recreate      *bool    `json:"recreate"`
	CheckInterval Duration `json:"check_interval"`
}

// Config is the platforms.woocommerce section.
type Config struct {
	// BaseURL is the store URL (the WordPress home URL, exactly as the
	// site reports it); the API is BaseURL + /wp-json/wc/v3.
	BaseURL         string `json:"base_url"`
	ConsumerKey     string `json:"consumer_key"`
	ConsumerSecret  string `json:"consumer_secret"`
	Auth            string `json:"auth"`
	SignatureMethod string `json:"signature_method"`
	// Account names the store in external refs; default the host name.
	Account      string            `json:"account"`
	PerPage      int               `json:"per_page"`
	CustomerRole string            `json:"customer_role"`
	OrderOverlap Duration          `json:"order_overlap"`
	StatusMap    map[string]string `json:"status_map"`
	Timeout      Duration          `json:"timeout"`
	RateLimit    RateLimit         `json:"rate_limit"`
	Retry        Retry             `json:"retry"`
	WriteBack    WriteBack         `json:"write_back"`
	Webhooks     Webhooks          `json:"webhooks"`
}

// Defaults.
const (
	DefaultPerPage      = 100
	DefaultOrderOverlap = 2 * time.Minute
	DefaultRPS          = 5
	DefaultBurst        = 5
	DefaultMetaPrefix   = "_seg"
	MaxBatch            = 100
)

// defaultOwnedKeys are the meta keys written back out of the box.
func defaultOwnedKeys() []string { return []string{"_segments", "_rfm_segment", "_clv_12m"} }

// defaultTopics are the webhook topics kept alive out of the box.
func defaultTopics() []string {
	return []string{"customer.created", "customer.updated", "customer.deleted", "order.created", "order.updated", "order.deleted"}
}

const section = "platforms." + Name

// parseConfig decodes raw into a Config with defaults, reporting unknown
// keys and type errors with their full paths.
func parseConfig(raw adapter.Config) (Config, []adapter.Diagnostic) {
	var cfg Config
	data, err := json.Marshal(map[string]any(raw))
	if err != nil {
		return cfg, []adapter.Diagnostic{{Severity: adapter.SeverityError, Path: section, Summary: "section is not a plain map", Detail: err.Error()}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, []adapter.Diagnostic{decodeDiagnostic(err)}
	}
	cfg.applyDefaults()
	return cfg, nil
}

var unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)

func decodeDiagnostic(err error) adapter.Diagnostic {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return adapter.Diagnostic{Severity: adapter.SeverityError, Path: section + "." + te.Field,
			Summary: fmt.Sprintf("must be a %s, not a %s", jsonKind(te.Type.Kind().String()), te.Value)}
	}
	if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
		return adapter.Diagnostic{Severity: adapter.SeverityError, Path: section + "." + m[1], Summary: "unknown key"}
	}
	return adapter.Diagnostic{Severity: adapter.SeverityError, Path: section, Summary: "cannot decode section", Detail: err.Error()}
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "float64":
		return "number"
	case "slice":
		return "list"
	case "map", "struct":
		return "map"
	}
	return k
}

func (c *Config) applyDefaults() {
	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	if c.Auth == "" {
		c.Auth = AuthAuto
	}
	if c.SignatureMethod == "" {
		c.SignatureMethod = "HMAC-SHA256"
	}
	if c.PerPage == 0 {
		c.PerPage = DefaultPerPage
	}
	if c.CustomerRole == "" {
		c.CustomerRole = "all"
	}
	if c.OrderOverlap == 0 {
		c.OrderOverlap = Duration(DefaultOrderOverlap)
	}
	if c.RateLimit.RequestsPerSecond == 0 {
		c.RateLimit.RequestsPerSecond = DefaultRPS
	}
	if c.RateLimit.Burst == 0 {
		c.RateLimit.Burst = max(DefaultBurst, int(c.RateLimit.RequestsPerSecond))
	}
	if c.WriteBack.MetaPrefix == "" {
		c.WriteBack.MetaPrefix = DefaultMetaPrefix
	}
	if c.WriteBack.OwnedKeys == nil {
		c.WriteBack.OwnedKeys = defaultOwnedKeys()
	}
	if c.WriteBack.BatchSize == 0 {
		c.WriteBack.BatchSize = MaxBatch
	}
	if c.Webhooks.Topics == nil {
		c.Webhooks.Topics = defaultTopics()
	}
	if c.Webhooks.Name == "" {
		c.Webhooks.Name = "segconn"
	}
	t := true
	if c.Webhooks.Reenable == nil {
		c.Webhooks.Reenable = &t
	}
	if c.Webhooks.Recreate == nil {
		c.Webhooks.Recreate = &t
	}
	if c.Webhooks.CheckInterval == 0 {
		c.Webhooks.CheckInterval = Duration(15 * time.Minute)
	}
	if c.Account == "" {
		if u, err := url.Parse(c.BaseURL); err == nil {
			c.Account = u.Host
		}
	}
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

// Validate checks the configuration without network I/O.
func (c *Config) Validate() []adapter.Diagnostic {
	var ds []adapter.Diagnostic
	bad := func(path, summary, detail string) {
		ds = append(ds, adapter.Diagnostic{Severity: adapter.SeverityError, Path: section + "." + path, Summary: summary, Detail: detail})
	}
	warn := func(path, summary, detail string) {
		ds = append(ds, adapter.Diagnostic{Severity: adapter.SeverityWarning, Path: section + "." + path, Summary: summary, Detail: detail})
	}
	u, err := url.Parse(c.BaseURL)
	switch {
	case c.BaseURL == "":
		bad("base_url", "is required", "the store URL, e.g. https://shop.example.com (WooCommerce has no central API host)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		bad("base_url", "must be an absolute http or https URL", "")
	case u.RawQuery != "" || u.Fragment != "":
		bad("base_url", "must not carry a query or fragment", "")
	}
	if c.ConsumerKey == "" {
		bad("consumer_key", "is required", "a REST API key (ck_…) from WooCommerce > Settings > Advanced > REST API")
	}
	if c.ConsumerSecret == "" {
		bad("consumer_secret", "is required", "the secret (cs_…) of the same key")
	}
	switch c.Auth {
	case AuthAuto, AuthBasic, AuthQuery, AuthOAuth1:
	default:
		bad("auth", "must be one of auto, basic, query, oauth1", "")
	}
	if (c.Auth == AuthBasic || c.Auth == AuthQuery) && u != nil && u.Scheme == "http" {
		bad("auth", "basic and query authentication need an https base_url", "WooCommerce only accepts them over HTTPS; use oauth1 over plain HTTP")
	}
	if c.Auth == AuthOAuth1 && u != nil && u.Scheme == "https" {
		warn("auth", "WooCommerce ignores OAuth 1.0a over HTTPS", "use basic or query")
	}
	if c.SignatureMethod != "HMAC-SHA256" && c.SignatureMethod != "HMAC-SHA1" {
		bad("signature_method", "must be HMAC-SHA256 or HMAC-SHA1", "")
	}
	if c.PerPage < 1 || c.PerPage > 100 {
		bad("per_page", "must be between 1 and 100", "WooCommerce refuses per_page outside 1..100")
	}
	if c.OrderOverlap < 0 {
		bad("order_overlap", "must not be negative", "")
	}
	for k, v := range c.StatusMap {
		switch v {
		case "pending", "processing", "on_hold", "completed", "cancelled", "refunded", "failed", "delete":
		default:
			bad("status_map."+k, "must be one of pending, processing, on_hold, completed, cancelled, refunded, failed, delete", "")
		}
	}
	if c.RateLimit.RequestsPerSecond < 0 {
		bad("rate_limit.requests_per_second", "must be positive", "")
	}
	if c.RateLimit.Burst < 1 {
		bad("rate_limit.burst", "must be at least 1", "")
	}
	if c.WriteBack.BatchSize < 1 || c.WriteBack.BatchSize > MaxBatch {
		bad("write_back.batch_size", "must be between 1 and 100", "WooCommerce accepts at most 100 items per batch request")
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
		} else if wu, err := url.Parse(c.Webhooks.DeliveryURL); err != nil || (wu.Scheme != "http" && wu.Scheme != "https") || wu.Host == "" {
			bad("webhooks.delivery_url", "must be an absolute http or https URL", "")
		}
		if c.Webhooks.Secret == "" {
			bad("webhooks.secret", "is required when webhooks.manage is true", "the connector creates webhooks with this secret and verifies deliveries with it")
		}
		if c.Webhooks.CheckInterval < Duration(time.Minute) {
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

// schema describes the section for Describe.
func schema() []adapter.ConfigField {
	return []adapter.ConfigField{
		{Name: "base_url", Type: adapter.FieldURL, Required: true, Description: "store URL (WordPress home URL); the API is <base_url>/wp-json/wc/v3"},
		{Name: "consumer_key", Type: adapter.FieldString, Required: true, Secret: true, Description: "REST API consumer key (ck_…)"},
		{Name: "consumer_secret", Type: adapter.FieldString, Required: true, Secret: true, Description: "REST API consumer secret (cs_…)"},
		{Name: "auth", Type: adapter.FieldString, Default: AuthAuto, Enum: []string{AuthAuto, AuthBasic, AuthQuery, AuthOAuth1}, Description: "auto: basic over https, oauth1 over http"},
		{Name: "signature_method", Type: adapter.FieldString, Default: "HMAC-SHA256", Enum: []string{"HMAC-SHA256", "HMAC-SHA1"}, Description: "OAuth 1.0a signature method"},
		{Name: "account", Type: adapter.FieldString, Description: "account name in external refs; default the store host"},
		{Name: "per_page", Type: adapter.FieldInt, Default: "100", Description: "page size (1..100)"},
		{Name: "customer_role", Type: adapter.FieldString, Default: "all", Description: "role filter of the customer sweep (all, customer, subscriber, …)"},
		{Name: "order_overlap", Type: adapter.FieldDuration, Default: "2m", Description: "how far each incremental order sweep reaches back"},
		{Name: "status_map", Type: adapter.FieldMap, Description: "custom order status → pending|processing|on_hold|completed|cancelled|refunded|failed|delete"},
		{Name: "timeout", Type: adapter.FieldDuration, Default: "60s", Description: "per-request timeout"},
		{Name: "rate_limit.requests_per_second", Type: adapter.FieldInt, Default: "5", Description: "client-side budget (core WooCommerce has none; hosts do)"},
		{Name: "rate_limit.burst", Type: adapter.FieldInt, Default: "5", Description: "burst of the budget"},
		{Name: "retry.max", Type: adapter.FieldInt, Default: "4", Description: "retries per request (429, 5xx, resets)"},
		{Name: "write_back.meta_prefix", Type: adapter.FieldString, Default: DefaultMetaPrefix, Description: "customer meta keys under this prefix are owned by the connector"},
		{Name: "write_back.owned_keys", Type: adapter.FieldList, Default: strings.Join(defaultOwnedKeys(), ","), Description: "further owned meta keys"},
		{Name: "write_back.batch_size", Type: adapter.FieldInt, Default: "100", Description: "customers per batch call (max 100)"},
		{Name: "webhooks.secret", Type: adapter.FieldString, Secret: true, Description: "webhook secret (HMAC-SHA256 key)"},
		{Name: "webhooks.delivery_url", Type: adapter.FieldURL, Description: "public URL of this connector's WooCommerce webhook endpoint"},
		{Name: "webhooks.topics", Type: adapter.FieldList, Default: strings.Join(defaultTopics(), ","), Description: "topics to subscribe"},
		{Name: "webhooks.manage", Type: adapter.FieldBool, Default: "false", Description: "check webhooks at start and periodically"},
		{Name: "webhooks.reenable", Type: adapter.FieldBool, Default: "true", Description: "re-activate disabled or paused webhooks"},
		{Name: "webhooks.recreate", Type: adapter.FieldBool, Default: "true", Description: "create missing webhooks"},
		{Name: "webhooks.check_interval", Type: adapter.FieldDuration, Default: "15m", Description: "how often webhooks are checked"},
	}
}
