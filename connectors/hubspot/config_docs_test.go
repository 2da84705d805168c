package hubspot

import (
	"testing"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/spec/spectest"
)

// The README's config table and this platform's section of
// config.example.yaml follow the Config tags (`go generate ./connectors/hubspot`
// rewrites them), the example section is valid, and Describe's schema is
// the spec's.
func TestConfigDocsFollowSpec(t *testing.T) {
	spectest.DocsFollowSpec(t, Config{}, configPrefix, "connectors/hubspot")
}

func TestExampleConfigSectionIsValid(t *testing.T) {
	spectest.ExampleSectionValid(t, Name, func(c adapter.Config) []adapter.Diagnostic {
		_, ds := ParseConfig(c, configPrefix)
		return ds
	})
}

func TestDescribeSchemaIsTheSpec(t *testing.T) { spectest.DescribeIsSpec(t, New(nil), Config{}) }

// The README has the sections every connector's README has, in order.
func TestReadmeFollowsSkeleton(t *testing.T) { spectest.ReadmeFollowsSkeleton(t, "HubSpot") }
