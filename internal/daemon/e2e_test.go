package daemon_test

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/connectors"
	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/domain"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/sandbox"
)

var asOf = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func factories() map[string]app.Factory {
	out := map[string]app.Factory{}
	for n, f := range connectors.Builtin() {
		out[n] = app.Factory(f)
	}
	return out
}

// testEnv is an opened App with the metrics its daemon serves, which
// count the adapters' HTTP requests from the start.
type testEnv struct {
	*app.App
	metrics *daemon.Metrics
}

// openApp opens an App as `connector run` does.
func openApp(ctx context.Context, l *config.Loaded, log *slog.Logger) (*testEnv, error) {
	return openEnvWithClock(ctx, l, log, nil)
}

// newDaemon prepares a daemon over the App, serving its metrics.
func (e *testEnv) newDaemon(o daemon.Options) *daemon.Daemon {
	o.Metrics = e.metrics
	return daemon.New(e.App, o)
}

// prepareSandbox creates the Salesforce fields the configured segments
// write to.
func prepareSandbox(sb *sandbox.Sandbox, l *config.Loaded) error {
	defs, err := app.SegmentDefinitions(l)
	if err != nil {
		return err
	}
	sb.PrepareWriteback(defs)
	return nil
}

// startSandboxEnv starts a sandbox and an Env pointed at it.
func startSandboxEnv(t *testing.T, customers int) (*sandbox.Sandbox, *testEnv, *config.Loaded) {
	return startSandboxEnvAt(t, customers, asOf)
}

func startSandboxEnvAt(t *testing.T, customers int, at time.Time) (*sandbox.Sandbox, *testEnv, *config.Loaded) {
	t.Helper()
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: customers, AsOf: at})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	if err := prepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	env, err := openApp(ctx, l, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close(context.Background()) })
	return sb, env, l
}

// expected computes, independently of the write-back code, what each
// platform record should hold: for every segment definition written back
// as a property, the display name of the (non-control) group the profile
// is in; for every list target, its non-control members.
type expected struct {
	props map[string]map[string]string // platform record key → property target key → value
	lists map[string]map[string]bool   // list target key → platform record key → member
}

func computeExpected(t *testing.T, env *testEnv, platform string) expected {
	t.Helper()
	ctx := context.Background()
	res := env.Pipeline.LastResult()
	info := map[string]segment.SegmentInfo{}
	for _, s := range res.Segments {
		info[s.Name] = s
	}
	exp := expected{props: map[string]map[string]string{}, lists: map[string]map[string]bool{}}
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
			ms, err := env.Store.Memberships(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, ref := range p.Refs {
				if ref.Platform != platform || (ref.ObjectType != domain.ObjectContact && ref.ObjectType != "lead") {
					continue
				}
				rk := ref.ObjectType + "/" + ref.ID
				vals := map[string][]string{}
				for _, d := range res.Segments {
					if wb, ok := d.Writeback[platform]; ok && wb.Property != "" {
						if _, ok := vals["prop:"+wb.Property]; !ok {
							vals["prop:"+wb.Property] = nil // written back, even when empty
						}
					}
				}
				for _, m := range ms {
					s := info[m.Segment]
					wb, ok := s.Writeback[platform]
					if !ok || m.Control {
						continue
					}
					if wb.Property != "" {
						vals["prop:"+wb.Property] = append(vals["prop:"+wb.Property], s.Group)
					}
					if wb.List {
						key := "list:" + s.Name
						if exp.lists[key] == nil {
							exp.lists[key] = map[string]bool{}
						}
						exp.lists[key][rk] = true
					}
				}
				exp.props[rk] = map[string]string{}
				for k, v := range vals {
					sort.Strings(v)
					exp.props[rk][k] = strings.Join(v, ";")
				}
			}
		}
	}
	return exp
}

func TestFullCycleLeavesEveryPlatformExact(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against three fake platforms")
	}
	ctx := context.Background()
	sb, env, _ := startSandboxEnv(t, 150)
	rep, err := env.Cycle(ctx, asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	for p, e := range rep.PullErrors {
		t.Fatalf("pull %s: %s", p, e)
	}
	for p, e := range rep.PushErrors {
		t.Fatalf("push %s: %s", p, e)
	}
	if rep.Profiles == 0 || rep.Changes == 0 {
		t.Fatalf("nothing happened: %+v", rep)
	}

	// A person sets values by hand, beside the connector's own.
	hs := env.Pipeline.TargetIDs(sandbox.HubSpot)
	champions := hs["list:rfm:champions"]
	if champions == "" {
		t.Fatalf("no HubSpot list for rfm:champions among %v", hs)
	}
	expHS := computeExpected(t, env, sandbox.HubSpot)
	handHS := ""
	for rk := range expHS.props {
		if !expHS.lists["list:rfm:champions"][rk] {
			handHS = strings.TrimPrefix(rk, "contact/")
			break
		}
	}
	sb.HubSpotFake.AddToList(champions, handHS)
	wooIDs := sb.WooFake.CustomerIDs()
	handWoo := wooIDs[0]
	sb.WooFake.UpdateCustomer(handWoo, func(c *woocommercefake.Customer) {
		c.MetaData = append(c.MetaData, woocommercefake.Meta{Key: "_vip_note", Value: "set by hand"})
	})

	// The business moves on: new orders change some segments.
	for i := 0; i < 10; i++ {
		c, _ := sb.WooFake.Customer(wooIDs[(i*7)%len(wooIDs)])
		sb.NewWooOrder(c.ID, c.Email, []domain.LineItem{{SKU: "X-1", Name: "gift", Category: "garden", Quantity: 3,
			UnitPrice: domain.Money{Amount: 250_00, Currency: "USD"}}}, "mobile")
	}
	rep2, err := env.Cycle(ctx, asOf.Add(24*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	for p, e := range rep2.PushErrors {
		t.Fatalf("second cycle push %s: %s", p, e)
	}

	var checked int
	for _, p := range []string{sandbox.HubSpot, sandbox.WooCommerce, sandbox.Salesforce} {
		probs, n := mismatches(t, env, sb, p, handMade{hubspotList: "list:rfm:champions", hubspotContact: handHS, wooCustomer: handWoo})
		for _, pr := range probs {
			t.Error(pr)
		}
		checked += n
	}
	expHS = computeExpected(t, env, sandbox.HubSpot)
	expSF := computeExpected(t, env, sandbox.Salesforce)
	t.Logf("checked %d values; hubspot lists %d, salesforce campaigns %d", checked, len(expHS.lists), len(expSF.lists))
	if checked < 100 {
		t.Fatalf("only %d values checked; the test is not looking at enough records", checked)
	}
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func diff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	if len(out) > 5 {
		out = append(out[:5], "…")
	}
	return out
}
