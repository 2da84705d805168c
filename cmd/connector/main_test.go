package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/testenv"
)

// runCLI runs the command in-process and returns its exit code and output.
func runCLI(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, env)
	return code, out.String(), errb.String()
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExampleConfigIsValid(t *testing.T) {
	p := filepath.Join(testenv.RepoRoot(t), "config.example.yaml")
	code, out, errOut := runCLI(t, nil, "config", "validate", "-c", p)
	if code != exitOK {
		t.Fatalf("config validate config.example.yaml: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "configuration is valid: 3 platform(s)") {
		t.Errorf("unexpected output: %s", out)
	}
}

// TestExampleSecondShopIsValid: the commented second shop of
// config.example.yaml, uncommented, validates as a fourth platform (an
// instance of the woocommerce adapter beside the woocommerce section).
func TestExampleSecondShopIsValid(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "  # BEGIN example:second-shop\n")
	end := strings.Index(text, "  # END example:second-shop")
	if start < 0 || end < start {
		t.Fatal("config.example.yaml has no example:second-shop block")
	}
	block := text[start+len("  # BEGIN example:second-shop\n") : end]
	var lines []string
	for _, l := range strings.SplitAfter(block, "\n") {
		lines = append(lines, strings.Replace(l, "  # ", "  ", 1))
	}
	p := writeConfig(t, text[:start]+strings.Join(lines, "")+text[end:])
	code, out, errOut := runCLI(t, nil, "config", "validate", "-c", p)
	if code != exitOK || !strings.Contains(out, "configuration is valid: 4 platform(s)") {
		t.Fatalf("config validate with the second shop: exit %d\n%s%s", code, out, errOut)
	}
}

func TestBadConfigNamesEveryProblem(t *testing.T) {
	p := writeConfig(t, `
log: {level: info, colour: blue}
server: {shutdown_timeout: soon}
platforms:
  woocommerce:
    base_url: https://shop.example.com
    consumer_secret: cs_abc
`)
	code, _, errOut := runCLI(t, nil, "config", "validate", "-c", p)
	if code != exitConfig {
		t.Fatalf("exit %d, want %d\n%s", code, exitConfig, errOut)
	}
	for _, want := range []string{"log.colour: unknown key", "server.shutdown_timeout", "platforms.woocommerce.consumer_key: is required"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "cs_abc") {
		t.Errorf("a secret leaked into the error output:\n%s", errOut)
	}
}

func TestPlatformProblemsReportedTogether(t *testing.T) {
	p := writeConfig(t, `
bogus_top: 1
platforms:
  woocommerce:
    base_url: https://shop.example.com
    consumer_secret: cs_abc
    per_page: "many"
`)
	code, _, errOut := runCLI(t, nil, "config", "validate", "-c", p)
	if code != exitConfig {
		t.Fatalf("exit %d, want %d\n%s", code, exitConfig, errOut)
	}
	for _, want := range []string{"bogus_top: unknown key", "platforms.woocommerce.per_page: must be a whole number", "platforms.woocommerce.consumer_key: is required"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestConfigShowRedactsSecrets(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(secretFile, []byte("pat-na1-from-file-xyz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := writeConfig(t, `
store: {driver: postgres, dsn: "postgres://app:pg-secret-pw@127.0.0.1/db"}
platforms:
  hubspot: {token_file: `+secretFile+`}
  woocommerce: {base_url: "https://shop", consumer_key: ck_live_key, consumer_secret: cs_live_secret}
outbound_webhooks: [{url: "https://x.example/h", secret: whsec-outbound}]
`)
	env := []string{"CONNECTOR_PLATFORMS__SALESFORCE__AUTH__CLIENT_SECRET=sf-env-secret"}
	for _, format := range []string{"table", "json"} {
		// The salesforce section the environment starts lacks its
		// required keys: show prints the configuration anyway, then
		// lists the problems and exits 3.
		code, out, errOut := runCLI(t, env, "config", "show", "-c", p, "-o", format)
		if code != exitConfig || !strings.Contains(errOut, "platforms.salesforce.auth.client_id") {
			t.Fatalf("config show: exit %d, want %d naming the missing key: %s", code, exitConfig, errOut)
		}
		for _, s := range []string{"pat-na1-from-file-xyz", "pg-secret-pw", "ck_live_key", "cs_live_secret", "whsec-outbound", "sf-env-secret"} {
			if strings.Contains(out+errOut, s) {
				t.Errorf("%s: config show prints the secret %q:\n%s", format, s, out)
			}
		}
		if !strings.Contains(out, "REDACTED") || !strings.Contains(out, "https://shop") {
			t.Errorf("%s: expected redacted secrets and plain values:\n%s", format, out)
		}
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	if code, _, _ := runCLI(t, nil, "no-such-command"); code != exitUsage {
		t.Errorf("unknown command: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runCLI(t, nil, "version", "-o", "xml"); code != exitUsage {
		t.Errorf("bad -o: exit %d, want %d", code, exitUsage)
	}
	if code, out, _ := runCLI(t, nil, "version", "-o", "json"); code != exitOK || !strings.Contains(out, `"go_version"`) {
		t.Errorf("version -o json: exit %d, %s", code, out)
	}
}

func TestPluginChecksumMismatchRefusedByValidate(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := writeConfig(t, `
plugins:
  - name: sheet
    path: `+exe+`
    sha256: "0000000000000000000000000000000000000000000000000000000000000000"
`)
	code, _, errOut := runCLI(t, nil, "config", "validate", "-c", p)
	if code != exitConfig || !strings.Contains(errOut, "plugins[0]") || !strings.Contains(strings.ToLower(errOut), "sha") {
		t.Fatalf("exit %d, want %d naming plugins[0] and the checksum:\n%s", code, exitConfig, errOut)
	}
}
