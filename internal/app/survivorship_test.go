package app_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
)

// TestOwnWritesAreNotNews runs one full cycle against the sandbox (pull,
// plan, apply, write-back to all three platforms), then pulls again with
// no human change. The re-read records differ from what the store holds
// only by the connector's own writes and the platforms' modification
// stamps, so no profile may change and the next plan must be empty, on
// every platform.
func TestOwnWritesAreNotNews(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against three fake platforms")
	}
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 1000, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	// Read HubSpot's writes back at once instead of a search lag later.
	l.Platforms[sandbox.HubSpot]["search_lag"] = "1ms"
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	env, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close(context.Background()) })
	rep, err := env.Cycle(ctx, asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	for p, e := range rep.PushErrors {
		t.Fatalf("push %s: %s", p, e)
	}
	written := 0
	for _, w := range rep.Written {
		written += w.OK
	}
	if rep.Changes == 0 || written == 0 {
		t.Fatalf("the first cycle wrote nothing (%d changes, %d written): the test would prove nothing", rep.Changes, written)
	}
	before := stages(t, env)
	time.Sleep(10 * time.Millisecond) // past the search lag
	for _, n := range env.Pipeline.Platforms() {
		st, err := env.Pipeline.Sync(ctx, n, false)
		if err != nil {
			t.Fatalf("sync %s: %v", n, err)
		}
		t.Logf("re-pulled %s: %v records, %d profiles touched", n, st.Records, len(st.Touched))
	}
	after := stages(t, env)
	moved := 0
	for id, s := range before {
		if after[id] != s {
			moved++
			if moved <= 5 {
				t.Errorf("profile %s: lifecycle stage %q became %q after the connector's own writes came back", id, s, after[id])
			}
		}
	}
	if moved > 0 {
		t.Errorf("%d profiles changed lifecycle stage with no human change", moved)
	}
	plan, err := env.Pipeline.Plan(ctx, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Memberships) != 0 {
		t.Errorf("plan after apply+sync has %d membership changes, want 0 (first: %+v)", len(plan.Memberships), plan.Memberships[0])
	}
	for _, pp := range plan.Platforms {
		if len(pp.Items) != 0 {
			t.Errorf("%s: plan after apply+sync writes %d records, want 0", pp.Platform, len(pp.Items))
		}
	}
}

func stages(t *testing.T, env *app.App) map[string]string {
	t.Helper()
	out := map[string]string{}
	after := ""
	for {
		ps, err := env.Store.ListProfiles(context.Background(), after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 {
			return out
		}
		after = ps[len(ps)-1].ID
		for _, p := range ps {
			out[p.ID] = p.LifecycleStage
		}
	}
}

// TestBuyersKeepCRMFirmographics syncs the sandbox and checks that every
// shop buyer whose CRM record points at a company with a head count still
// has that head count on their profile: the shop's billing company (a
// name and a country) merges into the CRM company rather than replacing
// it.
func TestBuyersKeepCRMFirmographics(t *testing.T) {
	if testing.Short() {
		t.Skip("sync of three fake platforms")
	}
	ctx := context.Background()
	sb, env, _ := startSandbox(t, 1000, asOf)
	for _, n := range env.Pipeline.Platforms() {
		if _, err := env.Pipeline.Sync(ctx, n, false); err != nil {
			t.Fatalf("sync %s: %v", n, err)
		}
	}
	ds := sb.Data
	buyers, kept := 0, 0
	for _, per := range ds.People {
		crm := per.InHubSpot || (per.InSalesforce && per.Kind != sandbox.KindLead)
		if !per.InWooCommerce || per.Purchases == 0 || per.Company < 0 || !crm || ds.Companies[per.Company].Employees <= 0 {
			continue
		}
		p, err := env.Store.ProfileByEmail(ctx, per.Email)
		if err != nil {
			t.Fatalf("profile of %s: %v", per.Email, err)
		}
		os, err := env.Store.Orders(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(os) == 0 {
			continue
		}
		buyers++
		if p.Company != nil && p.Company.Employees > 0 {
			kept++
		} else if buyers-kept <= 3 {
			t.Errorf("%s: profile company %+v lost the CRM head count %d (sources %v)", per.Email, p.Company, ds.Companies[per.Company].Employees, p.Sources)
		}
	}
	t.Logf("buyers with CRM firmographics: %d; with employees > 0 on the profile: %d", buyers, kept)
	if buyers < 20 {
		t.Fatalf("only %d buyers with CRM firmographics: the test looks at too few", buyers)
	}
	if kept != buyers {
		t.Errorf("%d of %d buyers with CRM firmographics match employees > 0", kept, buyers)
	}
}

// TestSurvivorshipPolicyFromConfig configures HubSpot first for the
// lifecycle stage and checks that every profile with a HubSpot stage
// takes it, though Salesforce's records are as new.
func TestSurvivorshipPolicyFromConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("sync of three fake platforms")
	}
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 300, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	l.Identity.Survivorship = map[string]any{"lifecycle_stage": []any{sandbox.HubSpot, sandbox.Salesforce}}
	env, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close(context.Background()) })
	for _, n := range env.Pipeline.Platforms() {
		if _, err := env.Pipeline.Sync(ctx, n, false); err != nil {
			t.Fatalf("sync %s: %v", n, err)
		}
	}
	both, fromHubSpot := 0, 0
	after := ""
	for {
		ps, err := env.Store.ListProfiles(ctx, after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 {
			break
		}
		after = ps[len(ps)-1].ID
		for _, p := range ps {
			var hs, sf bool
			for _, r := range p.Refs {
				hs = hs || r.Platform == sandbox.HubSpot && r.ObjectType == "contact"
				sf = sf || r.Platform == sandbox.Salesforce
			}
			if !hs || !sf {
				continue
			}
			both++
			if strings.HasPrefix(p.Sources["lifecycle_stage"], sandbox.HubSpot+"/") {
				fromHubSpot++
			}
		}
	}
	if both < 10 || fromHubSpot != both {
		t.Errorf("%d of %d profiles in both CRMs take HubSpot's lifecycle stage; want all (and at least 10)", fromHubSpot, both)
	}
}
