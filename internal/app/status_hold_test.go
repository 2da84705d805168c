package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
)

// TestStatusReportsHeldAndFailedWriteback: the status names the platforms
// write-back waits for and says when items failed for good.
func TestStatusReportsHeldAndFailedWriteback(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	_, env, _ := startSandbox(t, 30, now)
	s, err := env.Status(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.AwaitingFirstPull) != 3 || !strings.Contains(strings.Join(s.Warnings, "\n"), "held until the first pull") {
		t.Fatalf("before any pull: awaiting %v, warnings %v", s.AwaitingFirstPull, s.Warnings)
	}
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.OutboxEnqueue(ctx, []store.OutboxItem{{Platform: "hubspot", Key: "k", Payload: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	c, err := env.Store.OutboxClaim(ctx, "hubspot", "", 10, time.Minute)
	if err != nil || len(c) != 1 {
		t.Fatalf("claim: %v %d", err, len(c))
	}
	if err := env.Store.OutboxFailed(ctx, c[0].ID, "refused", true, time.Time{}); err != nil {
		t.Fatal(err)
	}
	s, err = env.Status(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.AwaitingFirstPull) != 0 || !strings.Contains(strings.Join(s.Warnings, "\n"), "1 items failed for good") {
		t.Fatalf("after a cycle and one refused item: awaiting %v, warnings %v", s.AwaitingFirstPull, s.Warnings)
	}
}
