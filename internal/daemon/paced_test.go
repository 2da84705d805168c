package daemon_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// wooHubSpotPairs maps the WooCommerce customer id of every profile that
// is on both WooCommerce and HubSpot to its HubSpot contact id.
func wooHubSpotPairs(t testing.TB, env *testEnv) map[int]string {
	return wooPairs(t, env, sandbox.HubSpot)
}

// wooPairs maps each WooCommerce customer id to the same person's contact
// id on another platform, through their profiles. People who opted out of
// marketing email are left out: no list is written for them.
func wooPairs(t testing.TB, env *testEnv, platform string) map[int]string {
	t.Helper()
	out := map[int]string{}
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
			if pipeline.OptedOut(&p) {
				continue
			}
			var woo int
			var other string
			for _, r := range p.Refs {
				if r.ObjectType != domain.ObjectContact {
					continue
				}
				switch r.Platform {
				case sandbox.WooCommerce:
					woo, _ = strconv.Atoi(r.ID)
				case platform:
					other = r.ID
				}
			}
			if woo > 0 && other != "" {
				out[woo] = other
			}
		}
	}
}

// hubspotWrites records when the HubSpot fake first received a property
// write and a list change of each contact, and how many list calls and
// record-level list changes it received.
type hubspotWrites struct {
	mu                 sync.Mutex
	propAt, listAt     map[string]time.Time
	listCalls, changes int
}

func recordHubSpotWrites(sb *sandbox.Sandbox) *hubspotWrites {
	w := &hubspotWrites{propAt: map[string]time.Time{}, listAt: map[string]time.Time{}}
	sb.Observe(sandbox.HubSpot, func(r *http.Request) {
		isUpdate := r.Method == http.MethodPost && r.URL.Path == "/crm/v3/objects/contacts/batch/update"
		isList := r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/memberships/add-and-remove")
		if !isUpdate && !isList {
			return
		}
		at := time.Now()
		raw := bodyOf(r)
		var req struct {
			Inputs []struct {
				ID string `json:"id"`
			} `json:"inputs"`
			Add    []string `json:"recordIdsToAdd"`
			Remove []string `json:"recordIdsToRemove"`
		}
		if json.Unmarshal(raw, &req) != nil {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if isUpdate {
			for _, in := range req.Inputs {
				markFirst(w.propAt, in.ID, at)
			}
			return
		}
		w.listCalls++
		w.changes += len(req.Add) + len(req.Remove)
		for _, id := range append(req.Add, req.Remove...) {
			markFirst(w.listAt, id, at)
		}
	})
	return w
}

// TestLiveListChangesShareCalls sends a WooCommerce order webhook every
// 10 ms for 30 customers on both WooCommerce and HubSpot. With HubSpot's
// pacing each customer's properties are written before any list change
// of theirs, their list changes are held and written together (list calls
// carry several customers' changes each, where writing them as they come
// would take a call per list per customer), and HubSpot ends exact.
//
// How many customers' changes one round of list calls carries depends on
// how many were processed since the last round: with HubSpot's default
// hold of 2 s, a busy machine processing the 30 webhooks over half a
// minute left one or two customers per round (32 calls carrying 51
// changes), and with 10 s, over a minute and a half, 22 calls. The hold
// here is 30 s, so the rounds stay few on a slow machine; writing changes
// as they come would still take about a call per change. It costs this
// test up to two idle holds of wall time, no CPU.
func TestLiveListChangesShareCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end webhook path against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 300, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	wb, _ := l.Platforms[sandbox.HubSpot]["write_back"].(map[string]any)
	if wb == nil {
		wb = map[string]any{}
	}
	wb["membership_interval"] = "30s"
	l.Platforms[sandbox.HubSpot]["write_back"] = wb
	env, err := openApp(ctx, l, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close(context.Background()) })
	_, base := startDaemon(t, env)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	// The cycle's own write-back (its list changes held too) ends first.
	apptest.AwaitStoreDrained(t, env.Store, 3*time.Minute)
	pairs := wooHubSpotPairs(t, env)
	customers := make([]int, 0, len(pairs))
	for w := range pairs {
		customers = append(customers, w)
	}
	slices.Sort(customers)
	const n = 30
	if len(customers) < n {
		t.Fatalf("only %d people on both WooCommerce and HubSpot, want %d", len(customers), n)
	}
	writes := recordHubSpotWrites(sb)
	defer sb.Observe(sandbox.HubSpot, nil)
	secret := sb.Endpoints()[2].Credentials["webhook_secret"]
	sb.WooFake.AddWebhook("test order.created", "order.created", base+"/webhooks/woocommerce", secret)
	for _, woo := range customers[:n] {
		oid := sb.NewWooOrder(woo, "", []domain.LineItem{{SKU: "BIG", Name: "big order", Category: "garden", Quantity: 3,
			UnitPrice: domain.Money{Amount: 700_00, Currency: "USD"}}}, "mobile")
		for _, d := range sb.WooFake.Trigger(ctx, "order.created", oid) {
			if d.Status != 200 {
				t.Fatalf("webhook delivery for order %d got HTTP %d", oid, d.Status)
			}
		}
		time.Sleep(10 * time.Millisecond) // the pace of the webhooks, not a wait
	}
	apptest.AwaitStoreDrained(t, env.Store, 3*time.Minute)

	writes.mu.Lock()
	defer writes.mu.Unlock()
	moved := 0
	for _, woo := range customers[:n] {
		hs := pairs[woo]
		listAt, ok := writes.listAt[hs]
		if !ok {
			continue
		}
		moved++
		if propAt, ok := writes.propAt[hs]; !ok || propAt.After(listAt) {
			t.Errorf("contact %s: list change at %v came before its property write (%v, written: %v)", hs, listAt, propAt, ok)
		}
	}
	if moved < n/2 {
		t.Fatalf("only %d of %d customers changed HubSpot lists; the orders should move most of them", moved, n)
	}
	if writes.changes < 2*writes.listCalls {
		t.Errorf("%d list calls carried %d record changes; held list changes should share calls (≥ 2 changes per call)", writes.listCalls, writes.changes)
	}
	t.Logf("%d customers moved lists; %d list calls carried %d record changes", moved, writes.listCalls, writes.changes)
	if problems, checked := apptest.PlatformState(t, env.App, sb); len(problems) > 0 {
		t.Fatalf("%d of %d checks wrong, first: %v", len(problems), checked, problems[:min(5, len(problems))])
	}
}
