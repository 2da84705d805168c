package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/testenv"
)

// `plugins install` copies the CSV example plugin beside the config, pins
// it there, and `plugins list` then shows it verified with its version,
// protocol and capabilities.
func TestPluginsInstallThenList(t *testing.T) {
	root := testenv.RepoRoot(t)
	bin := filepath.Join(t.TempDir(), "connector-csvfolder")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./plugins/examples/csvfolder/cmd/connector-csvfolder")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example plugin: %v\n%s", err, out)
	}
	example, err := os.ReadFile(filepath.Join(root, "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, string(example))

	code, out, errOut := runCLI(t, nil, "plugins", "install", bin, "--name", "sheets", "-c", cfg)
	if code != exitOK {
		t.Fatalf("plugins install: exit %d\n%s%s", code, out, errOut)
	}
	installed := filepath.Join(filepath.Dir(cfg), "plugins", "sheets")
	if !strings.Contains(out, "declared it in "+cfg) || !strings.Contains(out, installed) {
		t.Errorf("plugins install output:\n%s", out)
	}
	code, out, errOut = runCLI(t, nil, "plugins", "list", "-c", cfg)
	if code != exitOK {
		t.Fatalf("plugins list: exit %d\n%s%s", code, out, errOut)
	}
	var row []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "sheets" {
			row = f
		}
	}
	if len(row) < 4 || row[2] != "1.2" || row[3] != "read" || !strings.HasSuffix(strings.TrimSpace(out), "ok") || !strings.Contains(out, installed) {
		t.Errorf("plugins list after install:\n%s", out)
	}

	// Without a config file the entry is printed, and nothing else changes.
	code, out, _ = runCLI(t, nil, "plugins", "install", bin, "--dir", t.TempDir())
	if code != exitOK || !strings.Contains(out, "add to the config:\nplugins:\n  - name: csvfolder\n") {
		t.Errorf("plugins install without a config: exit %d\n%s", code, out)
	}
}
