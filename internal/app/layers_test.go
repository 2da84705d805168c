package app_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/segconn/connector/"

// imports returns, per non-test Go file in dir, the module packages it
// imports.
func imports(t *testing.T, dir string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range af.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if rest, ok := strings.CutPrefix(p, module); ok {
				out[filepath.Base(f)] = append(out[filepath.Base(f)], rest)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no Go files importing the module in %s", dir)
	}
	return out
}

// TestEntryPointsCallTheApplicationLayer: the daemon reaches the store
// and the adapters through this package, never a concrete store, a
// platform fake or the sandbox; the CLI imports the daemon only to run it
// (`run`, `demo`).
func TestEntryPointsCallTheApplicationLayer(t *testing.T) {
	for file, ims := range imports(t, "../daemon") {
		for _, p := range ims {
			if strings.HasPrefix(p, "internal/store/") || strings.HasSuffix(p, "fake") || p == "internal/sandbox" || p == "internal/config" {
				t.Errorf("internal/daemon/%s imports %s; go through internal/app", file, p)
			}
		}
	}
	runsDaemon := map[string]bool{"run_cmd.go": true, "demo.go": true}
	for file, ims := range imports(t, "../../cmd/connector") {
		for _, p := range ims {
			if p == "internal/daemon" && !runsDaemon[file] {
				t.Errorf("cmd/connector/%s imports internal/daemon; only run and demo start the daemon, every other command calls internal/app", file)
			}
		}
	}
}
