package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestSteadyPlanReadsOnlyTheChangedProfiles: after a full cycle, a day's
// changes on the platforms (new orders, a lifecycle stage moved, a
// contact archived, two contacts merged) are pulled, HubSpot's by a full
// re-read of every contact. The next plan reads only the profiles they
// touched, and the write-back ownership of a fifth of the records at
// most (those whose desired state moved), yet equals, membership for
// membership and write-back item for item, the plan of a new pipeline
// that reads everything.
func TestSteadyPlanReadsOnlyTheChangedProfiles(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := startSandbox(t, 300, now)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	if st := env.Pipeline.LastLoad(); !st.Full || st.Profiles == 0 {
		t.Fatalf("the first plan's load: %+v, want every profile read", st)
	}
	// The cycle's write-back comes back as a sync's worth of echoes first.
	for _, p := range env.Pipeline.Platforms() {
		if _, err := env.Pipeline.Sync(ctx, p, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Pipeline.Plan(ctx, now); err != nil {
		t.Fatal(err)
	}
	echoes := env.Pipeline.LastLoad()
	t.Logf("after the echoes of the first write-back: %+v", echoes)

	ids := sb.WooFake.CustomerIDs()
	for i := 0; i < 8; i++ {
		c, _ := sb.WooFake.Customer(ids[(i*13)%len(ids)])
		sb.NewWooOrder(c.ID, c.Email, []domain.LineItem{{SKU: "W", Name: "w", Category: "garden", Quantity: 3,
			UnitPrice: domain.Money{Amount: 900_00, Currency: "USD"}}}, "mobile")
	}
	hs := sb.Data.HubSpot.Contacts
	if !sb.HubSpotFake.Update("contacts", hs[3].Ref.ID, map[string]string{"lifecyclestage": "evangelist"}) {
		t.Fatal("the HubSpot fake refused an update")
	}
	if !sb.HubSpotFake.Archive("contacts", hs[5].Ref.ID) {
		t.Fatal("the HubSpot fake refused an archive")
	}
	if !sb.HubSpotFake.Merge("contacts", hs[7].Ref.ID, hs[9].Ref.ID) {
		t.Fatal("the HubSpot fake refused a merge")
	}
	// HubSpot is read whole again: what did not change must not count.
	for _, p := range env.Pipeline.Platforms() {
		st, err := env.Pipeline.Sync(ctx, p, p == sandbox.HubSpot)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d pages, records %v, %d deleted, %d profiles touched", p, st.Pages, st.Records, st.Deleted, len(st.Touched))
	}
	warm, err := env.Pipeline.Plan(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	st := env.Pipeline.LastLoad()
	t.Logf("after a day's changes: %+v", st)
	if st.Full || st.Read == 0 || st.Read > 24 {
		t.Errorf("the steady-state plan read %d of %d profiles (whole: %v); want only the dozen or so the changes touched", st.Read, st.Profiles, st.Full)
	}

	var platforms []*pipeline.Platform
	for _, name := range env.Pipeline.Platforms() {
		pl, err := env.Pipeline.Platform(name)
		if err != nil {
			t.Fatal(err)
		}
		platforms = append(platforms, pl)
	}
	cold := pipeline.New(pipeline.Options{Store: env.Store, Engine: env.Engine, Platforms: platforms, Currency: env.Currency()})
	want, err := cold.Plan(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	cst := cold.LastLoad()
	if !cst.Full || cst.Saved != cst.Profiles {
		t.Fatalf("a new pipeline's first load: %+v, want every profile from its saved input", cst)
	}
	t.Logf("a new pipeline: %+v", cst)
	if st.OwnershipRead*5 > cst.OwnershipRead {
		t.Errorf("the steady-state plan read the ownership of %d records, a new pipeline's %d; want a few, those the changes touched", st.OwnershipRead, cst.OwnershipRead)
	}
	w, c := env.Pipeline.LastResult(), cold.LastResult()
	if w.Len() != c.Len() {
		t.Fatalf("the patched input has %d customers, a full load %d", w.Len(), c.Len())
	}
	for i := range w.Len() {
		if w.Dataset.Customers[i].ID != c.Dataset.Customers[i].ID {
			t.Fatalf("customer %d is %s in the patched input, %s in a full load", i, w.Dataset.Customers[i].ID, c.Dataset.Customers[i].ID)
		}
		if !slices.Equal(w.Memberships(i), c.Memberships(i)) {
			t.Errorf("%s: memberships %v patched, %v from a full load", c.Dataset.Customers[i].ID, w.Memberships(i), c.Memberships(i))
		}
	}
	if warm.Fingerprint != want.Fingerprint || len(warm.Memberships) != len(want.Memberships) {
		t.Errorf("the patched plan (%d membership changes, %s) differs from a full load's (%d, %s)",
			len(warm.Memberships), warm.Fingerprint, len(want.Memberships), want.Fingerprint)
	}
	if len(warm.Memberships) == 0 {
		t.Error("a day's changes moved no one between segments; the comparison shows nothing")
	}

	// Without saved inputs a new pipeline converts every profile again,
	// and plans the same.
	if _, err := env.Store.Database().SQL.ExecContext(ctx, `DELETE FROM segment_inputs`); err != nil {
		t.Fatal(err)
	}
	fresh := pipeline.New(pipeline.Options{Store: env.Store, Engine: env.Engine, Platforms: platforms, Currency: env.Currency()})
	again, err := fresh.Plan(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if fst := fresh.LastLoad(); !fst.Full || fst.Saved != 0 || fst.Profiles != cst.Profiles {
		t.Fatalf("a new pipeline without saved inputs: %+v", fst)
	}
	if again.Fingerprint != want.Fingerprint || len(again.Memberships) != len(want.Memberships) {
		t.Errorf("the plan from saved inputs (%d membership changes, %s) differs from one converting every profile (%d, %s)",
			len(want.Memberships), want.Fingerprint, len(again.Memberships), again.Fingerprint)
	}
}
