package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
)

// TestWritebackFailedAndRetry parks a refused write-back item, lists it
// with `writeback failed` and requeues it with `writeback retry`.
func TestWritebackFailedAndRetry(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "c.db")
	st, err := sqlite.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := "hubspot/1/contact/501"
	if err := st.OutboxEnqueue(ctx, []store.OutboxItem{{Platform: "hubspot", Account: "1", Key: key, Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.OutboxClaim(ctx, "hubspot", "1", 10, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %d items", err, len(claimed))
	}
	if err := st.OutboxFailed(ctx, claimed[0].ID, "VALIDATION_ERROR: Property values were not valid", true, time.Time{}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	id := strconv.FormatInt(claimed[0].ID, 10)

	cfg := writeConfig(t, "store: {driver: sqlite, path: "+dbPath+"}\n")
	code, out, errOut := runCLI(t, nil, "writeback", "failed", "-c", cfg)
	if code != exitOK {
		t.Fatalf("writeback failed: exit %d: %s", code, errOut)
	}
	for _, want := range []string{id, "hubspot", "contact/501", "VALIDATION_ERROR: Property values were not valid", time.Now().UTC().Format("2006-01-02")} {
		if !strings.Contains(out, want) {
			t.Errorf("writeback failed lacks %q:\n%s", want, out)
		}
	}
	if code, _, errOut := runCLI(t, nil, "writeback", "retry", "-c", cfg); code != exitUsage || !strings.Contains(errOut, "--all") {
		t.Errorf("retry without ids or --all: exit %d, %q; want a usage error", code, errOut)
	}
	if code, _, errOut := runCLI(t, nil, "writeback", "retry", "999", "-c", cfg); code != exitError || !strings.Contains(errOut, "999") {
		t.Errorf("retry of an unknown id: exit %d, %q; want an error naming it", code, errOut)
	}
	code, out, errOut = runCLI(t, nil, "writeback", "retry", id, "-c", cfg, "-o", "json")
	if code != exitOK {
		t.Fatalf("writeback retry: exit %d: %s", code, errOut)
	}
	var rep app.RetryReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Requeued != 1 {
		t.Fatalf("retry answered %q (%v); want 1 requeued", out, err)
	}
	if code, out, _ := runCLI(t, nil, "writeback", "failed", "-c", cfg); code != exitOK || !strings.Contains(out, "no failed write-back items") {
		t.Fatalf("after retry: exit %d:\n%s", code, out)
	}
	st, err = sqlite.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	again, err := st.OutboxClaim(ctx, "hubspot", "1", 10, time.Minute)
	if err != nil || len(again) != 1 || again[0].ID != claimed[0].ID {
		t.Fatalf("after retry the item is not due: %v, %+v", err, again)
	}
}
