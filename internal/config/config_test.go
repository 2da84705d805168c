package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLayersFileThenEnvThenFlags(t *testing.T) {
	p := writeFile(t, "c.yaml", `
log: {level: debug}
server: {listen: "127.0.0.1:9000", shutdown_timeout: 5s}
platforms:
  hubspot: {token: from-file, page_size: 50}
`)
	l, err := config.Load(config.Source{
		File:    p,
		Environ: []string{"CONNECTOR_PLATFORMS__HUBSPOT__TOKEN=from-env", "CONNECTOR_SERVER__SHUTDOWN_TIMEOUT=7s", "OTHER=1"},
		Set:     map[string]string{"log.level": "warn"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Platforms["hubspot"]["token"]; got != "from-env" {
		t.Errorf("env should override the file: token=%v", got)
	}
	if got := l.Platforms["hubspot"]["page_size"]; got != 50 {
		t.Errorf("page_size=%v (%T), want int 50", got, got)
	}
	if l.Server.ShutdownTimeout != 7*time.Second || l.Server.Listen != "127.0.0.1:9000" {
		t.Errorf("server = %+v", l.Server)
	}
	if l.Log.Level != "warn" {
		t.Errorf("--set should override env and file: level=%q", l.Log.Level)
	}
	if l.Store.Driver != "sqlite" {
		t.Errorf("defaults lost: driver=%q", l.Store.Driver)
	}
}

func TestReportsEveryProblemWithItsPath(t *testing.T) {
	p := writeFile(t, "bad.yaml", `
log: {level: loud, colour: red}
server: {shutdown_timeout: [1, 2]}
bogus: 1
currency: pounds
plugins:
  - {name: x, path: ./x, sha256: nothex}
`)
	_, err := config.Load(config.Source{File: p})
	var ps config.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	want := []string{"bogus: unknown key", "log.colour: unknown key", "server.shutdown_timeout:", "plugins[0].sha256:",
		`currency: want an ISO 4217 currency code such as USD, EUR or GBP; got "pounds"`}
	msg := ps.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("missing %q in:\n%s", w, msg)
		}
	}
}

func TestPlatformSchemaChecks(t *testing.T) {
	schema := []adapter.ConfigField{
		{Name: "token", Type: adapter.FieldString, Required: true, Secret: true, Description: "a private app token"},
		{Name: "page_size", Type: adapter.FieldInt},
		{Name: "base_url", Type: adapter.FieldURL},
		{Name: "mode", Type: adapter.FieldString, Enum: []string{"a", "b"}},
		{Name: "oauth.client_id", Type: adapter.FieldString},
	}
	ps := config.ValidatePlatform("platforms.hubspot", adapter.Config{
		"page_size": "fifty",
		"tokn":      "typo",
		"base_url":  "ftp://x",
		"mode":      "c",
		"oauth":     map[string]any{"client_id": "id", "extra": 1},
	}, schema)
	got := ps.Error()
	for _, w := range []string{
		"platforms.hubspot.page_size: must be a whole number (got a string \"fifty\")",
		"platforms.hubspot.tokn: unknown key (did you mean token?)",
		"platforms.hubspot.token: is required",
		"platforms.hubspot.base_url: must be an absolute http(s) URL",
		"platforms.hubspot.mode: must be one of a, b",
		"platforms.hubspot.oauth.extra: unknown key",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if len(ps) != 6 {
		t.Errorf("got %d problems, want 6:\n%s", len(ps), got)
	}
	if ok := config.ValidatePlatform("p", adapter.Config{"token_file": "/x"}, schema[:1]); len(ok) != 1 || !strings.Contains(ok.Error(), "token: is required") {
		t.Errorf("an unresolved token_file must still leave token missing: %v", ok)
	}
}

func TestSecretsFromFilesAndRedacted(t *testing.T) {
	secretFile := writeFile(t, "tok", "pat-na1-very-secret\n")
	p := writeFile(t, "c.yaml", `
store: {driver: postgres, dsn: "postgres://app:pg-pass-123@db/x"}
platforms:
  hubspot: {token_file: `+secretFile+`}
  woocommerce: {consumer_key: ck_live_1, consumer_secret: cs_live_2, url: "https://shop"}
outbound_webhooks:
  - {url: "https://hooks.example/x", secret: whsec-abc}
`)
	l, err := config.Load(config.Source{File: p})
	if err != nil {
		t.Fatal(err)
	}
	if l.Platforms["hubspot"]["token"] != "pat-na1-very-secret" {
		t.Fatalf("token_file not resolved: %v", l.Platforms["hubspot"])
	}
	red := config.Redact(l.Raw)
	out := strings.Join(flattenStrings(red), " ")
	for _, s := range []string{"pat-na1-very-secret", "pg-pass-123", "ck_live_1", "cs_live_2", "whsec-abc"} {
		if strings.Contains(out, s) {
			t.Errorf("redacted config still shows %q", s)
		}
		if !containsStr(l.SecretValues, s) {
			t.Errorf("secret %q not collected for log redaction", s)
		}
	}
	if !strings.Contains(out, "https://shop") {
		t.Errorf("redaction removed a plain value: %s", out)
	}
}

func flattenStrings(v any) []string {
	switch x := v.(type) {
	case map[string]any:
		var out []string
		for _, e := range x {
			out = append(out, flattenStrings(e)...)
		}
		return out
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, flattenStrings(e)...)
		}
		return out
	case string:
		return []string{x}
	}
	return nil
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
