package pluginhost_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/segconn/connector/internal/pluginhost"
)

// misbehaveBin is the test plugin, built once by TestMain.
var misbehaveBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pluginhost-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	misbehaveBin = filepath.Join(dir, "misbehave")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", misbehaveBin, "./testdata/misbehave")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the test plugin: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// spec returns a pinned spec for the test plugin.
func spec(t testing.TB, name string) pluginhost.Spec {
	t.Helper()
	sum, err := pluginhost.FileSHA256(misbehaveBin)
	if err != nil {
		t.Fatal(err)
	}
	return pluginhost.Spec{Name: name, Path: misbehaveBin, SHA256: sum}
}
