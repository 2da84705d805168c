package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/outbound"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// eventSink is an outbound webhook endpoint on loopback that keeps every
// event it receives.
type eventSink struct {
	mu     sync.Mutex
	events []outbound.Event
}

func (s *eventSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var b outbound.Batch
	if err := json.Unmarshal(body, &b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.events = append(s.events, b.Events...)
	s.mu.Unlock()
}

func (s *eventSink) entered(segment string) map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for _, e := range s.events {
		if e.Segment == segment && e.Type == outbound.EventEntered {
			out[e.ProfileID] = true
		}
	}
	return out
}

// TestOptedOutChampionIsInNoListAndNoEvent: a customer who opts out of
// marketing on HubSpot and then orders enough to become a Champion is a
// member of rfm:champions in the store, but joins no HubSpot list, no
// Salesforce campaign, gets no outbound segment event, and explain says
// why; the plan counts them as withheld.
func TestOptedOutChampionIsInNoListAndNoEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against three fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sink := &eventSink{}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 150, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	l.Platforms[sandbox.HubSpot]["search_lag"] = "1ms"
	l.Outbound = []config.Outbound{{URL: srv.URL + "/segments", Secret: "whsec-consent-test"}}
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	env, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close(context.Background()) })
	rep, err := env.Cycle(ctx, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	for p, e := range rep.PushErrors {
		t.Fatalf("push %s: %s", p, e)
	}

	// Two customers become Champions: one who opted out, and one who did
	// not (the control: their list membership and event show the write-back
	// and relay work).
	cands := notYetChampions(t, env, 2)
	wooID, hsID, pid := cands[0].woo, cands[0].hs, cands[0].pid
	if !sb.HubSpotFake.Update("contacts", hsID, map[string]string{"hs_email_optout": "true"}) {
		t.Fatalf("HubSpot contact %s is gone", hsID)
	}
	for _, c := range cands {
		for range 8 {
			sb.NewWooOrder(c.woo, "", []domain.LineItem{{SKU: "BIG", Name: "big order", Category: "garden", Quantity: 4,
				UnitPrice: domain.Money{Amount: 900_00, Currency: "USD"}}}, "mobile")
		}
	}
	_ = wooID
	time.Sleep(10 * time.Millisecond) // past the search lag
	for _, n := range env.Pipeline.Platforms() {
		if _, err := env.Pipeline.Sync(ctx, n, false); err != nil {
			t.Fatalf("sync %s: %v", n, err)
		}
	}
	p, err := env.Store.Profile(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	if !pipeline.OptedOut(&p) {
		t.Fatalf("profile %s consent %+v after the HubSpot opt-out; want denied", pid, p.Consent)
	}

	plan, err := env.Pipeline.Plan(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	entering := false
	for _, m := range plan.Memberships {
		entering = entering || (m.ProfileID == pid && m.Segment == "rfm:champions" && m.Entered && !m.Control)
	}
	if !entering {
		t.Fatalf("profile %s does not enter rfm:champions: the test would prove nothing", pid)
	}
	listNames := map[string]string{}
	for _, pp := range plan.Platforms {
		for _, tg := range pp.Targets {
			if tg.Key == "list:rfm:champions" {
				listNames[pp.Platform] = tg.Name
			}
		}
		if pp.Platform == sandbox.HubSpot && pp.OptedOut["rfm:champions"] == 0 {
			t.Errorf("the HubSpot plan counts no opted-out Champion withheld from the list: %v", pp.OptedOut)
		}
		for _, it := range pp.Items {
			if slices.Contains(p.Refs, it.Ref) || strings.HasSuffix(it.ID, "/"+hsID) {
				if slices.Contains(it.Add, "list:rfm:champions") {
					t.Errorf("the plan adds opted-out %s to the %s Champions list: %+v", it.ID, pp.Platform, it)
				}
			}
		}
	}

	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	ms, _ := env.Store.Memberships(ctx, pid)
	if !slices.ContainsFunc(ms, func(m domain.Membership) bool { return m.Segment == "rfm:champions" }) {
		t.Fatalf("profile %s is not a stored Champion after the cycle: %v", pid, ms)
	}
	listID, ok := env.Pipeline.TargetIDs(sandbox.HubSpot)["list:rfm:champions"]
	if !ok {
		t.Fatalf("no HubSpot list %q among %v", listNames[sandbox.HubSpot], env.Pipeline.TargetIDs(sandbox.HubSpot))
	}
	members := sb.HubSpotFake.ListMembers(listID)
	if !slices.Contains(members, cands[1].hs) {
		t.Fatalf("consenting Champion %s is not in the HubSpot Champions list %v: the test would prove nothing", cands[1].hs, members)
	}
	if slices.Contains(members, hsID) {
		t.Errorf("opted-out contact %s is in the HubSpot Champions list", hsID)
	}
	for _, r := range p.Refs {
		if r.Platform != sandbox.Salesforce {
			continue
		}
		for _, camp := range sb.SalesforceFake.Records("Campaign") {
			id, _ := camp["Id"].(string)
			if _, in := sb.SalesforceFake.CampaignMembers(id)[r.ID]; in && camp["Name"] == listNames[sandbox.Salesforce] {
				t.Errorf("opted-out Salesforce record %s is a member of the Champions campaign", r.ID)
			}
		}
	}

	if _, err := env.Outbound.RunOnce(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	got := sink.entered("rfm:champions")
	if !got[cands[1].pid] {
		t.Fatalf("no segment.entered rfm:champions event for consenting %s: the test would prove nothing", cands[1].pid)
	}
	if got[pid] {
		t.Errorf("an outbound segment.entered rfm:champions event was sent for opted-out %s", pid)
	}

	_, ex, err := env.Explain(ctx, pid, now)
	if err != nil {
		t.Fatal(err)
	}
	said := false
	for _, d := range ex.Definitions {
		if d.Definition != "rfm" {
			continue
		}
		for _, r := range d.Reasons {
			said = said || (strings.Contains(r, "opted out") && strings.Contains(r, "no list or campaign"))
		}
		t.Logf("explain rfm: %v", d.Reasons)
	}
	if !said {
		t.Errorf("explain does not say why %s is in no list: %+v", pid, ex.Definitions)
	}
}

type candidate struct {
	woo     int
	hs, pid string
}

// notYetChampions finds n profiles on WooCommerce and HubSpot, not in
// rfm:champions, whose email consent is not denied.
func notYetChampions(t *testing.T, a *app.App, n int) []candidate {
	t.Helper()
	ctx := context.Background()
	var out []candidate
	after := ""
	for len(out) < n {
		ps, err := a.Store.ListProfiles(ctx, after, 200)
		if err != nil || len(ps) == 0 {
			t.Fatalf("fewer than %d profiles on both WooCommerce and HubSpot (%v)", n, err)
		}
		after = ps[len(ps)-1].ID
		for _, p := range ps {
			var c candidate
			for _, r := range p.Refs {
				if r.Platform == sandbox.WooCommerce && r.ObjectType == domain.ObjectContact {
					c.woo, _ = strconv.Atoi(r.ID)
				}
				if r.Platform == sandbox.HubSpot && r.ObjectType == domain.ObjectContact {
					c.hs = r.ID
				}
			}
			ms, _ := a.Store.Memberships(ctx, p.ID)
			champion := slices.ContainsFunc(ms, func(m domain.Membership) bool { return m.Segment == "rfm:champions" })
			if c.woo != 0 && c.hs != "" && !champion && !pipeline.OptedOut(&p) && len(out) < n {
				c.pid = p.ID
				out = append(out, c)
			}
		}
	}
	return out
}
