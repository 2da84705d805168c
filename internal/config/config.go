// Package config loads the connector's configuration with knadh/koanf/v2:
// the YAML file first, then environment variables (prefix CONNECTOR_, "__"
// for nesting, e.g. CONNECTOR_PLATFORMS__HUBSPOT__TOKEN), then --set flags.
// koanf was chosen because it layers sources without reflection magic and
// leaves decoding to mapstructure, where unknown keys can be made errors.
//
// Loading is strict: unknown keys, wrong types and missing required values
// are all reported at once, each with its dotted path. Secrets may come
// from the environment or from a file named by the key with a "_file"
// suffix (token_file: /run/secrets/hubspot), and are redacted by Redact and
// everywhere the rest of the program prints configuration.
package config

import (
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Config is the whole configuration.
type Config struct {
	Log       Log                       `koanf:"log"`
	Store     Store                     `koanf:"store"`
	Server    Server                    `koanf:"server"`
	Schedule  Schedule                  `koanf:"schedule"`
	Platforms map[string]adapter.Config `koanf:"platforms"`
	Plugins   []Plugin                  `koanf:"plugins"`
	// Segments are segment definitions, validated by core/segment.
	Segments []map[string]any `koanf:"segments"`
	// Outbound lists URLs that receive segment.entered / segment.left events.
	Outbound []Outbound `koanf:"outbound_webhooks"`
	// Identity configures how records fold into profiles.
	Identity Identity `koanf:"identity"`
	// Alerts says who is told when something breaks.
	Alerts Alerts `koanf:"alerts"`
	// Spend is what each segment's campaigns cost, for ROI.
	Spend []Spend `koanf:"spend"`
	// Review schedules the segment review.
	Review Review `koanf:"review"`
	// Users may sign in to the web app (see web.go).
	Users []User `koanf:"users"`
	// APITokens authenticate automation against the web app's API.
	APITokens []APIToken `koanf:"api_tokens"`
	// Retention bounds what the store keeps.
	Retention Retention `koanf:"retention"`
	// Currency is the ISO 4217 currency segments measure amounts in
	// (revenue, order values, lifetime values). The core converts no
	// currency: orders in another one are left out of the amounts and
	// counted in the run's data-quality warning.
	Currency string `koanf:"currency"`
}

// Retention bounds the store: finished work is deleted after a window,
// while ownership and current memberships are kept. A window of zero
// keeps that kind forever.
type Retention struct {
	// Outbox keeps done write-back items this long, for audit.
	Outbox time.Duration `koanf:"outbox"`
	// Inbox keeps processed webhook events this long.
	Inbox time.Duration `koanf:"inbox"`
	// History keeps membership history (entries and exits) this long;
	// reports over older periods lose their data. Zero keeps it all.
	History time.Duration `koanf:"history"`
	// Quarantine keeps quarantined records (their raw payloads) this long.
	Quarantine time.Duration `koanf:"quarantine"`
	// Interval is how often the daemon prunes and checkpoints SQLite's
	// write-ahead log.
	Interval time.Duration `koanf:"interval"`
}

// Log configures log/slog.
type Log struct {
	Level  string `koanf:"level"`  // debug, info, warn, error
	Format string `koanf:"format"` // text or json
}

// Store selects the database.
type Store struct {
	Driver string `koanf:"driver"` // sqlite (default) or postgres
	Path   string `koanf:"path"`   // sqlite: the database file
	DSN    string `koanf:"dsn"`    // postgres: a pgx connection string (its password is a secret)
	Schema string `koanf:"schema"` // postgres: schema to use (default public)
	// SuppressionSecret keys the hashes of erased emails in the
	// suppression list (HMAC-SHA-256). Without it the store generates a
	// key once and keeps it in the database; with it, the key stays out
	// of the database and its backups. It must never change.
	SuppressionSecret string `koanf:"suppression_secret"`
}

// Server configures the public HTTP server (webhooks, health, metrics)
// and the web app's own admin listener.
type Server struct {
	Listen          string        `koanf:"listen"`
	PublicURL       string        `koanf:"public_url"` // how platforms reach us, for webhook signatures
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// AdminListen is where the web app and its API listen, apart from
	// the public webhook listener; "" turns the app off. A configuration
	// loaded from a file or the environment defaults it to
	// DefaultAdminListen (loopback); Defaults leaves it off, so programs
	// that build a configuration in code opt in.
	AdminListen string `koanf:"admin_listen"`
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string `koanf:"metrics_token"`
	// SecureCookies marks session cookies Secure even on plain HTTP, for
	// an admin listener behind a TLS-terminating proxy.
	SecureCookies bool `koanf:"secure_cookies"`
}

// Schedule configures periodic work.
type Schedule struct {
	PullInterval      time.Duration `koanf:"pull_interval"`
	ReconcileInterval time.Duration `koanf:"reconcile_interval"`
	ModelRefresh      time.Duration `koanf:"model_refresh"`
}

// Plugin declares a third-party adapter executable.
type Plugin struct {
	Name   string   `koanf:"name"`
	Path   string   `koanf:"path"`
	SHA256 string   `koanf:"sha256"`
	Env    []string `koanf:"env"`  // host variables passed through; nothing else is
	Args   []string `koanf:"args"` // arguments to the executable
	// CallTimeout bounds each call (for pulls, the wait for each page); a
	// plugin that overruns it is killed and restarted. Default 2m.
	CallTimeout time.Duration `koanf:"call_timeout"`
	// StartTimeout bounds start and handshake. Default 30s.
	StartTimeout time.Duration  `koanf:"start_timeout"`
	Config       adapter.Config `koanf:"config"`
}

// Outbound is an outbound webhook subscription.
type Outbound struct {
	URL         string   `koanf:"url"`
	Secret      string   `koanf:"secret"`
	Events      []string `koanf:"events"`
	MaxAttempts int      `koanf:"max_attempts"`
	BatchSize   int      `koanf:"batch_size"`
}

// Defaults returns the configuration used where a file says nothing.
func Defaults() Config {
	return Config{
		Log:   Log{Level: "info", Format: "text"},
		Store: Store{Driver: "sqlite", Path: "data/connector.db"},
		Server: Server{
			Listen:          "127.0.0.1:8080",
			ShutdownTimeout: 30 * time.Second,
		},
		Schedule: Schedule{
			PullInterval:      5 * time.Minute,
			ReconcileInterval: 24 * time.Hour,
			ModelRefresh:      6 * time.Hour,
		},
		Alerts: Alerts{Interval: time.Minute, PlatformFailingFor: 10 * time.Minute, WriteBackFailureShare: 0.05,
			SegmentChangeShare: 0.5, DeadLetterGrowth: 10, RunFailed: true},
		Retention: Retention{Outbox: 7 * 24 * time.Hour, Inbox: 7 * 24 * time.Hour, Quarantine: 90 * 24 * time.Hour, Interval: time.Hour},
		Currency:  "USD",
	}
}
