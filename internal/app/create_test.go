package app_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/domain"
)

const upsertEndpoint = "POST /crm/v3/objects/contacts/batch/upsert"

// createMembersConfig is the sandbox's configuration with the default
// segments, RFM's write-back to HubSpot creating a contact for every
// member who has none.
func createMembersConfig(t testing.TB, sb *sandbox.Sandbox) *config.Loaded {
	t.Helper()
	l := sb.ConnectorConfig(t.TempDir())
	for _, s := range app.DefaultSegments(sandbox.Platforms) {
		def := s.(map[string]any)
		if def["name"] == "rfm" {
			def["writeback"].(map[string]any)[sandbox.HubSpot].(map[string]any)["create"] = "members"
		}
		l.Segments = append(l.Segments, def)
	}
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	return l
}

// rfmLists maps each RFM segment to the name of its HubSpot list.
func rfmLists(a *app.App) map[string]string {
	out := map[string]string{}
	for _, s := range a.Pipeline.LastResult().Segments {
		if s.Definition == "rfm" && s.Group != "" {
			out[s.Name] = "rfm " + s.Group
		}
	}
	return out
}

// checkRFMMembersOnHubSpot checks that every member of an RFM segment who
// accepts marketing email has exactly one HubSpot contact, linked to
// their profile, in their segment's list, and returns how many there are.
func checkRFMMembersOnHubSpot(t *testing.T, a *app.App, fake *hubspotfake.Fake) int {
	t.Helper()
	ctx := context.Background()
	lists := rfmLists(a)
	checked := 0
	for seg, name := range lists {
		ms, err := a.Store.SegmentMembers(ctx, seg)
		if err != nil {
			t.Fatal(err)
		}
		listID, ok := fake.ListID(name)
		if !ok && len(ms) > 0 {
			t.Fatalf("HubSpot has no list %q for %d members of %s", name, len(ms), seg)
		}
		inList := map[string]bool{}
		for _, id := range fake.ListMembers(listID) {
			inList[id] = true
		}
		for _, m := range ms {
			if m.Control {
				continue
			}
			p, err := a.Store.Profile(ctx, m.ProfileID)
			if err != nil {
				t.Fatal(err)
			}
			if pipeline.OptedOut(&p) {
				continue
			}
			var hs []string
			for _, r := range p.Refs {
				if r.Platform == sandbox.HubSpot && r.ObjectType == domain.ObjectContact {
					hs = append(hs, r.ID)
				}
			}
			if len(hs) != 1 {
				t.Fatalf("%s member %s has %d HubSpot contacts linked (%v)", seg, p.ID, len(hs), hs)
			}
			if ids := fake.FindByProperty("contacts", "email", p.PrimaryEmail()); len(ids) != 1 {
				t.Fatalf("HubSpot holds %d contacts for %s's email (%v): a duplicate", len(ids), p.ID, ids)
			}
			if !inList[hs[0]] {
				t.Fatalf("%s member %s (HubSpot %s) is not in list %q", seg, p.ID, hs[0], name)
			}
			checked++
		}
	}
	return checked
}

// TestCreateMembersReachesEveryRFMMember: with `create: members` for RFM
// on HubSpot, apply creates a contact for each RFM member HubSpot lacks,
// in exactly the calls the plan counted, after which every member has a
// HubSpot contact in their list; a second apply creates nothing.
func TestCreateMembersReachesEveryRFMMember(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end creation against the fake platforms")
	}
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 400, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	l := createMembersConfig(t, sb)
	l.Platforms[sandbox.HubSpot]["archived_sweep"] = "0s" // every pull sees deletions
	a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	if _, err := a.SyncAll(ctx, nil, false); err != nil {
		t.Fatal(err)
	}
	fake := sb.HubSpotFake
	contactsBefore := fake.Count("contacts")
	plan, err := a.Plan(ctx, asOf)
	if err != nil {
		t.Fatal(err)
	}
	var hs pipeline.PlatformPlan
	for _, pp := range plan.Platforms {
		if pp.Platform == sandbox.HubSpot {
			hs = pp
		} else if len(pp.Creates) > 0 {
			t.Errorf("%s: %d creations planned, none configured", pp.Platform, len(pp.Creates))
		}
	}
	if len(hs.Creates) <= 100 {
		t.Fatalf("the plan creates %d HubSpot contacts; the test needs more than one batch", len(hs.Creates))
	}
	if err := a.Pipeline.EnsureTargets(ctx, plan); err != nil {
		t.Fatal(err)
	}
	before := totalCalls(fake.Calls())
	upserts := fake.CallCount(upsertEndpoint)
	if err := a.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	st, err := a.Pipeline.Drain(ctx, sandbox.HubSpot)
	if err != nil {
		t.Fatal(err)
	}
	made := totalCalls(fake.Calls()) - before
	upsertCalls := fake.CallCount(upsertEndpoint) - upserts
	t.Logf("planned %d creations in %d calls (and %d other write-back calls); made %d upserts, %d calls in all; %d created",
		len(hs.Creates), hs.CreateCalls, hs.Calls, upsertCalls, made, st.Created)
	if made != hs.Calls+hs.CreateCalls {
		t.Errorf("apply made %d HubSpot calls; the plan counted %d for write-back and %d for creations", made, hs.Calls, hs.CreateCalls)
	}
	if want := (len(hs.Creates) + 99) / 100; upsertCalls != want {
		t.Errorf("apply made %d batch upserts for %d creations, want %d", upsertCalls, len(hs.Creates), want)
	}
	if got := fake.Count("contacts") - contactsBefore; got != len(hs.Creates) || st.Created != len(hs.Creates) {
		t.Errorf("HubSpot gained %d contacts (%d reported created) for %d planned creations", got, st.Created, len(hs.Creates))
	}
	if n := checkRFMMembersOnHubSpot(t, a, fake); n == 0 {
		t.Fatal("no RFM member was checked")
	}

	// A second apply finds every record and creates nothing.
	created := fake.Upserts().Created
	again, err := a.ApplyAt(ctx, app.ApplyRequest{AsOf: asOf})
	if err != nil || again.WriteErr != nil {
		t.Fatal(err, again.WriteErr)
	}
	for _, pp := range again.Plan.Platforms {
		if len(pp.Creates) > 0 {
			t.Errorf("the second plan creates %d records on %s", len(pp.Creates), pp.Platform)
		}
	}
	if got := fake.Upserts().Created; got != created {
		t.Errorf("the second apply created %d more HubSpot contacts", got-created)
	}
	checkRFMMembersOnHubSpot(t, a, fake)

	// Someone deletes one of the created contacts in HubSpot: the next
	// pull sees it gone, and no plan creates it again.
	gone := hs.Creates[0]
	ids := fake.FindByProperty("contacts", "email", gone.Email)
	if len(ids) != 1 || !fake.Archive("contacts", ids[0]) {
		t.Fatalf("cannot delete the contact created for %s (%v)", gone.ProfileID, ids)
	}
	if _, err := a.SyncAll(ctx, []string{sandbox.HubSpot}, false); err != nil {
		t.Fatal(err)
	}
	after, err := a.Plan(ctx, asOf)
	if err != nil {
		t.Fatal(err)
	}

	for _, pp := range after.Platforms {
		for _, c := range pp.Creates {
			if c.ProfileID == gone.ProfileID {
				t.Fatalf("a contact deleted in %s by hand is planned to be created again", pp.Platform)
			}
		}
	}
}

// TestCreatePlanRespectsTheCap: a marketing-contacts cap below what the
// segments ask for creates only up to it and warns in the plan.
func TestCreatePlanRespectsTheCap(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end creation against the fake platforms")
	}
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 150, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	l := createMembersConfig(t, sb)
	l.Platforms[sandbox.HubSpot]["marketing_contacts_cap"] = 10
	a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	if _, err := a.SyncAll(ctx, nil, false); err != nil {
		t.Fatal(err)
	}
	rep, err := a.ApplyAt(ctx, app.ApplyRequest{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	for _, pp := range rep.Plan.Platforms {
		if pp.Platform != sandbox.HubSpot {
			continue
		}
		if len(pp.Creates) != 10 || len(pp.Warnings) != 1 || !strings.Contains(pp.Warnings[0], "the cap of 10 leaves room for 10") {
			t.Fatalf("plan creates %d with warnings %q; want 10 and a warning about the cap", len(pp.Creates), pp.Warnings)
		}
	}
	if got := sb.HubSpotFake.Upserts().Created; got != 10 {
		t.Fatalf("apply created %d HubSpot contacts under a cap of 10", got)
	}
	// The next plan has no room left.
	plan, err := a.Plan(ctx, asOf.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, pp := range plan.Platforms {
		if pp.Platform == sandbox.HubSpot && len(pp.Creates) != 0 {
			t.Fatalf("the cap is reached, yet the next plan creates %d", len(pp.Creates))
		}
	}
}

// TestCreateOnSalesforceUpsertsByExternalID: with `create: members` for
// RFM on Salesforce, each member the org lacks gets one Contact, upserted
// by the connector's external id and linked to the profile; a member the
// org already has under a Contact the last pull did not see is blocked
// by the duplicate rule, and that Contact is adopted instead of a second
// one made; a second apply creates nothing.
func TestCreateOnSalesforceUpsertsByExternalID(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end creation against the fake platforms")
	}
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 150, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	l := sb.ConnectorConfig(t.TempDir())
	for _, s := range app.DefaultSegments(sandbox.Platforms) {
		def := s.(map[string]any)
		if def["name"] == "rfm" {
			def["writeback"].(map[string]any)[sandbox.Salesforce].(map[string]any)["create"] = "members"
		}
		l.Segments = append(l.Segments, def)
	}
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	if _, err := a.SyncAll(ctx, nil, false); err != nil {
		t.Fatal(err)
	}
	plan, err := a.Plan(ctx, asOf)
	if err != nil {
		t.Fatal(err)
	}
	var sf pipeline.PlatformPlan
	for _, pp := range plan.Platforms {
		if pp.Platform == sandbox.Salesforce {
			sf = pp
		}
	}
	if len(sf.Creates) < 2 {
		t.Fatalf("the plan creates %d Salesforce contacts; the test needs some", len(sf.Creates))
	}
	// Someone adds one of them by hand after the pull; the org's
	// duplicate rule blocks a second Contact with that email.
	dup := sf.Creates[0]
	handID := sb.SalesforceFake.Insert("Contact", map[string]any{"LastName": "Byhand", "Email": dup.Email})
	sb.SalesforceFake.BlockDuplicates("Contact")

	calls := sb.SalesforceFake.Calls()
	rep, err := a.ApplyAt(ctx, app.ApplyRequest{AsOf: asOf})
	if err != nil || rep.WriteErr != nil {
		t.Fatal(err, rep.WriteErr)
	}
	up := sb.SalesforceFake.Upserts()
	t.Logf("%d creations planned: %d created, %d blocked as duplicates", len(sf.Creates), up.Created, up.Blocked)
	if up.Created != len(sf.Creates)-1 || up.Blocked != 1 {
		t.Fatalf("upserts created %d and were blocked %d times for %d creations with one duplicate", up.Created, up.Blocked, len(sf.Creates))
	}
	after := sb.SalesforceFake.Calls()
	upserts := after["PATCH /sobjects/Contact/Connector_Profile_Id__c/{value}"] - calls["PATCH /sobjects/Contact/Connector_Profile_Id__c/{value}"]
	if upserts != len(sf.Creates) {
		t.Errorf("%d upserts for %d creations", upserts, len(sf.Creates))
	}
	byEmail := map[string][]string{}
	for _, r := range sb.SalesforceFake.Records("Contact") {
		if e, _ := r["Email"].(string); e != "" {
			byEmail[strings.ToLower(e)] = append(byEmail[strings.ToLower(e)], r["Id"].(string))
		}
	}
	for _, c := range sf.Creates {
		ids := byEmail[c.Email]
		if len(ids) != 1 {
			t.Fatalf("the org holds %d Contacts for a created person (%v)", len(ids), ids)
		}
		got := sb.SalesforceFake.Get("Contact", ids[0])
		if got["Connector_Profile_Id__c"] != c.ProfileID {
			t.Errorf("Contact %s holds external id %v, want the profile id %s", ids[0], got["Connector_Profile_Id__c"], c.ProfileID)
		}
		p, err := a.Store.Profile(ctx, c.ProfileID)
		if err != nil {
			t.Fatal(err)
		}
		linked := false
		for _, r := range p.Refs {
			linked = linked || (r.Platform == sandbox.Salesforce && r.ID == ids[0])
		}
		if !linked {
			t.Errorf("profile %s is not linked to its Contact %s", c.ProfileID, ids[0])
		}
	}
	if byEmail[dup.Email][0] != handID {
		t.Errorf("the duplicate's Contact is %v, want the one added by hand (%s)", byEmail[dup.Email], handID)
	}
	again, err := a.ApplyAt(ctx, app.ApplyRequest{AsOf: asOf})
	if err != nil || again.WriteErr != nil {
		t.Fatal(err, again.WriteErr)
	}
	if got := sb.SalesforceFake.Upserts(); got.Created != up.Created || got.Blocked != up.Blocked {
		t.Errorf("the second apply upserted again: %+v after %+v", got, up)
	}
}

// TestCreateOnWooCommerceOnlyWhenAllowed: creating customers on
// WooCommerce registers accounts, so a segment asking for it gets a
// warning and nothing until create.allow is on; then each member the
// shop lacks is registered once, and one the shop already has under
// their email (registered after the last pull) is found, not registered
// twice.
func TestCreateOnWooCommerceOnlyWhenAllowed(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end creation against the fake platforms")
	}
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 150, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	open := func(allow bool) *app.App {
		l := sb.ConnectorConfig(t.TempDir())
		for _, s := range app.DefaultSegments(sandbox.Platforms) {
			def := s.(map[string]any)
			if def["name"] == "rfm" {
				def["writeback"].(map[string]any)[sandbox.WooCommerce].(map[string]any)["create"] = "members"
			}
			l.Segments = append(l.Segments, def)
		}
		if allow {
			l.Platforms[sandbox.WooCommerce]["create"] = map[string]any{"allow": true}
		}
		if err := apptest.PrepareSandbox(sb, l); err != nil {
			t.Fatal(err)
		}
		a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close(ctx) })
		if _, err := a.SyncAll(ctx, nil, false); err != nil {
			t.Fatal(err)
		}
		return a
	}
	wooPlan := func(a *app.App) pipeline.PlatformPlan {
		plan, err := a.Plan(ctx, asOf)
		if err != nil {
			t.Fatal(err)
		}
		for _, pp := range plan.Platforms {
			if pp.Platform == sandbox.WooCommerce {
				return pp
			}
		}
		t.Fatal("no WooCommerce plan")
		return pipeline.PlatformPlan{}
	}
	if pp := wooPlan(open(false)); len(pp.Creates) != 0 || len(pp.Warnings) != 1 || !strings.Contains(pp.Warnings[0], "does not allow") {
		t.Fatalf("without create.allow the plan creates %d customers, warnings %q", len(pp.Creates), pp.Warnings)
	}
	a := open(true)
	pp := wooPlan(a)
	if len(pp.Creates) < 2 {
		t.Fatalf("the plan creates %d WooCommerce customers; the test needs some", len(pp.Creates))
	}
	before := len(sb.WooFake.CustomerIDs())
	hand := sb.WooFake.AddCustomers(woocommercefake.Customer{Email: pp.Creates[0].Email, FirstName: "By", LastName: "Hand", Role: "customer"})
	rep, err := a.ApplyAt(ctx, app.ApplyRequest{AsOf: asOf})
	if err != nil || rep.WriteErr != nil {
		t.Fatal(err, rep.WriteErr)
	}
	if got := len(sb.WooFake.CustomerIDs()) - before; got != len(pp.Creates) {
		t.Fatalf("the shop gained %d customers (one by hand) for %d creations", got, len(pp.Creates))
	}
	p, err := a.Store.Profile(ctx, pp.Creates[0].ProfileID)
	if err != nil {
		t.Fatal(err)
	}
	linked := false
	for _, r := range p.Refs {
		linked = linked || (r.Platform == sandbox.WooCommerce && r.ID == strconv.Itoa(hand[0]))
	}
	if !linked {
		t.Errorf("the profile is not linked to the customer registered by hand (%d): %v", hand[0], p.Refs)
	}
	n := len(sb.WooFake.CustomerIDs())
	if _, err := a.ApplyAt(ctx, app.ApplyRequest{AsOf: asOf}); err != nil {
		t.Fatal(err)
	}
	if got := len(sb.WooFake.CustomerIDs()); got != n {
		t.Errorf("the second apply registered %d more customers", got-n)
	}
}
