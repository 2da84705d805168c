package app_test

import (
	"context"
	"testing"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/store"
)

// TestRunsAreRecorded: a sync, a full cycle, a plan and an apply each
// leave one finished run in the store's history, newest first, with
// their counts, who asked, and a failed sync's error.
func TestRunsAreRecorded(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs and cycles against three fake platforms")
	}
	ctx := context.Background()
	_, env, _ := startSandbox(t, 20, asOf)
	if _, err := env.Sync(ctx, "hubspot", false); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Cycle(ctx, asOf, nil); err != nil {
		t.Fatal(err)
	}
	byAda := app.WithRunBy(ctx, "ada")
	p, err := env.Plan(byAda, asOf.AddDate(0, 0, 60))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.ApplyAt(byAda, app.ApplyRequest{AsOf: p.AsOf, Fingerprint: p.Fingerprint}); err != nil {
		t.Fatal(err)
	}
	// A failing sync records its error.
	if _, err := env.Sync(ctx, "nowhere", false); err == nil {
		t.Fatal("a sync of a platform that is not configured succeeded")
	}

	runs, err := env.Runs(ctx, store.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range runs {
		kinds = append(kinds, r.Kind)
		if r.FinishedAt.IsZero() || r.FinishedAt.Before(r.StartedAt) {
			t.Errorf("run %d (%s) started %v, finished %v", r.ID, r.Kind, r.StartedAt, r.FinishedAt)
		}
	}
	want := []string{store.RunSync, store.RunApply, store.RunPlan, store.RunCycle, store.RunSync}
	if len(kinds) != len(want) {
		t.Fatalf("runs %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("runs %v, want %v", kinds, want)
		}
	}
	failed, apply, plan, cycle, first := runs[0], runs[1], runs[2], runs[3], runs[4]
	if failed.Error == "" || failed.Platforms != "nowhere" {
		t.Errorf("the failed sync's run: %+v", failed)
	}
	if first.Platforms != "hubspot" || first.Counts["records"] == 0 || first.Error != "" {
		t.Errorf("the first sync's run: %+v", first)
	}
	if cycle.Counts["profiles"] != 20 || cycle.Counts["changes"] == 0 || cycle.Counts["written"] == 0 || cycle.By != "" {
		t.Errorf("the cycle's run: %+v", cycle)
	}
	if plan.By != "ada" || plan.Counts["changes"] != len(p.Memberships) || plan.Counts["written"] != 0 {
		t.Errorf("the plan's run: %+v (plan changes %d)", plan, len(p.Memberships))
	}
	if apply.By != "ada" || apply.Counts["changes"] != len(p.Memberships) {
		t.Errorf("the apply's run: %+v", apply)
	}
}
