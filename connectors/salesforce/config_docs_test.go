package salesforce

import (
	"context"
	"os"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/adapter/spec"
)

// TestConfigDocsFollowSpec fails when the README's config table or this
// section of config.example.yaml differs from what the Config tags
// generate. `go generate ./connectors/salesforce` rewrites them.
func TestConfigDocsFollowSpec(t *testing.T) {
	write := os.Getenv("SPEC_WRITE_DOCS") != ""
	stale, err := spec.SyncDocs(Config{}, "platforms."+Name, "README.md", "../../config.example.yaml", "    ", write)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range stale {
		if !write {
			t.Errorf("%s is out of date with the Config struct tags: run go generate ./connectors/salesforce", f)
		}
	}
}

// TestExampleConfigSectionIsValid decodes this platform's section of
// config.example.yaml: the examples in the tags must be valid settings.
func TestExampleConfigSectionIsValid(t *testing.T) {
	b, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Platforms map[string]map[string]any `yaml:"platforms"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	sec := adapter.Config(doc.Platforms[Name])
	if sec == nil {
		t.Fatal("config.example.yaml has no section for " + Name)
	}
	_, ds := ParseConfig(sec)
	for _, d := range ds {
		if d.Severity == adapter.SeverityError {
			t.Errorf("config.example.yaml: %s", d)
		}
	}
}

// TestDescribeSchemaIsTheSpec keeps Describe's schema derived from the tags.
func TestDescribeSchemaIsTheSpec(t *testing.T) {
	d, err := New(nil).Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.ConfigSchema, spec.Fields(Config{})) {
		t.Fatalf("Describe's schema is not the spec's:\n%+v", d.ConfigSchema)
	}
}
