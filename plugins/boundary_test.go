package plugins_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
)

// The built-in connectors and the plugins are built on the public SDK
// only: none of their non-test code imports the host's internal packages
// (the connectors reached up into internal/ for their HTTP client before
// the kit was public).
func TestConnectorsAndPluginsImportNoHostInternals(t *testing.T) {
	cmd := exec.CommandContext(context.Background(), "go", "list", "-deps", "-f", "{{.ImportPath}}",
		"github.com/segconn/connector/connectors/...", "github.com/segconn/connector/plugins/...")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/segconn/connector/internal/") {
			t.Errorf("a connector or plugin depends on host code %s", p)
		}
	}
}
