package spec_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/segconn/connector/plugins/sdk/adapter/spec"
)

type small struct {
	Host  string        `spec:"host,url" default:"https://api.example.com" doc:"API host"`
	Token string        `spec:"token,secret,required" example:"tok-123" doc:"bearer token"`
	Name  string        `spec:"name,required" default:"conn" doc:"a name"`
	Mode  string        `spec:"mode" default:"auto" enum:"auto,basic" doc:"auth mode | pipe"`
	Page  int           `spec:"page_size" default:"100" min:"1" max:"100" doc:"page size"`
	Tags  []string      `spec:"tags" default:"a,b" doc:"tags"`
	Lag   time.Duration `spec:"lag" default:"5s" min:"0" doc:"lag"`
	ID    string        `spec:"account" doc:"account id"`
	OAuth struct {
		ClientID string `spec:"client_id" doc:"client id"`
	} `spec:"oauth"`
	Hooks struct {
		Secret string `spec:"secret,secret" example:"\"s 1\"" doc:"signing secret"`
	} `spec:"webhooks"`
}

func TestTable(t *testing.T) {
	want := "| key | type | default | description |\n|---|---|---|---|\n" +
		"| `host` | url | `https://api.example.com` | API host |\n" +
		"| `token` | string | — | bearer token; **required**; secret (or `token_file`: a file holding it) |\n" +
		"| `name` | string | `conn` | a name; must not be empty |\n" +
		"| `mode` | string | `auto` | auth mode \\| pipe; one of `auto`, `basic` |\n" +
		"| `page_size` | int | `100` | page size; 1–100 |\n" +
		"| `tags` | list | `a,b` | tags |\n" +
		"| `lag` | duration | `5s` | lag; ≥ 0 |\n" +
		"| `account` | string | — | account id |\n" +
		"| `oauth.client_id` | string | — | client id |\n" +
		"| `webhooks.secret` | string | — | signing secret; secret (or `secret_file`: a file holding it) |\n"
	if got := spec.Table(small{}); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestExample(t *testing.T) {
	got := spec.Example(small{}, "  ")
	want := `  # API host
  host: https://api.example.com
  # bearer token [required; secret; or token_file: PATH]
  token: tok-123
  # a name [must not be empty]
  name: conn
  # auth mode | pipe [one of auto, basic]
  mode: auto
  # page size (1–100)
  page_size: 100
  # tags
  tags: [a, b]
  # lag (≥ 0)
  lag: 5s
  # account id
  # account:
  # oauth:
    # client id
    # client_id:
  webhooks:
    # signing secret [secret; or secret_file: PATH]
    secret: "s 1"
`
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	// The example is YAML that decodes without a problem.
	var tree map[string]any
	if err := yaml.Unmarshal([]byte(got), &tree); err != nil {
		t.Fatalf("example is not YAML: %v", err)
	}
	var s small
	if ds := spec.Decode(tree, "p", &s); len(ds) != 0 {
		t.Fatalf("example does not decode: %v", ds)
	}
	if s.Hooks.Secret != "s 1" || s.Token != "tok-123" || s.Page != 100 {
		t.Fatalf("decoded example: %+v", s)
	}
}

func TestSpliceAndUpdateFile(t *testing.T) {
	doc := "# Title\n<!-- BEGIN spec:platforms.x (generated) -->\nold\nlines\n<!-- END spec:platforms.x -->\ntail\n" +
		"<!-- BEGIN spec:platforms.xy -->\nother\n<!-- END spec:platforms.xy -->\n"
	out, err := spec.Splice([]byte(doc), "platforms.x", "new")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Title\n<!-- BEGIN spec:platforms.x (generated) -->\nnew\n<!-- END spec:platforms.x -->\ntail\n" +
		"<!-- BEGIN spec:platforms.xy -->\nother\n<!-- END spec:platforms.xy -->\n"
	if string(out) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	yamlDoc := "a:\n    # BEGIN spec:p\n    x: 1\n    # END spec:p\nb: 2\n"
	out, err = spec.Splice([]byte(yamlDoc), "p", "    y: 2\n")
	if err != nil || string(out) != "a:\n    # BEGIN spec:p\n    y: 2\n    # END spec:p\nb: 2\n" {
		t.Fatalf("yaml splice: %q %v", out, err)
	}
	if _, err := spec.Splice([]byte("no markers"), "p", "x"); err == nil || !strings.Contains(err.Error(), "BEGIN spec:p") {
		t.Fatalf("missing markers: %v", err)
	}
	if _, err := spec.Splice([]byte("# BEGIN spec:p\n"), "p", "x"); err == nil || !strings.Contains(err.Error(), "END spec:p") {
		t.Fatalf("missing end marker: %v", err)
	}

	path := filepath.Join(t.TempDir(), "README.md")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if stale, err := spec.UpdateFile(path, "platforms.x", "new", false); err != nil || !stale {
		t.Fatalf("drift not reported: %v %v", stale, err)
	}
	if b, _ := os.ReadFile(path); string(b) != doc {
		t.Fatal("UpdateFile wrote without write")
	}
	if stale, err := spec.UpdateFile(path, "platforms.x", "new", true); err != nil || !stale {
		t.Fatalf("update: %v %v", stale, err)
	}
	if stale, err := spec.UpdateFile(path, "platforms.x", "new", false); err != nil || stale {
		t.Fatalf("after update still stale: %v %v", stale, err)
	}
}
