package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/sandbox"
)

// The crash test runs `segments apply` in a child process: the test
// binary re-executes itself with applyChildEnv naming a spec file, and
// TestHelperApplyProcess turns into the apply. Only a separate process
// can be killed without taking the test with it.

const applyChildEnv = "CONNECTOR_APP_TEST_APPLY_CHILD"

// applyChildSpec is what the child applies.
type applyChildSpec struct {
	Config  config.Config
	Secrets []string
	AsOf    time.Time
}

// TestHelperApplyProcess is not a test: it is the child of the crash test.
func TestHelperApplyProcess(t *testing.T) {
	path := os.Getenv(applyChildEnv)
	if path == "" {
		t.Skip("the child of the creation crash test; runs only when re-executed by it")
	}
	if err := runApplyChild(path); err != nil {
		fmt.Fprintln(os.Stderr, "apply child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runApplyChild(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var spec applyChildSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	ctx := context.Background()
	a, err := app.Open(ctx, &config.Loaded{Config: spec.Config, SecretValues: spec.Secrets}, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		return err
	}
	defer a.Close(ctx)
	rep, err := a.ApplyAt(ctx, app.ApplyRequest{AsOf: spec.AsOf})
	if err != nil {
		return err
	}
	return rep.WriteErr
}

// TestCreateSurvivesACrash: a child applying a plan with HubSpot creations
// is killed while its second batch upsert is on the wire (the first was
// answered, nothing was recorded yet); HubSpot still serves that upsert.
// The retry, with the dead child's lease lapsed, upserts the same people
// again and HubSpot finds every contact: no contact is created twice,
// and every RFM member ends up with one contact in their list.
func TestCreateSurvivesACrash(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process mid-apply")
	}
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 400, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	l := createMembersConfig(t, sb)

	// Pull in this process, so the child only plans and applies.
	a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SyncAll(ctx, nil, false); err != nil {
		t.Fatal(err)
	}
	a.Close(ctx)

	dir := t.TempDir()
	b, err := json.Marshal(applyChildSpec{Config: l.Config, Secrets: l.SecretValues, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(spec, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperApplyProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), applyChildEnv+"="+spec)
	cmd.Stderr = &stderr
	// mu guards the counters and the child's process, which the observer
	// (on the fake's goroutines) kills.
	var mu sync.Mutex
	var proc *os.Process
	upserts, killed := 0, false
	sb.Observe(sandbox.HubSpot, func(r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/crm/v3/objects/contacts/batch/upsert" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		upserts++
		if upserts == 2 && !killed {
			// The whole request is here: the fake serves it after the
			// child is gone.
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			_ = proc.Kill()
			killed = true
		}
	})
	mu.Lock()
	if err := cmd.Start(); err != nil {
		mu.Unlock()
		t.Fatal(err)
	}
	proc = cmd.Process
	mu.Unlock()
	err = cmd.Wait()
	sb.Observe(sandbox.HubSpot, nil)
	mu.Lock()
	wasKilled := killed
	mu.Unlock()
	if !wasKilled {
		t.Fatalf("the child was not killed mid-creation (exit %v, %d upserts): %s", err, upserts, stderr.String())
	}
	createdByChild := sb.HubSpotFake.Upserts().Created
	if createdByChild <= 100 {
		t.Fatalf("the killed child's upserts created %d contacts; both batches should have landed", createdByChild)
	}

	// The retry runs with the clock past the dead child's leases.
	later := func() time.Time { return time.Now().Add(5 * time.Minute) }
	a, err = app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{StoreNow: later})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	rep, err := a.ApplyAt(ctx, app.ApplyRequest{AsOf: asOf})
	if err != nil || rep.WriteErr != nil {
		t.Fatal(err, rep.WriteErr)
	}
	for _, pp := range rep.Plan.Platforms {
		if len(pp.Creates) > 0 {
			t.Errorf("the retry planned %d creations on %s: the creations under way were planned again", len(pp.Creates), pp.Platform)
		}
	}
	up := sb.HubSpotFake.Upserts()
	t.Logf("the child created %d contacts before it died; the retry found %d and created %d", createdByChild, up.Updated, up.Created-createdByChild)
	if up.Created != createdByChild {
		t.Errorf("the retry created %d more contacts: duplicates", up.Created-createdByChild)
	}
	if up.Updated != createdByChild {
		t.Errorf("the retry found %d of the %d contacts the child created", up.Updated, createdByChild)
	}
	if n := checkRFMMembersOnHubSpot(t, a, sb.HubSpotFake); n == 0 {
		t.Fatal("no RFM member was checked")
	}
}
