package pluginhost_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/examples/csvfolder"
	"github.com/segconn/connector/plugins/examples/csvfolder/csvfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

func open(t *testing.T, s pluginhost.Spec, o pluginhost.Options) *pluginhost.Plugin {
	t.Helper()
	p, err := pluginhost.Open(context.Background(), s, o)
	if err != nil {
		t.Fatalf("opening plugin: %v", err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

func configured(t *testing.T, s pluginhost.Spec, o pluginhost.Options) (*pluginhost.Plugin, *csvfake.Folder) {
	t.Helper()
	p := open(t, s, o)
	f := csvfake.New(t)
	if err := p.Configure(context.Background(), f.Config()); err != nil {
		t.Fatalf("configuring: %v", err)
	}
	return p, f
}

func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// The conformance kit passes through the supervised host adapter, which
// is what the daemon uses.
func TestConformanceThroughHost(t *testing.T) {
	t.Parallel()
	h := csvfake.Harness(domain.ObjectContact)
	h.Name = "csvfolder/pluginhost"
	h.New = func(tb testing.TB) adapter.Adapter {
		p, err := pluginhost.Open(context.Background(), spec(tb, "csv"), pluginhost.Options{})
		if err != nil {
			tb.Fatalf("opening plugin: %v", err)
		}
		return p
	}
	sdktest.RunConformance(t, h)
}

func TestChecksumMismatchIsRefusedBeforeStart(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "started")
	s := spec(t, "csv")
	s.Env = map[string]string{"MISBEHAVE_MARKER": marker}
	good := s.SHA256
	s.SHA256 = strings.Repeat("ab", 32)
	_, err := pluginhost.Open(context.Background(), s, pluginhost.Options{})
	if !errors.Is(err, pluginhost.ErrChecksumMismatch) {
		t.Fatalf("Open with a wrong sha256: %v, want ErrChecksumMismatch", err)
	}
	for _, want := range []string{`"csv"`, s.Path, good, s.SHA256} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, serr := os.Stat(marker); !os.IsNotExist(serr) {
		t.Fatalf("the plugin ran although its checksum was refused (marker: %v)", serr)
	}

	s.SHA256 = ""
	if _, err := pluginhost.Open(context.Background(), s, pluginhost.Options{}); !errors.Is(err, pluginhost.ErrNoChecksum) {
		t.Fatalf("Open without sha256: %v, want ErrNoChecksum", err)
	}
	s.SHA256 = "not-hex"
	if _, err := pluginhost.Open(context.Background(), s, pluginhost.Options{}); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
		t.Fatalf("Open with a malformed sha256: %v", err)
	}
	if _, serr := os.Stat(marker); !os.IsNotExist(serr) {
		t.Fatalf("the plugin ran without a valid pin")
	}
}

func TestUnsupportedProtocolVersionIsRefusedClearly(t *testing.T) {
	t.Parallel()
	s := spec(t, "future")
	s.Args = []string{"--protocol=7"}
	_, err := pluginhost.Open(context.Background(), s, pluginhost.Options{})
	if !errors.Is(err, pluginhost.ErrIncompatible) {
		t.Fatalf("Open of a protocol-7 plugin: %v, want ErrIncompatible", err)
	}
	if adapter.KindOf(err) != adapter.KindPermanent {
		t.Errorf("kind %v, want permanent", adapter.KindOf(err))
	}
	msg := err.Error()
	for _, want := range []string{misbehaveBin, "offers protocol versions [7]", "supports [1]"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
}

func TestHungPluginIsKilledAndReplaced(t *testing.T) {
	t.Parallel()
	s := spec(t, "csv")
	s.CallTimeout = time.Second // generous: a loaded machine must not read as a hang
	p, f := configured(t, s, pluginhost.Options{})
	refs, err := f.SeedCustomers(3)
	if err != nil {
		t.Fatal(err)
	}
	pid := p.PID()
	_, err = p.Fetch(context.Background(), adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{"hang"}})
	if !errors.Is(err, pluginhost.ErrHung) {
		t.Fatalf("Fetch that hangs: %v, want ErrHung", err)
	}
	if alive(pid) {
		t.Fatalf("hung plugin process %d is still alive", pid)
	}
	// The next call gets a fresh, reconfigured process.
	got, err := p.Fetch(context.Background(), adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{refs[0].ID}})
	if err != nil || len(got) != 1 || got[0].Kind != adapter.ChangeUpsert {
		t.Fatalf("Fetch after the restart: %v %+v", err, got)
	}
	if p.PID() == pid || p.Restarts() != 1 {
		t.Fatalf("after a hang: pid %d (was %d), restarts %d; want a new process and 1 restart", p.PID(), pid, p.Restarts())
	}

	// A pull that never sends a page is killed the same way.
	pid = p.PID()
	err = p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, Cursor: "hang"}, func(context.Context, adapter.Page) error { return nil })
	if !errors.Is(err, pluginhost.ErrHung) || alive(pid) {
		t.Fatalf("hung pull: %v (process alive: %v), want ErrHung and a dead process", err, alive(pid))
	}
}

// A slow sink is the host's business: the timeout only counts the wait
// for the plugin.
func TestSlowSinkIsNotAHang(t *testing.T) {
	t.Parallel()
	s := spec(t, "csv")
	s.CallTimeout = time.Second
	p, f := configured(t, s, pluginhost.Options{})
	if _, err := f.SeedCustomers(20); err != nil {
		t.Fatal(err)
	}
	pages := 0
	err := p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, PageSize: 10}, func(ctx context.Context, _ adapter.Page) error {
		pages++
		select {
		case <-time.After(1500 * time.Millisecond): // longer than the call timeout
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	if err != nil || pages != 2 {
		t.Fatalf("pull with a slow sink: %v after %d pages", err, pages)
	}
}

// The plugin is killed in the middle of a pull; the pull restarts it,
// resumes from the last accepted page and the sink sees every record
// exactly once.
func TestPluginKilledMidPullCompletesExactly(t *testing.T) {
	t.Parallel()
	p, f := configured(t, spec(t, "csv"), pluginhost.Options{})
	const n = 3000
	refs, err := f.SeedCustomers(n)
	if err != nil {
		t.Fatal(err)
	}
	// The exact result: what an in-process pull of the same folder gives.
	want := map[string]string{}
	ref := csvfolder.New()
	if err := ref.Configure(context.Background(), f.Config()); err != nil {
		t.Fatal(err)
	}
	if err := ref.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, PageSize: 100}, func(_ context.Context, pg adapter.Page) error {
		for _, c := range pg.Changes {
			b, _ := json.Marshal(c)
			want[c.Ref.Key()] = string(b)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	got := map[string]string{}
	pages, killed := 0, 0
	firstPID := p.PID()
	err = p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, PageSize: 100}, func(_ context.Context, pg adapter.Page) error {
		pages++
		for _, c := range pg.Changes {
			seen[c.Ref.Key()]++
			b, _ := json.Marshal(c)
			got[c.Ref.Key()] = string(b)
		}
		if pages == 2 || pages == 19 {
			if err := syscall.Kill(p.PID(), syscall.SIGKILL); err != nil {
				t.Errorf("killing the plugin: %v", err)
			}
			killed++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("pull across two crashes: %v", err)
	}
	// A kill after the plugin had already sent the rest of the pull (gRPC
	// buffers ahead) needs no restart, so the second one is not asserted.
	if killed != 2 || p.Restarts() < 1 || p.PID() == firstPID {
		t.Fatalf("killed %d times, restarts %d, pid %d (first %d)", killed, p.Restarts(), p.PID(), firstPID)
	}
	if len(seen) != n {
		t.Fatalf("saw %d distinct records, want %d", len(seen), n)
	}
	for _, r := range refs {
		if seen[r.Key()] != 1 {
			t.Fatalf("record %s delivered %d times, want exactly once", r.ID, seen[r.Key()])
		}
		if got[r.Key()] != want[r.Key()] {
			t.Fatalf("record %s differs from an in-process pull:\n got %s\nwant %s", r.ID, got[r.Key()], want[r.Key()])
		}
	}
}

func TestCrashLoopGivesUpAndOthersAreUnaffected(t *testing.T) {
	t.Parallel()
	s := spec(t, "crashy")
	p, _ := configured(t, s, pluginhost.Options{MaxRetries: 2})
	other, f := configured(t, spec(t, "steady"), pluginhost.Options{})
	if _, err := f.SeedCustomers(25); err != nil {
		t.Fatal(err)
	}
	otherPID := other.PID()

	_, err := p.Fetch(context.Background(), adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{"crash"}})
	if err == nil || !strings.Contains(err.Error(), "crashed 3 times") {
		t.Fatalf("Fetch that always crashes: %v, want a give-up after 3 attempts", err)
	}
	if p.Restarts() != 2 {
		t.Errorf("restarts = %d, want 2 (3 attempts)", p.Restarts())
	}
	n := 0
	err = other.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact}, func(_ context.Context, pg adapter.Page) error {
		n += len(pg.Changes)
		return nil
	})
	if err != nil || n != 25 || other.PID() != otherPID || other.Restarts() != 0 {
		t.Fatalf("the other plugin: err %v, %d records, pid %d→%d, restarts %d", err, n, otherPID, other.PID(), other.Restarts())
	}
	// A crashed plugin is back for the next call.
	if _, err := p.Describe(context.Background()); err != nil || p.Restarts() != 3 {
		t.Fatalf("Describe after the crash loop: %v (restarts %d)", err, p.Restarts())
	}
}

func TestPluginGetsOnlyAllowedEnvironment(t *testing.T) {
	t.Setenv("PLUGINHOST_TEST_ALLOWED", "yes")
	t.Setenv("PLUGINHOST_TEST_SECRET", "s3cret")
	s := spec(t, "csv")
	s.AllowEnv = []string{"PLUGINHOST_TEST_ALLOWED", "PLUGINHOST_TEST_UNSET"}
	s.Env = map[string]string{"CSV_EXTRA": "1"}
	p, _ := configured(t, s, pluginhost.Options{})
	got, err := p.Fetch(context.Background(), adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{"env"}})
	if err != nil || len(got) != 1 || got[0].Contact == nil {
		t.Fatalf("Fetch env: %v %+v", err, got)
	}
	env := got[0].Contact.Attributes
	if env["PLUGINHOST_TEST_ALLOWED"] != "yes" || env["CSV_EXTRA"] != "1" {
		t.Errorf("allowed variables missing from the plugin's environment: %v", env)
	}
	for k := range env {
		switch {
		case k == "PLUGINHOST_TEST_ALLOWED", k == "CSV_EXTRA", strings.HasPrefix(k, "PLUGIN_"), k == "SEGCONN_CONNECTOR_PLUGIN":
		default:
			t.Errorf("plugin received host variable %s", k)
		}
	}
}

// capture is an slog handler that keeps records.
type capture struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r.Clone())
	return nil
}
func (c *capture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *capture) WithGroup(string) slog.Handler      { return c }

func (c *capture) find(msg string) (slog.Record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.recs {
		if r.Message == msg {
			return r, true
		}
	}
	return slog.Record{}, false
}

func TestPluginLogsReachHostSlogAtTheirLevel(t *testing.T) {
	t.Parallel()
	h := &capture{}
	p := open(t, spec(t, "csv"), pluginhost.Options{Logger: slog.New(h)})
	if _, err := p.Describe(context.Background()); err != nil {
		t.Fatal(err)
	}
	// go-plugin reads stderr asynchronously; give the line a moment.
	var rec slog.Record
	testenv.Eventually(t, 10*time.Second, "the plugin's log line reaching the host logger", func() bool {
		var ok bool
		rec, ok = h.find("misbehave describing")
		return ok
	})
	if rec.Level != slog.LevelWarn {
		t.Errorf("level %v, want WARN", rec.Level)
	}
	var answer any
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "answer" {
			answer = a.Value.Any()
		}
		return true
	})
	if answer != float64(42) {
		t.Errorf("attribute answer = %v, want 42", answer)
	}
}

func TestClosedPluginRefusesCalls(t *testing.T) {
	t.Parallel()
	p := open(t, spec(t, "csv"), pluginhost.Options{})
	pid := p.PID()
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Errorf("closed plugin %d still runs", pid)
	}
	if _, err := p.Describe(context.Background()); !errors.Is(err, pluginhost.ErrClosed) {
		t.Fatalf("Describe after Close: %v", err)
	}
}
