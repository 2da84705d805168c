package app_test

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/marketo/marketofake"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// startMarketoCycle starts a sandbox with the Marketo Engage fake and an
// App running the Marketo adapter plugin, built as its own executable, as
// a plugin process beside the built-in platforms, with the default
// segments written back to every platform and extra segment definitions
// appended.
func startMarketoCycle(t *testing.T, at time.Time, seed uint64, customers int, extra ...map[string]any) (*sandbox.Sandbox, *app.App) {
	t.Helper()
	ctx := context.Background()
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/marketo/cmd/connector-marketo")
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: seed, Customers: customers, AsOf: at, Marketo: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	pc, err := sb.PluginConfig(sandbox.Marketo, bin)
	if err != nil {
		t.Fatal(err)
	}
	l.Plugins = append(l.Plugins, pc)
	for _, d := range app.DefaultSegments(append(sb.Names(), sandbox.Marketo)) {
		l.Segments = append(l.Segments, d.(map[string]any))
	}
	l.Segments = append(l.Segments, extra...)
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	env, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close(context.Background()) })
	return sb, env
}

// TestMarketoEngagementJoinsOneProfile: a person who is a HubSpot
// contact, a Salesforce record, a WooCommerce customer and a Marketo lead
// resolves to one profile holding all four records; when they open
// Marketo emails, the Open Email activities read by the Marketo plugin
// (run as a process) as engagement_email_opens move them into a rule
// segment over email_opens_total at the next cycle, and onto that
// segment's static list and field in Marketo.
func TestMarketoEngagementJoinsOneProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Marketo plugin and runs two cycles against four fake platforms")
	}
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Second)
	// The sandbox's leads have no activities, so nobody is in the segment
	// until the opens below.
	rule := map[string]any{"name": "marketo-openers", "kind": "rule",
		"params":    map[string]any{"expr": `email_opens_total >= 3`},
		"writeback": map[string]any{sandbox.Marketo: map[string]any{"property": "marketo_openers", "list": true}}}
	sb, env := startMarketoCycle(t, at, 23, 120, rule)
	var per sandbox.Person
	for _, p := range sb.Data.People {
		if p.InHubSpot && p.InSalesforce && p.InWooCommerce && !p.WooGuest {
			per = p
			break
		}
	}
	if per.Email == "" {
		t.Fatal("no person on HubSpot, Salesforce and WooCommerce")
	}
	leads := sb.MarketoFake.ByEmail(per.Email)
	if len(leads) != 1 {
		t.Fatalf("%d leads for %s", len(leads), per.Email)
	}
	lead := leads[0].ID

	profile := func() (domain.Profile, bool) {
		t.Helper()
		var found []domain.Profile
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
				if slices.Contains(p.Emails, per.Email) {
					found = append(found, p)
				}
			}
		}
		if len(found) != 1 {
			t.Fatalf("%s is in %d profiles, want one", per.Email, len(found))
		}
		ms, err := env.Store.Memberships(ctx, found[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Segment == "marketo-openers" {
				return found[0], true
			}
		}
		return found[0], false
	}

	runCycle(t, env, at)
	p, in := profile()
	platforms := map[string]bool{}
	for _, r := range p.Refs {
		platforms[r.Platform] = true
	}
	for _, want := range []string{sandbox.HubSpot, sandbox.Salesforce, sandbox.WooCommerce, sandbox.Marketo} {
		if !platforms[want] {
			t.Errorf("profile %s has no %s record; refs %v", p.ID, want, p.Refs)
		}
	}
	if !slices.ContainsFunc(p.Refs, func(r domain.ExternalRef) bool {
		return r.Platform == sandbox.Marketo && r.ID == strconv.Itoa(lead)
	}) {
		t.Errorf("profile %s does not hold lead %d; refs %v", p.ID, lead, p.Refs)
	}
	if got := p.Attributes[domain.AttrEmailOpens]; got != "0" {
		t.Errorf("%s = %q before any open, want 0 (read from Marketo)", domain.AttrEmailOpens, got)
	}
	if in {
		t.Fatalf("%s is in marketo-openers before opening any email", per.Email)
	}

	sb.MarketoFake.Engage(lead, marketofake.OpenEmail, 3)
	runCycle(t, env, at.Add(time.Hour))
	p, in = profile()
	if got := p.Attributes[domain.AttrEmailOpens]; got != "3" {
		t.Errorf("%s = %q after three opens, want 3", domain.AttrEmailOpens, got)
	}
	if !in {
		t.Fatalf("%s is not in marketo-openers after %s opens", per.Email, p.Attributes[domain.AttrEmailOpens])
	}
	ids := env.Pipeline.TargetIDs(sandbox.Marketo)
	list, err := strconv.Atoi(ids["list:marketo-openers"])
	if err != nil {
		t.Fatalf("no Marketo list for marketo-openers among %v", ids)
	}
	if got := sb.MarketoFake.Members(list); !slices.Contains(got, lead) {
		t.Errorf("lead %d is not on the marketo-openers list %d (members %v)", lead, list, got)
	}
	if field := ids["prop:marketo_openers"]; field == "" {
		t.Errorf("no Marketo field for marketo_openers among %v", ids)
	} else if v, _ := sb.MarketoFake.Field(lead, field); v == "" {
		t.Errorf("lead %d has no %s value", lead, field)
	}
}
