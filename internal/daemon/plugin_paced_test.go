package daemon_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// klaviyoWrites records when the Klaviyo fake first received a property
// write and a list change of each profile, and how many list calls and
// profile-level list changes it received.
type klaviyoWrites struct {
	mu                 sync.Mutex
	propAt, listAt     map[string]time.Time
	listCalls, changes int
}

func recordKlaviyoWrites(sb *sandbox.Sandbox) *klaviyoWrites {
	w := &klaviyoWrites{propAt: map[string]time.Time{}, listAt: map[string]time.Time{}}
	sb.Observe(sandbox.Klaviyo, func(r *http.Request) {
		isImport := r.Method == http.MethodPost && r.URL.Path == "/api/profile-import"
		isBulk := r.Method == http.MethodPost && r.URL.Path == "/api/profile-bulk-import-jobs"
		isList := (r.Method == http.MethodPost || r.Method == http.MethodDelete) && strings.HasSuffix(r.URL.Path, "/relationships/profiles")
		if !isImport && !isBulk && !isList {
			return
		}
		at := time.Now()
		raw := bodyOf(r)
		w.mu.Lock()
		defer w.mu.Unlock()
		switch {
		case isImport:
			var b struct {
				Data struct{ ID string } `json:"data"`
			}
			if json.Unmarshal(raw, &b) == nil {
				markFirst(w.propAt, b.Data.ID, at)
			}
		case isBulk:
			var b struct {
				Data struct {
					Attributes struct {
						Profiles struct {
							Data []struct{ ID string } `json:"data"`
						} `json:"profiles"`
					} `json:"attributes"`
				} `json:"data"`
			}
			if json.Unmarshal(raw, &b) == nil {
				for _, p := range b.Data.Attributes.Profiles.Data {
					markFirst(w.propAt, p.ID, at)
				}
			}
		default:
			var b struct {
				Data []struct{ ID string } `json:"data"`
			}
			if json.Unmarshal(raw, &b) == nil {
				w.listCalls++
				w.changes += len(b.Data)
				for _, p := range b.Data {
					markFirst(w.listAt, p.ID, at)
				}
			}
		}
	})
	return w
}

// TestPluginPacingHoldsListChanges: the daemon paces live write-back
// through the plugin boundary as the plugin asks. The Klaviyo plugin, run
// as its own process, reports its pacing (segment values at most every
// 100 ms, list changes held 30 s so profiles share each list's call, 0.4 s
// of budget per list call); a WooCommerce order webhook every 10 ms for
// 30 customers then has each customer's segment values written before
// any list change of theirs, list calls carrying several customers'
// changes each (written as they come they would take a call per list per
// customer), and Klaviyo ending exact.
func TestPluginPacingHoldsListChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Klaviyo plugin; end-to-end webhook path against fake platforms")
	}
	// Held 30 s: how many customers one round of list calls carries
	// depends on how many webhooks were processed since the last round,
	// and on a busy machine a 5 s hold spread the 30 webhooks over so many
	// rounds that 51 changes took 26 calls (as TestLiveListChangesShareCalls
	// found for HubSpot).
	sb, env, base, customers, pairs := pacedKlaviyo(t, 30*time.Second)
	const n = 30
	writes := recordKlaviyoWrites(sb)
	defer sb.Observe(sandbox.Klaviyo, nil)
	bigOrders(t, sb, base, customers)
	apptest.AwaitStoreDrained(t, env.Store, 3*time.Minute)

	writes.mu.Lock()
	defer writes.mu.Unlock()
	moved := 0
	for _, woo := range customers[:n] {
		id := pairs[woo]
		listAt, ok := writes.listAt[id]
		if !ok {
			continue
		}
		moved++
		if propAt, ok := writes.propAt[id]; !ok || propAt.After(listAt) {
			t.Errorf("profile %s: list change at %v came before its property write (%v, written: %v)", id, listAt, propAt, ok)
		}
	}
	if moved < n/2 {
		t.Fatalf("only %d of %d customers changed Klaviyo lists; the orders should move most of them", moved, n)
	}
	// Held for 5 s, 51 changes took 12 calls idle (22 under the race
	// detector, 26 on a loaded machine); unpaced (membership_every 0) they
	// took 24.
	if writes.changes < 2*writes.listCalls {
		t.Errorf("%d list calls carried %d profile changes; held list changes should share calls (≥ 2 changes per call)", writes.listCalls, writes.changes)
	}
	t.Logf("%d customers moved lists; %d list calls carried %d profile changes", moved, writes.listCalls, writes.changes)
	for _, p := range klaviyoMismatches(t, env.App, sb) {
		t.Error(p)
	}
}

// pacedKlaviyo is a sandbox with a Klaviyo account, an App whose
// Klaviyo adapter is the plugin run as its own process with the given
// membership_every, a first full cycle written back, and a daemon
// serving webhooks. It returns the WooCommerce ids of 30 customers who
// are on Klaviyo too, mapped to their profile ids.
func pacedKlaviyo(t *testing.T, membershipEvery time.Duration) (*sandbox.Sandbox, *testEnv, string, []int, map[int]string) {
	t.Helper()
	ctx := context.Background()
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/klaviyo/cmd/connector-klaviyo")
	now := time.Now().UTC()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 300, AsOf: now, Klaviyo: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	pc, err := sb.PluginConfig(sandbox.Klaviyo, bin)
	if err != nil {
		t.Fatal(err)
	}
	pc.Config["property_every"] = "100ms"
	pc.Config["membership_every"] = membershipEvery.String()
	pc.Config["job_poll"] = "10ms"
	l.Plugins = append(l.Plugins, pc)
	for _, d := range app.DefaultSegments(append(sb.Names(), sandbox.Klaviyo)) {
		l.Segments = append(l.Segments, d.(map[string]any))
	}
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	m := daemon.NewMetrics()
	a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{ObserveHTTP: m.HTTPObserver})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	env := &testEnv{App: a, metrics: m}
	want := adapter.WritePacing{PropertyEvery: 100 * time.Millisecond, MembershipEvery: membershipEvery, MembershipCallEvery: 400 * time.Millisecond}
	if wp, ok := a.Adapters[sandbox.Klaviyo].(adapter.WritePacer); !ok || wp.WritePacing() != want {
		t.Fatalf("the host sees the plugin's pacing as %+v (a pacer: %v), want %+v", wp, ok, want)
	}
	// The first cycle writes everything back before the daemon starts.
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	apptest.WaitStoreQuiet(t, env.Store, 60*time.Second)
	_, base := startDaemon(t, env)
	pairs := wooPairs(t, env, sandbox.Klaviyo)
	customers := make([]int, 0, len(pairs))
	for w := range pairs {
		customers = append(customers, w)
	}
	slices.Sort(customers)
	const n = 30
	if len(customers) < n {
		t.Fatalf("only %d people on both WooCommerce and Klaviyo, want %d", len(customers), n)
	}
	return sb, env, base, customers[:n], pairs
}

// bigOrders sends a WooCommerce order webhook for each customer, 10 ms
// apart.
func bigOrders(t *testing.T, sb *sandbox.Sandbox, base string, customers []int) {
	t.Helper()
	ctx := context.Background()
	secret := sb.Endpoints()[2].Credentials["webhook_secret"]
	sb.WooFake.AddWebhook("test order.created", "order.created", base+"/webhooks/woocommerce", secret)
	for _, woo := range customers {
		oid := sb.NewWooOrder(woo, "", []domain.LineItem{{SKU: "BIG", Name: "big order", Category: "garden", Quantity: 3,
			UnitPrice: domain.Money{Amount: 700_00, Currency: "USD"}}}, "mobile")
		for _, d := range sb.WooFake.Trigger(ctx, "order.created", oid) {
			if d.Status != 200 {
				t.Fatalf("webhook delivery for order %d got HTTP %d", oid, d.Status)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// klaviyoMismatches compares the Klaviyo fake's lists and custom
// properties with what the core computed.
func klaviyoMismatches(t *testing.T, a *app.App, sb *sandbox.Sandbox) []string {
	t.Helper()
	exp := apptest.ComputeExpected(t, a, sandbox.Klaviyo)
	ids := a.Pipeline.TargetIDs(sandbox.Klaviyo)
	var probs []string
	for rk, props := range exp.Props {
		id := strings.TrimPrefix(rk, "contact/")
		got, err := sb.KlaviyoFake.Properties(id)
		if err != nil {
			probs = append(probs, err.Error())
			continue
		}
		for key, want := range props {
			name := ids[key]
			if name == "" && want == "" {
				continue
			}
			v, _ := got[name].(string)
			if v != want {
				probs = append(probs, "profile "+id+" property "+name+" = "+v+", want "+want)
			}
		}
	}
	for key, list := range ids {
		if !strings.HasPrefix(key, "list:") {
			continue
		}
		got := map[string]bool{}
		for _, id := range sb.KlaviyoFake.Members(list) {
			got["contact/"+id] = true
		}
		for rk := range exp.Lists[key] {
			if !got[rk] {
				probs = append(probs, key+": missing "+rk)
			}
			delete(got, rk)
		}
		for rk := range got {
			probs = append(probs, key+": extra "+rk)
		}
	}
	return probs
}

// TestPluginPacingHoldsListChangesUntilDue: a plugin that asks for list
// changes to be held (membership_every far longer than the test) gets
// its customers' segment values written at once and no list call at all
// while they are held; written as they come, each push would carry its
// list changes with its values.
func TestPluginPacingHoldsListChangesUntilDue(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Klaviyo plugin; end-to-end webhook path against fake platforms")
	}
	sb, _, base, customers, pairs := pacedKlaviyo(t, 240*time.Hour)
	writes := recordKlaviyoWrites(sb)
	defer sb.Observe(sandbox.Klaviyo, nil)
	bigOrders(t, sb, base, customers)
	written := func() int {
		writes.mu.Lock()
		defer writes.mu.Unlock()
		k := 0
		for _, woo := range customers {
			if _, ok := writes.propAt[pairs[woo]]; ok {
				k++
			}
		}
		return k
	}
	testenv.Eventually(t, 60*time.Second, "segment values of half the customers written to Klaviyo", func() bool { return written() >= len(customers)/2 })
	k := written()
	writes.mu.Lock()
	defer writes.mu.Unlock()
	if writes.listCalls != 0 {
		t.Errorf("%d list calls (%d profile changes) while the plugin asked for list changes to be held", writes.listCalls, writes.changes)
	}
	t.Logf("segment values of %d of %d customers written, list changes held (%d list calls)", k, len(customers), writes.listCalls)
}
