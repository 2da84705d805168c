package pluginhost_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/examples/csvfolder/csvfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// The CSV example as it was released with protocol 1.0 (checked out from
// the last commit before 1.1, built from that source) passes the
// conformance kit through today's host, and lists as protocol 1.0.
func TestReleasedProtocol10BinaryWorksWithNewHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the 1.0 release of the example from git history: skipped in -short mode")
	}
	root := testenv.RepoRoot(t)
	git := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", root}, args...)...).Output()
		if err != nil {
			t.Skipf("git %s: %v (no history to build the 1.0 release from)", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	// The first commit whose protocol mentions protocol_minor is 1.1; its
	// parent is the last 1.0.
	intro := strings.Fields(git("log", "--format=%H", "-S", "protocol_minor", "--", "plugins/proto/connector/v1/connector.proto"))
	if len(intro) == 0 {
		t.Skip("no 1.1 commit in the history")
	}
	base := intro[len(intro)-1] + "^"
	src := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	archive := exec.CommandContext(ctx, "sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, base, src)
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("extracting %s: %v\n%s", base, err, out)
	}
	bin := filepath.Join(t.TempDir(), "connector-csvfolder-1.0")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./plugins/examples/csvfolder/cmd/connector-csvfolder")
	build.Dir = src
	// The release's go.mod may name module versions this machine's cache
	// has never held: they come through the module proxy (GOPROXY).
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the 1.0 example: %v\n%s", err, out)
	}
	sum, err := pluginhost.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	s := pluginhost.Spec{Name: "csv10", Path: bin, SHA256: sum}

	var list strings.Builder
	if err := pluginhost.List(&list, []pluginhost.Spec{s}); err != nil || !strings.Contains(list.String(), " 1.0 ") {
		t.Errorf("plugins list of the 1.0 binary (%v):\n%s", err, list.String())
	}
	h := csvfake.Harness(domain.ObjectContact)
	h.Name = "csvfolder/released-1.0"
	h.New = func(tb testing.TB) adapter.Adapter {
		p, err := pluginhost.Open(context.Background(), s, pluginhost.Options{})
		if err != nil {
			tb.Fatalf("opening the 1.0 plugin: %v", err)
		}
		p.ObserveHTTP(&heard{})
		return p
	}
	sdktest.RunConformance(t, h)
	p, _ := configured(t, s, pluginhost.Options{})
	if p.WritePacing() != (adapter.WritePacing{}) || p.DailyQuota() != (adapter.Quota{Remaining: -1}) {
		t.Errorf("a 1.0 plugin has hints: %+v %+v", p.WritePacing(), p.DailyQuota())
	}
}
