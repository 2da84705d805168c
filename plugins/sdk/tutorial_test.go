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
	sdkDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, string(f[1])), f[2], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gomod := fmt.Sprintf("module example.com/connector-acme\n\ngo 1.26\n\nrequire github.com/segconn/connector/plugins/sdk v0.0.0\n\nreplace github.com/segconn/connector/plugins/sdk => %s\n", sdkDir)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("go.sum")
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
		// Modules come from the module cache this repository's build
		// filled; go list -m all may read a few more go.mod files of the
		// SDK's own requirements through the configured module proxy.
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
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
	t.Logf("packages of the SDK the tutorial plugin uses: %v", ours)

	// Its module graph is the SDK module's and nothing more: the host
	// module (github.com/segconn/connector) and what only the host needs
	// (databases, the job queue, the browser driver) never appear.
	graph := strings.Fields(run("list", "-m", "-f", "{{.Path}}", "all"))
	t.Logf("go list -m all of the tutorial plugin:\n%s", strings.Join(graph, "\n"))
	sdkGraph := map[string]bool{}
	sdkOut, err := exec.Command("go", "list", "-m", "-f", "{{.Path}}", "all").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -m all in the SDK module: %v\n%s", err, sdkOut)
	}
	for _, m := range strings.Fields(string(sdkOut)) {
		sdkGraph[m] = true
	}
	for _, m := range graph {
		switch {
		case m == "example.com/connector-acme":
		case m == "github.com/segconn/connector":
			t.Errorf("the tutorial plugin's module graph holds the host module %s", m)
		case !sdkGraph[m]:
			t.Errorf("the tutorial plugin's module graph holds %s, which the SDK module does not require", m)
		}
	}
	for _, hostOnly := range []string{"github.com/jackc/pgx/v5", "modernc.org/sqlite", "github.com/riverqueue/river", "github.com/chromedp/chromedp"} {
		if sdkGraph[hostOnly] {
			t.Errorf("the SDK module requires %s, which only the host needs", hostOnly)
		}
	}
}
