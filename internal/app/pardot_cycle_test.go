package app_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// startPardotCycle starts a sandbox with the Account Engagement fake and
// an App running the Pardot adapter plugin, built as its own executable,
// as a plugin process beside the built-in platforms, with the default
// segments written back to every platform and extra segment definitions
// appended.
func startPardotCycle(t *testing.T, at time.Time, seed uint64, customers int, extra ...map[string]any) (*sandbox.Sandbox, *app.App) {
	t.Helper()
	ctx := context.Background()
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/pardot/cmd/connector-pardot")
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: seed, Customers: customers, AsOf: at, Pardot: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	pc, err := sb.PluginConfig(sandbox.Pardot, bin)
	if err != nil {
		t.Fatal(err)
	}
	l.Plugins = append(l.Plugins, pc)
	for _, d := range app.DefaultSegments(append(sb.Names(), sandbox.Pardot)) {
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

// runCycle runs one cycle at at and fails on any pull or push error.
func runCycle(t *testing.T, env *app.App, at time.Time) {
	t.Helper()
	rep, err := env.Cycle(context.Background(), at, nil)
	if err != nil {
		t.Fatal(err)
	}
	for p, e := range rep.PullErrors {
		t.Fatalf("pull %s: %s", p, e)
	}
	for p, e := range rep.PushErrors {
		t.Fatalf("push %s: %s", p, e)
	}
}

// TestPardotPluginCycleIsExact: the Account Engagement adapter plugin, run
// as a plugin process, takes part in two full cycles with the built-in
// platforms; afterwards every prospect holds exactly the computed segment
// values in the segments' custom fields and is on exactly the segments'
// lists (none missing, none extra), while a list membership and a custom
// field value set by hand stay.
func TestPardotPluginCycleIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Pardot plugin and runs two cycles against four fake platforms")
	}
	// The present is now, as the fakes' clocks are: orders placed between
	// the cycles fall before the second.
	at := time.Now().UTC().Truncate(time.Second)
	sb, env := startPardotCycle(t, at, 12, 150)
	runCycle(t, env, at)
	ids := env.Pipeline.TargetIDs(sandbox.Pardot)
	champions, err := strconv.Atoi(ids["list:rfm:champions"])
	if err != nil {
		t.Fatalf("no Pardot list for rfm:champions among %v", ids)
	}
	// A marketer puts a non-champion on the champions list by hand and
	// notes something on another prospect in a field of their own.
	exp := apptest.ComputeExpected(t, env, sandbox.Pardot)
	hand, noted := 0, 0
	for rk := range exp.Props {
		id, _ := strconv.Atoi(strings.TrimPrefix(rk, "contact/"))
		switch {
		case hand == 0 && !exp.Lists["list:rfm:champions"][rk]:
			hand = id
		case noted == 0:
			noted = id
		}
	}
	if err := sb.PardotFake.JoinByHand(hand, champions); err != nil {
		t.Fatal(err)
	}
	if err := sb.PardotFake.SetByHand(noted, "Notes", "met at the fair"); err != nil {
		t.Fatal(err)
	}
	// The business moves on: new orders change some segments.
	wooIDs := sb.WooFake.CustomerIDs()
	for i := 0; i < 10; i++ {
		c, _ := sb.WooFake.Customer(wooIDs[(i*7)%len(wooIDs)])
		sb.NewWooOrder(c.ID, c.Email, []domain.LineItem{{SKU: "X-1", Name: "gift", Category: "garden", Quantity: 3,
			UnitPrice: domain.Money{Amount: 250_00, Currency: "USD"}}}, "mobile")
	}
	runCycle(t, env, at.Add(24*time.Hour))

	before := exp
	exp = apptest.ComputeExpected(t, env, sandbox.Pardot)
	ids = env.Pipeline.TargetIDs(sandbox.Pardot)
	left, joined := 0, 0
	for key, ms := range before.Lists {
		for rk := range ms {
			if !exp.Lists[key][rk] {
				left++
			}
		}
		for rk := range exp.Lists[key] {
			if !ms[rk] {
				joined++
			}
		}
	}
	t.Logf("between the cycles %d memberships joined, %d left", joined, left)
	if joined == 0 || left == 0 {
		t.Fatal("the orders moved nobody between lists, so joins and leaves go unchecked")
	}
	if len(exp.Props) != len(sb.Data.People) {
		t.Errorf("%d Pardot records computed, want one a person (%d)", len(exp.Props), len(sb.Data.People))
	}
	checked := 0
	for rk, props := range exp.Props {
		id, _ := strconv.Atoi(strings.TrimPrefix(rk, "contact/"))
		got := sb.PardotFake.Properties(id)
		for key, want := range props {
			field := ids[key]
			if field == "" {
				t.Errorf("no custom field for %s", key)
				continue
			}
			if got[field] != want {
				t.Errorf("prospect %d field %s (%s) = %q, want %q", id, field, key, got[field], want)
			}
			checked++
		}
	}
	lists := 0
	for key, lid := range ids {
		if !strings.HasPrefix(key, "list:") {
			continue
		}
		lists++
		listID, _ := strconv.Atoi(lid)
		got := map[string]bool{}
		for _, id := range sb.PardotFake.Members(listID) {
			if got["contact/"+strconv.Itoa(id)] {
				t.Errorf("prospect %d is on list %d twice", id, listID)
			}
			got["contact/"+strconv.Itoa(id)] = true
		}
		want := exp.Lists[key]
		if listID == champions {
			if !got["contact/"+strconv.Itoa(hand)] {
				t.Errorf("the champions membership set by hand on %d was removed", hand)
			}
			delete(got, "contact/"+strconv.Itoa(hand))
		}
		var missing, extra []string
		for rk := range want {
			if !got[rk] {
				missing = append(missing, rk)
			}
		}
		for rk := range got {
			if !want[rk] {
				extra = append(extra, rk)
			}
		}
		if len(missing)+len(extra) > 0 {
			t.Errorf("list %d (%s): missing %v, extra %v", listID, key, missing, extra)
		}
		checked += len(want)
	}
	if got := sb.PardotFake.Properties(noted)["Notes__c"]; got != "met at the fair" {
		t.Errorf("the Notes value set by hand on %d is now %q", noted, got)
	}
	t.Logf("checked %d Pardot values over %d prospects and %d lists", checked, len(exp.Props), lists)
	if checked < 300 || lists < 3 {
		t.Fatalf("only %d values and %d lists checked", checked, lists)
	}
}
