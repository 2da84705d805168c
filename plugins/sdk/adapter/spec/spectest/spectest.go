// Package spectest holds the checks every adapter with a spec-tagged
// Config runs in its tests: its README config table and its section of
// config.example.yaml follow the tags, the example section is valid,
// Describe's schema is the one the tags give, and its README has the
// sections every connector's README has, in the same order.
package spectest

import (
	"context"
	"os"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/spec"
)

// ExampleConfig is config.example.yaml seen from a connector's package.
const ExampleConfig = "../../config.example.yaml"

// DocsFollowSpec fails when README.md's config table or the platform's
// section of the example config differs from what cfg's tags generate.
// With SPEC_WRITE_DOCS set it rewrites them instead (go generate does).
func DocsFollowSpec(t *testing.T, cfg any, section, pkg string) {
	t.Helper()
	write := os.Getenv("SPEC_WRITE_DOCS") != ""
	stale, err := spec.SyncDocs(cfg, section, "README.md", ExampleConfig, "    ", write)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range stale {
		if !write {
			t.Errorf("%s is out of date with the Config struct tags: run go generate ./%s", f, pkg)
		}
	}
}

// ExampleSectionValid decodes the platform's section of the example
// config with decode: the examples in the tags must be valid settings.
func ExampleSectionValid(t *testing.T, platform string, decode func(adapter.Config) []adapter.Diagnostic) {
	t.Helper()
	b, err := os.ReadFile(ExampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Platforms map[string]map[string]any `yaml:"platforms"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	sec := adapter.Config(doc.Platforms[platform])
	if sec == nil {
		t.Fatal("config.example.yaml has no section for " + platform)
	}
	for _, d := range decode(sec) {
		if d.Severity == adapter.SeverityError {
			t.Errorf("config.example.yaml: %s", d)
		}
	}
}

// DescribeIsSpec fails unless a's Describe returns cfg's schema.
func DescribeIsSpec(t *testing.T, a adapter.Adapter, cfg any) {
	t.Helper()
	d, err := a.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.ConfigSchema, spec.Fields(cfg)) {
		t.Fatalf("Describe's schema is not the spec's:\n%+v", d.ConfigSchema)
	}
}
