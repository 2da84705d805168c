package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as the connector binary in child
// processes (SEGCONN_TEST_MAIN=1, arguments after "--").
func TestMain(m *testing.M) {
	if os.Getenv("SEGCONN_TEST_MAIN") == "1" {
		args := os.Args
		for i, a := range args {
			if a == "--" {
				os.Args = append([]string{"connector"}, args[i+1:]...)
				break
			}
		}
		main()
		return
	}
	os.Exit(m.Run())
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestRunStopsGracefullyOnSIGTERM starts `connector run` as a child
// process and stops it with SIGTERM: it must exit 0 well within its
// shutdown timeout.
func TestRunStopsGracefullyOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a child process")
	}
	_, cfg := sandboxConfigFile(t, 60)
	addr := freePort(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "run", "-c", cfg, "--set", "server.listen="+addr,
		"--set", "server.shutdown_timeout=10s", "--log-level", "info")
	cmd.Env = append(os.Environ(), "SEGCONN_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	var log []string
	for running := false; !running; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("daemon exited early:\n%s", strings.Join(log, "\n"))
			}
			log = append(log, l)
			running = strings.Contains(l, "connector running")
		case <-deadline:
			t.Fatalf("daemon did not start:\n%s", strings.Join(log, "\n"))
		}
	}
	// Let the first scheduled pulls start, then ask it to stop.
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for l := range lines {
			log = append(log, l)
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon exited with %v after SIGTERM:\n%s", err, strings.Join(log, "\n"))
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("daemon still running 15s after SIGTERM:\n%s", strings.Join(log, "\n"))
	}
	t.Logf("stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(strings.Join(log, "\n"), "shutting down") {
		t.Errorf("no shutdown message in the log:\n%s", strings.Join(log, "\n"))
	}
}
