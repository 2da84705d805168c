package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/internal/web"
)

// The crash and replica tests run the daemon in child processes: the test
// binary re-executes itself with childEnvVar naming a spec file, and
// TestHelperDaemonProcess turns into `connector run` for that spec. Only a
// separate process can be SIGKILLed without taking the test with it.

const childEnvVar = "CONNECTOR_DAEMON_TEST_CHILD"

// childSpec is what a child daemon runs.
type childSpec struct {
	Config  config.Config
	Secrets []string
	// NoSchedule, DrainInterval and InboxWorkers are daemon.Options.
	NoSchedule    bool
	DrainInterval time.Duration
	InboxWorkers  int
	// ClockOffset moves the store's clock (leases, due times) forward; each
	// SIGUSR1 moves it forward by another leaseSkip. A restarted daemon
	// whose clock is ahead sees the leases of the one that was killed as
	// lapsed, as it would after waiting out the lease (1 min for the inbox,
	// 2 min for the outbox) in real time.
	ClockOffset time.Duration
}

// leaseSkip is longer than every inbox and outbox lease.
const leaseSkip = 5 * time.Minute

// TestHelperDaemonProcess is not a test: it is the child daemon.
func TestHelperDaemonProcess(t *testing.T) {
	path := os.Getenv(childEnvVar)
	if path == "" {
		t.Skip("the child daemon of the crash and replica tests; runs only when re-executed by them")
	}
	if err := runChild(path); err != nil {
		fmt.Fprintln(os.Stderr, "child daemon:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runChild(specPath string) error {
	b, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var spec childSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("decoding child spec %s: %w", specPath, err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var offset atomic.Int64
	offset.Store(int64(spec.ClockOffset))
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	usr := make(chan os.Signal, 1)
	signal.Notify(usr, syscall.SIGUSR1)
	go func() {
		for range usr {
			offset.Add(int64(leaseSkip))
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	env, err := openEnvWithClock(ctx, &config.Loaded{Config: spec.Config, SecretValues: spec.Secrets}, log, now)
	if err != nil {
		return err
	}
	defer env.Close(context.Background())
	ln, err := net.Listen("tcp", spec.Config.Server.Listen)
	if err != nil {
		return err
	}
	d := env.newDaemon(daemon.Options{Listener: ln, NoSchedule: spec.NoSchedule, DrainInterval: spec.DrainInterval,
		InboxWorkers: spec.InboxWorkers})
	return d.Run(ctx)
}

// openEnvWithClock opens an App whose store reads the test's clock.
func openEnvWithClock(ctx context.Context, l *config.Loaded, log *slog.Logger, now func() time.Time) (*testEnv, error) {
	m := daemon.NewMetrics()
	a, err := app.Open(ctx, l, log, apptest.Factories(), app.Options{ObserveHTTP: m.HTTPObserver, StoreNow: now})
	if err != nil {
		return nil, err
	}
	return &testEnv{App: a, metrics: m}, nil
}

// child is a running child daemon.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string // http://host:port
	admin  string // the web app's http://host:port
	log    string // its stderr
	exited chan struct{}
	err    error
}

// freeAddr returns a loopback address nobody listens on, kept across
// restarts so platforms' registered webhook URLs stay valid.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startChild starts a child daemon and waits until it answers /healthz.
func startChild(t *testing.T, name string, spec childSpec) *child {
	t.Helper()
	dir := t.TempDir()
	spec.Config.Server.AdminListen = freeAddr(t)
	spec.Config.APITokens = append(spec.Config.APITokens, config.APIToken{Name: "test", Role: config.RoleViewer, Token: childAPIToken})
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(dir, name+".json")
	if err := os.WriteFile(specPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, base: "http://" + spec.Config.Server.Listen, admin: "http://" + spec.Config.Server.AdminListen, log: filepath.Join(dir, name+".log"), exited: make(chan struct{})}
	logf, err := os.Create(c.log)
	if err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestHelperDaemonProcess$", "-test.count=1")
	c.cmd.Env = append(os.Environ(), childEnvVar+"="+specPath)
	c.cmd.Stdout = logf
	c.cmd.Stderr = logf
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		logf.Close()
		close(c.exited)
	}()
	t.Cleanup(c.kill)
	testenv.Await(withDetail{t, c.logTail}, 90*time.Second, "child daemon "+name+" healthy", func() error {
		select {
		case <-c.exited:
			t.Fatalf("child daemon %s exited before it was healthy (%v):\n%s", name, c.err, c.logTail())
		default:
		}
		resp, err := http.Get(c.base + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/healthz: HTTP %d", resp.StatusCode)
		}
		return nil
	})
	return c
}

// withDetail adds detail (the child's last log lines) to a failure.
type withDetail struct {
	testing.TB
	detail func() string
}

func (w withDetail) Fatalf(format string, args ...any) {
	w.TB.Helper()
	w.TB.Fatalf(format+"\n%s", append(args, w.detail())...)
}

// kill SIGKILLs the child and waits for it to be gone.
func (c *child) kill() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}

// stop asks the child to shut down gracefully and waits.
func (c *child) stop() {
	c.t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		if c.err != nil {
			c.t.Errorf("child daemon stopped with %v:\n%s", c.err, c.logTail())
		}
	case <-time.After(60 * time.Second):
		c.t.Errorf("child daemon did not stop within 60s of SIGTERM")
		c.kill()
	}
}

// skipLeases moves the child's store clock past every lease.
func (c *child) skipLeases() {
	_ = c.cmd.Process.Signal(syscall.SIGUSR1)
}

func (c *child) logTail() string {
	b, _ := os.ReadFile(c.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// childAPIToken lets the tests read a child's web API.
const childAPIToken = "child-test-token-0123456789abcdef"

// summary reads the queue depths from the child's web API status.
func (c *child) summary() (app.Summary, error) {
	s := app.Summary{Outbox: map[string]int{}}
	req, err := http.NewRequest(http.MethodGet, c.admin+"/api/v1/status", nil)
	if err != nil {
		return s, err
	}
	req.Header.Set("Authorization", "Bearer "+childAPIToken)
	// Bounded: a daemon that cannot answer must not hold up the wait
	// that asks, past its own bound.
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("status: HTTP %d", resp.StatusCode)
	}
	var st web.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return s, err
	}
	s.Profiles, s.Inbox = st.Profiles, st.Queues.InboxPending
	s.Outbox[string(store.OutboxPending)] = st.Queues.OutboxPending // leased included
	s.Outbox[string(store.OutboxFailed)] = st.Queues.OutboxFailed
	return s, nil
}

// waitQuiet waits until the child's inbox and outbox have stayed empty
// for 400 ms.
func (c *child) waitQuiet(timeout time.Duration) app.Summary {
	c.t.Helper()
	var s app.Summary
	var busy []string
	detail := func() string { return fmt.Sprintf("last looks %v\n%s", busy, c.logTail()) }
	testenv.Settle(withDetail{c.t, detail}, timeout, 400*time.Millisecond, "the child daemon's queues quiet", func() bool {
		var err error
		s, err = c.summary()
		if err == nil && s.Inbox == 0 && s.Outbox[string(store.OutboxPending)] == 0 && s.Outbox[string(store.OutboxLeased)] == 0 {
			return true
		}
		if len(busy) == 5 {
			busy = busy[1:]
		}
		busy = append(busy, fmt.Sprintf("inbox %d outbox %v err %v", s.Inbox, s.Outbox, err))
		return false
	})
	return s
}
