package salesforce

//go:generate env SPEC_WRITE_DOCS=1 go test -count=1 -run ^TestConfigDocsFollowSpec$ .

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/spec"
)

// Auth flows.
const (
	FlowRefreshToken      = "refresh_token"
	FlowJWTBearer         = "jwt_bearer"
	FlowClientCredentials = "client_credentials"
)

// Config is the `platforms.salesforce` section. The tags are its spec:
// they drive decoding, Describe's schema, the README table and the example
// config (regenerate the docs with `go generate ./connectors/salesforce`).
type Config struct {
	// BaseURL is the login host the token endpoint lives on:
	// https://login.salesforce.com, https://test.salesforce.com for
	// sandboxes, or the org's My Domain (required for client credentials).
	BaseURL string `spec:"base_url,url" default:"https://login.salesforce.com" doc:"login host: login.salesforce.com, test.salesforce.com for sandboxes, or the org's My Domain (required for client_credentials)"`
	// InstanceURL overrides the instance_url of the token response.
	InstanceURL string `spec:"instance_url,url" doc:"override for the instance_url the token endpoint returns (proxies)"`
	APIVersion  string `spec:"api_version" default:"v62.0" doc:"REST API version"`

	Flow         string `spec:"auth.flow" default:"refresh_token" enum:"refresh_token,jwt_bearer,client_credentials" doc:"OAuth flow"`
	ClientID     string `spec:"auth.client_id,required" example:"3MVG9-consumer-key" doc:"connected app consumer key"`
	ClientSecret string `spec:"auth.client_secret,secret" example:"your-consumer-secret" doc:"connected app consumer secret (refresh_token, client_credentials)"`
	RefreshToken string `spec:"auth.refresh_token,secret" example:"your-refresh-token" doc:"refresh token (refresh_token flow)"`
	Username     string `spec:"auth.username" doc:"integration user, the JWT sub (jwt_bearer)"`
	PrivateKey   string `spec:"auth.private_key,secret" doc:"PEM RSA private key of the connected app certificate (jwt_bearer)"`
	Audience     string `spec:"auth.audience,url" doc:"JWT aud; default https://login.salesforce.com, or https://test.salesforce.com when base_url is a sandbox"`

	// OrganizationID is the org's 15- or 18-character id; Outbound
	// Messages from any other org are refused.
	OrganizationID string `spec:"organization_id" example:"00D000000000001AAA" doc:"15/18-character org id starting with 00D; without it every Outbound Message is refused"`
	// WebhookPathSecret, when set, must be the last path segment of the
	// Outbound Message endpoint URL.
	WebhookPathSecret string `spec:"webhook.path_secret,secret" example:"a-long-random-string" doc:"when set, the last path segment of the Outbound Message URL"`

	// Engagement names the Contact and Lead fields that hold engagement
	// (Salesforce records none of its own): keys from engagementMeasures,
	// values field API names.
	Engagement map[string]string `spec:"engagement.fields" example:"{email_opens: Email_Opens__c, last_email_open: Last_Email_Open__c}" doc:"Contact and Lead fields holding engagement, by measure (page_views, visits, last_visit, email_opens, email_clicks, email_bounces, form_submissions, last_email_open, last_email_click); counts are lifetime totals, last_* dates; a field the org lacks is skipped with a warning"`

	Leads  bool `spec:"objects.leads" default:"true" doc:"pull Leads as contacts"`
	Orders bool `spec:"objects.orders" default:"false" doc:"pull Order records besides Opportunities"`
	// ContactRoles links opportunities without a ContactId to the contact
	// of their primary OpportunityContactRole.
	ContactRoles  bool   `spec:"objects.contact_roles" default:"true" doc:"link opportunities without ContactId through their primary OpportunityContactRole"`
	Currency      string `spec:"currency" default:"USD" doc:"the org's ISO 4217 currency (single-currency orgs)"`
	MultiCurrency bool   `spec:"multi_currency" default:"false" doc:"read CurrencyIsoCode per record (multi-currency orgs)"`

	PageSize         int           `spec:"page_size" default:"2000" min:"200" max:"2000" doc:"REST query batch size (Sforce-Query-Options: batchSize)"`
	BulkThreshold    int           `spec:"bulk.threshold" default:"10000" min:"0" doc:"initial pulls above this many records use Bulk API 2.0; 0 disables"`
	BulkPageSize     int           `spec:"bulk.page_size" default:"50000" min:"1" doc:"rows per Bulk API 2.0 results page"`
	BulkPollInterval time.Duration `spec:"bulk.poll_interval" default:"2s" min:"0" doc:"wait between Bulk job status polls"`

	PullShare    float64       `spec:"quota.pull_share" default:"0.8" min:">0" max:"1" doc:"share of the daily API request limit pulls may use (0.8 or 80%); write-back and webhooks use the rest"`
	QuotaRecheck time.Duration `spec:"quota.recheck" default:"1h" min:"0" doc:"after a quota stop, wait this long before asking /limits again"`

	// CampaignInterval holds live Campaign membership changes this long
	// so that many records' changes share each composite call, and the
	// field updates the daemon writes at once are not queued behind them
	// (0: written together).
	Create          string `spec:"create" default:"never" enum:"never,members,all" doc:"for whom write-back creates a Contact where a segment needs one and the org has none: never, members (segment members) or all (holdout members too); a segment's writeback.salesforce.create overrides it"`
	ExternalIDField string `spec:"write_back.external_id_field" default:"Connector_Profile_Id__c" doc:"Contact text field marked External ID (and Unique) that holds the connector's profile id; created Contacts are upserted by it, so a retry never makes a second one; an admin creates it once"`

	CampaignInterval time.Duration `spec:"write_back.campaign_interval" default:"1s" min:"0" doc:"live write-back: Campaign membership changes are held this long so many records share each call, while field updates go at once; 0 writes them together"`

	RequestsPerSecond float64       `spec:"rate.requests_per_second" default:"20" min:">0" doc:"client-side request rate (Salesforce has no per-second limit; this keeps bursts polite)"`
	Burst             int           `spec:"rate.burst" default:"20" min:"1" doc:"client-side burst"`
	RetryMax          int           `spec:"http.retry_max" default:"4" min:"0" doc:"retries per call for 5xx and network errors"`
	RetryWaitMin      time.Duration `spec:"http.retry_wait_min" default:"200ms" min:"0" doc:"first retry wait"`
	RetryWaitMax      time.Duration `spec:"http.retry_wait_max" default:"10s" min:"0" doc:"longest retry wait"`
	Timeout           time.Duration `spec:"http.timeout" default:"60s" min:"0" doc:"per-attempt timeout"`

	privateKey *rsa.PrivateKey
}

var (
	versionRE = regexp.MustCompile(`^v[0-9]{2,3}\.0$`)
	orgIDRE   = regexp.MustCompile(`^00D[0-9A-Za-z]{12}([0-9A-Za-z]{3})?$`)
	fieldRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

// ParseConfig decodes and validates a config section without network I/O.
// It returns every problem found; the Config is usable only when no
// diagnostic has error severity.
func ParseConfig(raw adapter.Config) (*Config, []adapter.Diagnostic) {
	const prefix = "platforms." + Name
	c := &Config{}
	diags := spec.Decode(raw, prefix, c)
	bad := map[string]bool{}
	for _, d := range diags {
		bad[strings.TrimPrefix(d.Path, prefix+".")] = true
	}
	errorf := func(key, summary, detail string) {
		if !bad[key] {
			diags = append(diags, adapter.Diagnostic{Severity: adapter.SeverityError, Path: prefix + "." + key, Summary: summary, Detail: detail})
		}
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.InstanceURL = strings.TrimRight(c.InstanceURL, "/")
	c.Audience = strings.TrimRight(c.Audience, "/")
	c.Currency = strings.ToUpper(c.Currency)
	if c.Audience == "" {
		// Sandboxes sign in at test.salesforce.com and expect it as aud;
		// production orgs and My Domains expect login.salesforce.com.
		c.Audience = "https://login.salesforce.com"
		if u, err := url.Parse(c.BaseURL); err == nil && (u.Host == "test.salesforce.com" || strings.HasSuffix(u.Host, ".sandbox.my.salesforce.com")) {
			c.Audience = "https://test.salesforce.com"
		}
	}
	if c.BaseURL == "" {
		errorf("base_url", "is required", "the login host or the org's My Domain")
	}
	if !versionRE.MatchString(c.APIVersion) {
		errorf("api_version", "must look like v62.0", fmt.Sprintf("got %q", c.APIVersion))
	}
	switch c.Flow {
	case FlowRefreshToken:
		if c.RefreshToken == "" {
			errorf("auth.refresh_token", "is required for auth.flow "+c.Flow, "")
		}
	case FlowClientCredentials:
		if c.ClientSecret == "" {
			errorf("auth.client_secret", "is required for auth.flow "+c.Flow, "")
		}
	case FlowJWTBearer:
		if c.Username == "" {
			errorf("auth.username", "is required for auth.flow "+c.Flow, "the JWT sub")
		}
		if c.PrivateKey == "" {
			errorf("auth.private_key", "is required for auth.flow "+c.Flow, "")
		} else if k, err := parsePrivateKey(c.PrivateKey); err != nil {
			errorf("auth.private_key", err.Error(), "")
		} else {
			c.privateKey = k
		}
	}
	if c.OrganizationID != "" && !orgIDRE.MatchString(c.OrganizationID) {
		errorf("organization_id", "must be a 15- or 18-character id starting with 00D", fmt.Sprintf("got %q", c.OrganizationID))
	}
	for key, field := range c.Engagement {
		if _, ok := engagementMeasures[key]; !ok {
			errorf("engagement.fields."+key, "is not an engagement measure", "one of "+strings.Join(engagementKeys(), ", "))
		} else if !fieldRE.MatchString(field) {
			errorf("engagement.fields."+key, "must be a field API name such as Email_Opens__c", fmt.Sprintf("got %q", field))
		}
	}
	if len(c.Currency) != 3 {
		errorf("currency", "must be an ISO 4217 code such as USD", fmt.Sprintf("got %q", c.Currency))
	}
	if !strings.HasSuffix(c.ExternalIDField, "__c") || strings.ContainsAny(c.ExternalIDField, " /") {
		errorf("write_back.external_id_field", "must be the API name of a custom field (ending in __c)", fmt.Sprintf("got %q", c.ExternalIDField))
	}
	if c.OrganizationID == "" {
		diags = append(diags, adapter.Diagnostic{Severity: adapter.SeverityWarning, Path: prefix + ".organization_id",
			Summary: "not set: Outbound Messages will be refused"})
	}
	return c, diags
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
