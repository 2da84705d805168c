package app_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/pardot/pardotfake"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestPardotEngagementJoinsOneProfile: a person who is a HubSpot contact,
// a Salesforce record, a WooCommerce customer and an Account Engagement
// prospect resolves to one profile holding all four records; when they
// open enough emails in Account Engagement, the visitor activities read
// by the Pardot plugin (run as a process) move them into a rule segment
// over pardot_email_opens at the next cycle, and onto that segment's
// Account Engagement list.
func TestPardotEngagementJoinsOneProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Pardot plugin and runs two cycles against four fake platforms")
	}
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Second)
	// The sandbox gives a prospect at most seven activities, so nobody is
	// in the segment until the opens below.
	rule := map[string]any{"name": "pardot-engaged", "kind": "rule",
		"params":    map[string]any{"expr": `attrs["pardot_email_opens"] != "" and int(attrs["pardot_email_opens"]) >= 8`},
		"writeback": map[string]any{sandbox.Pardot: map[string]any{"property": "pardot_engaged", "list": true}}}
	sb, env := startPardotCycle(t, at, 21, 120, rule)
	var per sandbox.Person
	for _, p := range sb.Data.People {
		if p.InHubSpot && p.InSalesforce && p.InWooCommerce && !p.WooGuest && p.Attributes["newsletter"] != "false" {
			per = p
			break
		}
	}
	if per.Email == "" {
		t.Fatal("no person on HubSpot, Salesforce and WooCommerce who takes the newsletter")
	}
	prospects := sb.PardotFake.ByEmail(per.Email)
	if len(prospects) != 1 {
		t.Fatalf("%d prospects for %s", len(prospects), per.Email)
	}
	prospect := prospects[0].ID

	member := func() (domain.Profile, bool) {
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
			if m.Segment == "pardot-engaged" {
				return found[0], true
			}
		}
		return found[0], false
	}

	runCycle(t, env, at)
	p, in := member()
	platforms := map[string]bool{}
	for _, r := range p.Refs {
		platforms[r.Platform] = true
	}
	for _, want := range []string{sandbox.HubSpot, sandbox.Salesforce, sandbox.WooCommerce, sandbox.Pardot} {
		if !platforms[want] {
			t.Errorf("profile %s has no %s record; refs %v", p.ID, want, p.Refs)
		}
	}
	if !slices.ContainsFunc(p.Refs, func(r domain.ExternalRef) bool {
		return r.Platform == sandbox.Pardot && r.ID == strconv.Itoa(prospect)
	}) {
		t.Errorf("profile %s does not hold prospect %d; refs %v", p.ID, prospect, p.Refs)
	}
	if in {
		t.Fatalf("%s is in pardot-engaged before opening any more emails (opens %q)", per.Email, p.Attributes["pardot_email_opens"])
	}
	before, _ := strconv.Atoi(p.Attributes["pardot_email_opens"])

	for range 8 {
		sb.PardotFake.AddActivity(prospect, pardotfake.TypeOpen)
	}
	runCycle(t, env, at.Add(time.Hour))
	p, in = member()
	if got, want := p.Attributes["pardot_email_opens"], strconv.Itoa(before+8); got != want {
		t.Errorf("pardot_email_opens = %q, want %q", got, want)
	}
	if !in {
		t.Fatalf("%s is not in pardot-engaged after %s opens", per.Email, p.Attributes["pardot_email_opens"])
	}
	ids := env.Pipeline.TargetIDs(sandbox.Pardot)
	list, err := strconv.Atoi(ids["list:pardot-engaged"])
	if err != nil {
		t.Fatalf("no Pardot list for pardot-engaged among %v", ids)
	}
	if got := sb.PardotFake.Members(list); !slices.Contains(got, prospect) {
		t.Errorf("prospect %d is not on the pardot-engaged list %d (members %v)", prospect, list, got)
	}
	if got := sb.PardotFake.Properties(prospect)[ids["prop:pardot_engaged"]]; got == "" {
		t.Errorf("prospect %d has no pardot_engaged value", prospect)
	}
}
