package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/plugins/examples/csvfolder/csvfake"
	"github.com/segconn/connector/plugins/sdktest"
)

// TestPluginNameMustBeItsPlatform: a plugin configured under another name
// than the platform it stamps on its records is a configuration error
// naming plugins[0].name (it used to validate, sync and apply with exit 0
// while writing nothing); under its own name the same configuration syncs
// and writes its memberships back.
func TestPluginNameMustBeItsPlatform(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the csvfolder plugin")
	}
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/examples/csvfolder/cmd/connector-csvfolder")
	sum, err := pluginhost.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	folder := csvfake.New(t)
	if _, err := folder.SeedCustomers(60); err != nil {
		t.Fatal(err)
	}
	if _, err := folder.SeedOrders(150); err != nil {
		t.Fatal(err)
	}
	write := func(name string) string {
		return writeConfig(t, fmt.Sprintf(`log: {level: warn}
store: {driver: sqlite, path: %s}
plugins:
  - name: %s
    path: %s
    sha256: %s
    config: {folder: %s}
segments:
  - name: lifecycle
    kind: lifecycle
    writeback:
      %s: {property: journey_stage}
`, filepath.Join(t.TempDir(), "c.db"), name, bin, sum, folder.Dir, name))
	}

	misnamed := write("spreadsheet")
	for _, cmd := range [][]string{{"config", "validate"}, {"sync"}, {"segments", "apply", "--refresh"}} {
		code, _, errOut := runCLI(t, nil, append(cmd, "-c", misnamed)...)
		if code != exitConfig || !strings.Contains(errOut, `plugins[0].name: "spreadsheet", but the plugin's platform is "csvfolder"`) {
			t.Errorf("%s with the plugin misnamed: exit %d, want %d naming plugins[0].name:\n%s", strings.Join(cmd, " "), code, exitConfig, errOut)
		}
	}

	named := write("csvfolder")
	for _, cmd := range [][]string{{"config", "validate"}, {"sync"}, {"segments", "apply", "--refresh"}} {
		code, out, errOut := runCLI(t, nil, append(cmd, "-c", named)...)
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", strings.Join(cmd, " "), code, out, errOut)
		}
	}
	written, err := os.ReadFile(filepath.Join(folder.Dir, "memberships.csv"))
	if err != nil {
		t.Fatalf("apply wrote no memberships: %v", err)
	}
	if !strings.Contains(string(written), "journey_stage") {
		t.Errorf("memberships.csv lacks the journey_stage property:\n%.500s", written)
	}
}
