package app_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/storetest"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// onAllThree finds a profile with a contact on every sandbox platform,
// renames the person on all three to a last name nobody else has (so
// that a search for it finds only them) and pulls the change.
func onAllThree(t *testing.T, sb *sandbox.Sandbox, a *app.App) (domain.Profile, map[string]domain.ExternalRef) {
	t.Helper()
	ctx := context.Background()
	for after := ""; ; {
		ps, err := a.Store.ListProfiles(ctx, after, 200)
		if err != nil || len(ps) == 0 {
			t.Fatalf("no profile on all three platforms (%v)", err)
		}
		after = ps[len(ps)-1].ID
		for _, p := range ps {
			refs := map[string]domain.ExternalRef{}
			for _, r := range p.Refs {
				if r.ObjectType == domain.ObjectContact || r.ObjectType == "lead" {
					refs[r.Platform] = r
				}
			}
			if len(refs) != 3 || p.PrimaryEmail() == "" {
				continue
			}
			const last = "Xanthopoulou"
			sb.HubSpotFake.Update("contacts", refs[sandbox.HubSpot].ID, map[string]string{"lastname": last})
			sb.SalesforceFake.Update(sfObject(refs[sandbox.Salesforce]), refs[sandbox.Salesforce].ID, map[string]any{"LastName": last})
			id, _ := strconv.Atoi(refs[sandbox.WooCommerce].ID)
			sb.WooFake.UpdateCustomer(id, func(c *woocommercefake.Customer) { c.LastName = last; c.Billing.LastName = last })
			time.Sleep(10 * time.Millisecond) // past the search lag
			for _, n := range a.Pipeline.Platforms() {
				if _, err := a.Pipeline.Sync(ctx, n, false); err != nil {
					t.Fatalf("sync %s: %v", n, err)
				}
			}
			p, err := a.Store.Profile(ctx, p.ID)
			if err != nil || p.LastName != last {
				t.Fatalf("profile %s after the rename: %q, %v", p.ID, p.LastName, err)
			}
			return p, refs
		}
	}
}

// TestEraseEverywhere: `privacy erase` on a person present on all three
// fakes removes their email and name from every column of every table,
// deletes them on every platform, records the audit entry with each
// platform's answer, and a later pull of a re-created record or a
// webhook about one does not bring them back.
func TestEraseEverywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against three fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := apptest.StartSandbox(t, 150, now, app.Options{})
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	p, refs := onAllThree(t, sb, env)
	email, last := p.PrimaryEmail(), p.LastName
	if leaks := storetest.Leaks(t, env.Store, email, last); len(leaks) == 0 {
		t.Fatal("the person is nowhere in the database: the search would prove nothing")
	}

	er, err := env.Erase(ctx, email, "dpo@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	if leaks := storetest.Leaks(t, env.Store, email, last); len(leaks) > 0 {
		t.Errorf("after the erasure the database still holds the person:\n%s", strings.Join(leaks, "\n"))
	}
	if er.RequestedBy != "dpo@shop.example" || er.CompletedAt.IsZero() || len(er.Tasks) < 3 {
		t.Errorf("audit entry %+v; want it complete with a task per platform", er)
	}
	for _, tk := range er.Tasks {
		if tk.Status != store.ErasureDone {
			t.Errorf("%s answered %s (%s); want done", tk.Ref.Key(), tk.Status, tk.Answer)
		}
	}
	if _, ok := sb.HubSpotFake.Get("contacts", refs[sandbox.HubSpot].ID); ok {
		t.Error("HubSpot still has the contact")
	}
	if rec := sb.SalesforceFake.Get(sfObject(refs[sandbox.Salesforce]), refs[sandbox.Salesforce].ID); rec != nil && rec["IsDeleted"] != true {
		t.Errorf("Salesforce still has the record: %v", rec["IsDeleted"])
	}
	wooID, _ := strconv.Atoi(refs[sandbox.WooCommerce].ID)
	if _, ok := sb.WooFake.Customer(wooID); ok {
		t.Error("WooCommerce still has the customer")
	}
	if open, _ := env.Erasures(ctx, true, 10); len(open) != 0 {
		t.Errorf("privacy status shows pending erasures: %+v", open)
	}

	// The person signs up again in the shop; a pull and a webhook about
	// the new customer import nothing.
	ids := sb.WooFake.AddCustomers(woocommercefake.Customer{Email: strings.ToUpper(email), FirstName: p.FirstName, LastName: last})
	for _, n := range env.Pipeline.Platforms() {
		if _, err := env.Pipeline.Sync(ctx, n, false); err != nil {
			t.Fatalf("sync %s: %v", n, err)
		}
	}
	ev := adapter.WebhookEvent{ID: "replayed-1", Kind: adapter.ChangeUpsert,
		Ref: domain.ExternalRef{Platform: sandbox.WooCommerce, Account: refs[sandbox.WooCommerce].Account, ObjectType: domain.ObjectContact, ID: strconv.Itoa(ids[0])}}
	if _, err := env.HandleWebhookEvents(ctx, sandbox.WooCommerce, []adapter.WebhookEvent{ev}, nil, now); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.ProfileByEmail(ctx, email); err == nil {
		t.Error("the erased person came back")
	}
	if leaks := storetest.Leaks(t, env.Store, email, last); len(leaks) > 0 {
		t.Errorf("a later pull or webhook stored the erased person again:\n%s", strings.Join(leaks, "\n"))
	}
}

func sfObject(r domain.ExternalRef) string {
	if r.ObjectType == "lead" || strings.HasPrefix(r.ID, "00Q") {
		return "Lead"
	}
	return "Contact"
}

// TestPrivacyDeletionFansOut: HubSpot's privacy deletion of a contact
// erases the person locally and deletes their Salesforce and WooCommerce
// records; with fan-out off those are recorded as skipped.
func TestPrivacyDeletionFansOut(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against three fake platforms")
	}
	for _, off := range []bool{false, true} {
		ctx := context.Background()
		now := time.Now().UTC()
		sb, env, _ := apptest.StartSandbox(t, 150, now, app.Options{NoPrivacyFanOut: off})
		if _, err := env.Cycle(ctx, now, nil); err != nil {
			t.Fatal(err)
		}
		p, refs := onAllThree(t, sb, env)
		hs := refs[sandbox.HubSpot]
		if !sb.HubSpotFake.PrivacyDelete(hs.ID) {
			t.Fatal("HubSpot privacy delete failed")
		}
		ev := adapter.WebhookEvent{ID: "privacy-" + hs.ID, Kind: adapter.ChangeDelete, Ref: hs, Privacy: true}
		if _, err := env.HandleWebhookEvents(ctx, sandbox.HubSpot, []adapter.WebhookEvent{ev}, nil, now); err != nil {
			t.Fatal(err)
		}
		if leaks := storetest.Leaks(t, env.Store, p.PrimaryEmail(), p.LastName); len(leaks) > 0 {
			t.Errorf("fan-out off=%v: the database still holds the person:\n%s", off, strings.Join(leaks, "\n"))
		}
		wooID, _ := strconv.Atoi(refs[sandbox.WooCommerce].ID)
		_, wooHas := sb.WooFake.Customer(wooID)
		if wooHas != off {
			t.Errorf("fan-out off=%v: WooCommerce has the customer: %v", off, wooHas)
		}
		ers, err := env.Erasures(ctx, false, 10)
		if err != nil || len(ers) != 1 {
			t.Fatalf("erasures %+v, %v; want one", ers, err)
		}
		want := store.ErasureDone
		if off {
			want = store.ErasureSkipped
		}
		for _, tk := range ers[0].Tasks {
			if tk.Ref.Platform != sandbox.HubSpot && tk.Status != want {
				t.Errorf("fan-out off=%v: %s is %s (%s); want %s", off, tk.Ref.Key(), tk.Status, tk.Answer, want)
			}
		}
	}
}

// TestErasureRetriesUntilConfirmed: a platform that fails the deletion
// keeps the erasure open (privacy status lists it) until a later retry,
// once due, gets its confirmation.
func TestErasureRetriesUntilConfirmed(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against three fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := apptest.StartSandbox(t, 150, now, app.Options{})
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	p, refs := onAllThree(t, sb, env)
	sb.HubSpotFake.SetRate(1, 0, fakekit.Fault{Status: 503, Path: "gdpr-delete"})
	er, err := env.Erase(ctx, p.ID, "dpo")
	if err != nil {
		t.Fatal(err)
	}
	open, _ := env.Erasures(ctx, true, 10)
	if len(open) != 1 || open[0].ID != er.ID {
		t.Fatalf("open erasures %+v; want this one while HubSpot fails", open)
	}
	for _, tk := range er.Tasks {
		want := store.ErasureDone
		if tk.Ref.Platform == sandbox.HubSpot {
			want = store.ErasurePending
		}
		if tk.Status != want {
			t.Errorf("%s is %s (%s); want %s", tk.Ref.Key(), tk.Status, tk.Answer, want)
		}
	}
	// Not due yet: nothing is sent.
	if n, err := env.RetryErasures(ctx, time.Now()); err != nil || n != 0 {
		t.Errorf("an early retry settled %d, %v", n, err)
	}
	sb.HubSpotFake.Clear()
	if n, err := env.RetryErasures(ctx, time.Now().Add(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("the due retry settled %d, %v; want HubSpot's deletion", n, err)
	}
	if _, ok := sb.HubSpotFake.Get("contacts", refs[sandbox.HubSpot].ID); ok {
		t.Error("HubSpot still has the contact")
	}
	if open, _ := env.Erasures(ctx, true, 10); len(open) != 0 {
		t.Errorf("open erasures after HubSpot confirmed: %+v", open)
	}
}
