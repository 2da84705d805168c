package sdk_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tutorialRE finds the README's tutorial files: a marker naming the file,
// then one fenced Go block.
var tutorialRE = regexp.MustCompile("(?s)<!-- tutorial: ([a-z_]+\\.go) -->\\s*```go\\n(.*?)```")

// The README's tutorial, as written, is a third party's plugin module: it
// builds against this repository (through a replace directive) and its
// own test, the conformance kit in-process, over gRPC and as a process,
// passes.
func TestREADMETutorial(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	files := tutorialRE.FindAllSubmatch(readme, -1)
	if len(files) != 2 {
		t.Fatalf("found %d tutorial files in the README, want main.go and main_test.go", len(files))
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, string(f[1])), f[2], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gomod := fmt.Sprintf("module example.com/connector-acme\n\ngo 1.26\n\nrequire github.com/segconn/connector v0.0.0\n\nreplace github.com/segconn/connector => %s\n", root)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		// Offline: every module comes from the module cache this
		// repository's build filled.
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s in the tutorial module: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("vet", ".")
	out := run("test", "-count=1", "-v", "-run", "TestConformance", ".")
	for _, sub := range []string{"PagingAndResume", "IncrementalResume", "Cancellation"} {
		// In-process, over gRPC in memory and as a process: three runs.
		if n := strings.Count(out, "--- PASS: TestConformance/"+sub); n != 3 {
			t.Errorf("the tutorial's %s passed %d times, want 3:\n%s", sub, n, out)
		}
	}
	if !strings.Contains(out, "--- SKIP: TestConformance/Fetch") {
		t.Errorf("the tutorial's Fetch was not skipped as unsupported:\n%s", out)
	}
	// What the plugin's build and test use of this repository: the SDK,
	// the kit and the protocol, never the host's internal packages.
	deps := run("list", "-deps", "-test", "-f", "{{.ImportPath}}", ".")
	var ours []string
	for _, p := range strings.Fields(deps) {
		if strings.HasPrefix(p, "github.com/segconn/connector/") {
			ours = append(ours, p)
			if strings.Contains(p, "/internal/") || strings.HasPrefix(p, "github.com/segconn/connector/connectors") {
				t.Errorf("the tutorial plugin depends on host code %s", p)
			}
		}
	}
	t.Logf("packages of the connector module the tutorial plugin uses: %v", ours)
	mods := run("list", "-deps", "-test", "-f", "{{with .Module}}{{.Path}}{{end}}", ".")
	t.Logf("modules the tutorial plugin uses: %v", uniq(strings.Fields(mods)))
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
