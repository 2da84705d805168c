package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/plugins/examples/csvfolder/csvfake"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// seededFolder is a csvfolder plugin's folder with customers and orders.
func seededFolder(t *testing.T) *csvfake.Folder {
	t.Helper()
	folder := csvfake.New(t)
	if _, err := folder.SeedCustomers(60); err != nil {
		t.Fatal(err)
	}
	if _, err := folder.SeedOrders(150); err != nil {
		t.Fatal(err)
	}
	return folder
}

// wroteJourney checks that apply wrote the journey_stage property into a
// folder's memberships.csv.
func wroteJourney(t *testing.T, what string, folder *csvfake.Folder) {
	t.Helper()
	written, err := os.ReadFile(filepath.Join(folder.Dir, "memberships.csv"))
	if err != nil {
		t.Errorf("%s: apply wrote no memberships: %v", what, err)
		return
	}
	if !strings.Contains(string(written), "journey_stage") {
		t.Errorf("%s: memberships.csv lacks the journey_stage property:\n%.500s", what, written)
	}
}

// TestPluginInstances: an instance's name is free, for plugins too. A
// plugin configured under another name than the platform it stamps on
// its records (spreadsheet for csvfolder) used to validate, sync and apply
// with exit 0 while writing nothing; then it was refused. Now its records
// are kept under the name it is configured with, so the same config syncs
// and writes its memberships back. Two sections naming the plugin with
// adapter: run two instances of it, each on its own folder, and an
// adapter: naming no plugin is a configuration error on that key.
func TestPluginInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the csvfolder plugin")
	}
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/examples/csvfolder/cmd/connector-csvfolder")
	sum, err := pluginhost.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	store := func() string { return filepath.Join(t.TempDir(), "c.db") }
	cycle := func(what, cfg string) {
		t.Helper()
		for _, cmd := range [][]string{{"config", "validate"}, {"sync"}, {"segments", "apply", "--refresh"}} {
			code, out, errOut := runCLI(t, nil, append(cmd, "-c", cfg)...)
			if code != exitOK {
				t.Fatalf("%s: %s: exit %d\n%s%s", what, strings.Join(cmd, " "), code, out, errOut)
			}
		}
	}

	folder := seededFolder(t)
	cycle("a plugin named spreadsheet", writeConfig(t, fmt.Sprintf(`log: {level: warn}
store: {driver: sqlite, path: %s}
plugins:
  - name: spreadsheet
    path: %s
    sha256: %s
    config: {folder: %s}
segments:
  - name: lifecycle
    kind: lifecycle
    writeback:
      spreadsheet: {property: journey_stage}
`, store(), bin, sum, folder.Dir)))
	wroteJourney(t, "a plugin named spreadsheet", folder)

	a, b := seededFolder(t), seededFolder(t)
	instances := func(adapterName string) string {
		return writeConfig(t, fmt.Sprintf(`log: {level: warn}
store: {driver: sqlite, path: %s}
plugins:
  - name: csvfolder
    path: %s
    sha256: %s
platforms:
  sheets-a: {adapter: %s, folder: %s}
  sheets-b: {adapter: %s, folder: %s}
segments:
  - name: lifecycle
    kind: lifecycle
    writeback:
      csvfolder: {property: journey_stage}
`, store(), bin, sum, adapterName, a.Dir, adapterName, b.Dir))
	}
	cycle("two instances of the plugin", instances("csvfolder"))
	wroteJourney(t, "sheets-a", a)
	wroteJourney(t, "sheets-b", b)

	code, _, errOut := runCLI(t, nil, "config", "validate", "-c", instances("csvfoldr"))
	if code != exitConfig || !strings.Contains(errOut, `platforms.sheets-a.adapter: unknown adapter "csvfoldr"`) || !strings.Contains(errOut, "did you mean csvfolder?") {
		t.Errorf("an adapter naming no plugin: exit %d, want %d naming platforms.sheets-a.adapter:\n%s", code, exitConfig, errOut)
	}
}
