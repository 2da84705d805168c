package csvfolder

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Config is the adapter's config section.
type Config struct {
	Folder          string // where customers.csv and orders.csv live
	MembershipsFile string // where memberships go; default <folder>/memberships.csv
	Account         string // ExternalRef.Account of every record
	Currency        string // currency of orders without a currency column
	WebhookSecret   string // HMAC key for change notifications; empty disables webhooks
}

// Schema returns the config fields.
func Schema() []adapter.ConfigField {
	return []adapter.ConfigField{
		{Name: "folder", Type: adapter.FieldString, Required: true, Description: "folder holding customers.csv and orders.csv"},
		{Name: "memberships_file", Type: adapter.FieldString, Description: "CSV file memberships are written to", Default: "<folder>/memberships.csv"},
		{Name: "account", Type: adapter.FieldString, Description: "account name recorded in every external reference"},
		{Name: "currency", Type: adapter.FieldString, Default: "USD", Description: "ISO 4217 currency of orders without a currency column"},
		{Name: "webhook_secret", Type: adapter.FieldString, Secret: true, Description: "HMAC-SHA256 key of change notifications"},
	}
}

var knownKeys = map[string]bool{"folder": true, "memberships_file": true, "account": true, "currency": true, "webhook_secret": true}

// parseConfig decodes and checks cfg without touching the file system.
func parseConfig(cfg adapter.Config) (Config, []adapter.Diagnostic) {
	var c Config
	var diags []adapter.Diagnostic
	bad := func(path, summary string) {
		diags = append(diags, adapter.Diagnostic{Severity: adapter.SeverityError, Path: path, Summary: summary})
	}
	str := func(key string) string {
		v, ok := cfg[key]
		if !ok || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			bad(key, fmt.Sprintf("must be a string, got %T", v))
			return ""
		}
		return strings.TrimSpace(s)
	}
	c.Folder = str("folder")
	c.MembershipsFile = str("memberships_file")
	c.Account = str("account")
	c.Currency = strings.ToUpper(str("currency"))
	c.WebhookSecret = str("webhook_secret")
	if c.Folder == "" {
		bad("folder", "is required")
	}
	if c.Currency == "" {
		c.Currency = "USD"
	} else if len(c.Currency) != 3 {
		bad("currency", fmt.Sprintf("%q is not a 3-letter ISO 4217 code", c.Currency))
	}
	if c.MembershipsFile == "" && c.Folder != "" {
		c.MembershipsFile = filepath.Join(c.Folder, "memberships.csv")
	}
	for k := range cfg {
		if !knownKeys[k] {
			bad(k, "is not a csvfolder setting")
		}
	}
	return c, diags
}

// checkFolder is Configure's I/O check.
func checkFolder(c Config) error {
	st, err := os.Stat(c.Folder)
	if err != nil {
		return adapter.Permanent(fmt.Errorf("opening folder: %w", err))
	}
	if !st.IsDir() {
		return adapter.Permanent(fmt.Errorf("opening folder %s: not a directory", c.Folder))
	}
	return nil
}
