package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
)

// testRuns records a run's start and end and lists runs newest first,
// by kind and in pages.
func testRuns(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sync, err := s.RunStart(ctx, store.Run{Kind: store.RunSync, Platforms: "hubspot", StartedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	apply, err := s.RunStart(ctx, store.Run{Kind: store.RunApply, By: "ada", StartedAt: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunFinish(ctx, sync, t0.Add(30*time.Second), map[string]int{"records": 12}, "woocommerce: 401"); err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(ctx, store.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID != apply || runs[1].ID != sync {
		t.Fatalf("runs = %+v, want the apply then the sync", runs)
	}
	if r := runs[0]; !r.FinishedAt.IsZero() || r.By != "ada" || len(r.Counts) != 0 {
		t.Errorf("the running apply reads %+v", r)
	}
	if r := runs[1]; !r.StartedAt.Equal(t0) || !r.FinishedAt.Equal(t0.Add(30*time.Second)) || r.Counts["records"] != 12 || r.Error != "woocommerce: 401" || r.Platforms != "hubspot" {
		t.Errorf("the finished sync reads %+v", r)
	}
	only, err := s.Runs(ctx, store.RunFilter{Kind: store.RunSync})
	if err != nil || len(only) != 1 || only[0].ID != sync {
		t.Errorf("sync runs = %+v, %v", only, err)
	}
	page, err := s.Runs(ctx, store.RunFilter{BeforeID: apply, Limit: 1})
	if err != nil || len(page) != 1 || page[0].ID != sync {
		t.Errorf("runs before %d = %+v, %v", apply, page, err)
	}
	// Pruning drops finished runs started before the cutoff, never one
	// still running.
	pruned, err := s.Prune(ctx, store.Prune{RunsBefore: t0.Add(time.Hour)})
	if err != nil || pruned.Runs != 1 {
		t.Fatalf("pruning runs: %+v, %v; want the finished sync pruned", pruned, err)
	}
	if left, err := s.Runs(ctx, store.RunFilter{}); err != nil || len(left) != 1 || left[0].ID != apply {
		t.Errorf("runs after pruning: %+v, %v; want the running apply", left, err)
	}
}

// testWebState keeps sessions until they expire, plans by fingerprint
// and segment definitions by name.
func testWebState(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := s.SessionPut(ctx, store.WebSession{Key: "k1", Name: "ada", Role: "admin", CSRF: "c1", Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.SessionPut(ctx, store.WebSession{Key: "k2", Name: "vic", Role: "viewer", CSRF: "c2", Expires: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(ctx, "k1", now)
	if err != nil || got.Name != "ada" || got.Role != "admin" || got.CSRF != "c1" || !got.Expires.Equal(now.Add(time.Hour)) {
		t.Errorf("session k1 = %+v, %v", got, err)
	}
	if _, err := s.Session(ctx, "k2", now.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired session: %v, want not found", err)
	}
	if err := s.SessionDelete(ctx, "k1", now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"k1", "k2"} {
		if _, err := s.Session(ctx, k, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session %s after the delete (and sweep of the expired): %v, want not found", k, err)
		}
	}

	for i, fp := range []string{"aaa", "bbb"} {
		if err := s.PlanPut(ctx, store.SavedPlan{Fingerprint: fp, MadeAt: now.Add(time.Duration(i) * time.Minute), View: []byte(`{"n":1}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PlanPut(ctx, store.SavedPlan{Fingerprint: "aaa", MadeAt: now, View: []byte(`{"n":2}`)}); err != nil {
		t.Fatal(err)
	}
	p, err := s.SavedPlan(ctx, "aaa")
	if err != nil || string(p.View) != `{"n":2}` || !p.MadeAt.Equal(now) {
		t.Errorf("plan aaa = %+v, %v", p, err)
	}
	if _, err := s.SavedPlan(ctx, "zzz"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown plan: %v, want not found", err)
	}
	ps, err := s.SavedPlans(ctx, 10)
	if err != nil || len(ps) != 2 || ps[0].Fingerprint != "bbb" {
		t.Errorf("plans = %+v, %v; want bbb first", ps, err)
	}

	if err := s.DefinitionPut(ctx, store.StoredDefinition{Name: "vip", Definition: []byte(`{"name":"vip"}`), UpdatedAt: now, UpdatedBy: "ada"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DefinitionPut(ctx, store.StoredDefinition{Name: "vip", Definition: []byte(`{"name":"vip","kind":"rule"}`), UpdatedAt: now.Add(time.Minute), UpdatedBy: "bob"}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Definitions(ctx)
	if err != nil || len(ds) != 1 || string(ds[0].Definition) != `{"name":"vip","kind":"rule"}` || ds[0].UpdatedBy != "bob" {
		t.Errorf("definitions = %+v, %v", ds, err)
	}
	if err := s.DefinitionDelete(ctx, "vip"); err != nil {
		t.Fatal(err)
	}
	if ds, err := s.Definitions(ctx); err != nil || len(ds) != 0 {
		t.Errorf("definitions after the delete = %+v, %v", ds, err)
	}
}
