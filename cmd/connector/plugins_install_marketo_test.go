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

// The Marketo plugin installs like any other: `plugins install` copies and
// pins it, and `plugins list` shows it verified, reading and writing.
func TestPluginsInstallMarketo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Marketo plugin: skipped in -short mode")
	}
	root := testenv.RepoRoot(t)
	bin := filepath.Join(t.TempDir(), "connector-marketo")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./plugins/marketo/cmd/connector-marketo")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the Marketo plugin: %v\n%s", err, out)
	}
	example, err := os.ReadFile(filepath.Join(root, "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, string(example))
	code, out, errOut := runCLI(t, nil, "plugins", "install", bin, "-c", cfg)
	if code != exitOK {
		t.Fatalf("plugins install: exit %d\n%s%s", code, out, errOut)
	}
	installed := filepath.Join(filepath.Dir(cfg), "plugins", "marketo")
	if !strings.Contains(out, installed) {
		t.Errorf("plugins install output:\n%s", out)
	}
	code, out, errOut = runCLI(t, nil, "plugins", "list", "-c", cfg)
	if code != exitOK {
		t.Fatalf("plugins list: exit %d\n%s%s", code, out, errOut)
	}
	row := ""
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "marketo" {
			row = line
		}
	}
	f := strings.Fields(row)
	if len(f) < 3 || f[1] != "0.1.0" || !strings.Contains(row, "read contact; write property,list") || f[len(f)-1] != "ok" {
		t.Errorf("plugins list after install:\n%s", out)
	}
}
