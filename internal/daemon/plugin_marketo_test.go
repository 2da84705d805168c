package daemon_test

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/marketo/marketofake"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// A full cycle with the Marketo plugin run as its own process against the
// sandbox's Marketo instance writes every segment back exactly: each
// lead's segment fields hold what the core computed, and each static list
// holds exactly the leads the core put in it, none missing, none extra;
// a field set by hand is kept.
func TestMarketoPluginFullCycleExact(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Marketo plugin; full cycle against fake platforms")
	}
	ctx := context.Background()
	sb, env, a, now := marketoApp(t)
	// A value a marketer set by hand on a field of their own stays.
	sb.MarketoFake.SetField(1001, "leadSource", "trade show")
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	apptest.WaitStoreQuiet(t, env.Store, 60*time.Second)

	exp := apptest.ComputeExpected(t, a, sandbox.Marketo)
	ids := a.Pipeline.TargetIDs(sandbox.Marketo)
	props, lists := 0, 0
	for rk, want := range exp.Props {
		lead, _ := strconv.Atoi(strings.TrimPrefix(rk, "contact/"))
		got, err := sb.MarketoFake.Fields(lead)
		if err != nil {
			t.Error(err)
			continue
		}
		for key, v := range want {
			name := ids[key]
			if name == "" && v == "" {
				continue
			}
			props++
			if got[name] != v {
				t.Errorf("lead %d field %s = %q, want %q", lead, name, got[name], v)
			}
		}
	}
	for key, list := range ids {
		if !strings.HasPrefix(key, "list:") {
			continue
		}
		id, _ := strconv.Atoi(list)
		got := map[string]bool{}
		for _, lead := range sb.MarketoFake.Members(id) {
			got["contact/"+strconv.Itoa(lead)] = true
		}
		for rk := range exp.Lists[key] {
			lists++
			if !got[rk] {
				t.Errorf("%s: missing %s", key, rk)
			}
			delete(got, rk)
		}
		for rk := range got {
			t.Errorf("%s: extra %s", key, rk)
		}
	}
	if got, _ := sb.MarketoFake.Fields(1001); got["leadSource"] != "trade show" {
		t.Errorf("hand-set field of lead 1001 = %q after the cycle, want it kept", got["leadSource"])
	}
	if props == 0 || lists == 0 {
		t.Fatalf("nothing to compare: %d field values, %d list memberships", props, lists)
	}
	t.Logf("%d field values and %d list memberships on Marketo, as computed", props, lists)
}

// marketoApp is a sandbox with a Marketo instance and an App whose
// Marketo adapter is the plugin run as its own process, with the default
// segments and extra ones written back to every platform.
func marketoApp(t *testing.T, extra ...map[string]any) (*sandbox.Sandbox, *testEnv, *app.App, time.Time) {
	t.Helper()
	ctx := context.Background()
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/marketo/cmd/connector-marketo")
	now := time.Now().UTC()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 13, Customers: 120, AsOf: now, Marketo: true})
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
	m := daemon.NewMetrics()
	a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{ObserveHTTP: m.HTTPObserver})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	env := &testEnv{App: a, metrics: m}
	return sb, env, a, now
}

// A Marketo engagement feature moves a person into an engagement-based
// rule segment: after a cycle in which a lead is not in the rule's
// segment, the lead clicks a Marketo email, and the next cycle (an
// incremental pull) puts them on its static list.
func TestMarketoEngagementMovesIntoARuleSegment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Marketo plugin; full cycles against fake platforms")
	}
	ctx := context.Background()
	rule := map[string]any{"name": "clickers", "kind": "rule",
		"params":    map[string]any{"expr": "email_clicks_total > 0"},
		"writeback": map[string]any{sandbox.Marketo: map[string]any{"list": true}}}
	sb, env, a, now := marketoApp(t, rule)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	apptest.WaitStoreQuiet(t, env.Store, 60*time.Second)
	// The rule's static list, once it has members (0: none yet).
	listID := func() int {
		for key, id := range a.Pipeline.TargetIDs(sandbox.Marketo) {
			if strings.HasPrefix(key, "list:") && strings.Contains(key, "clickers") {
				n, _ := strconv.Atoi(id)
				return n
			}
		}
		return 0
	}
	var before []int
	if l := listID(); l != 0 {
		before = sb.MarketoFake.Members(l)
	}
	lead := 0
	for id := 1001; id < 1001+sb.MarketoFake.Leads(); id++ {
		if !slices.Contains(before, id) {
			lead = id
			break
		}
	}
	if lead == 0 {
		t.Fatal("every lead is a clicker already")
	}
	sb.MarketoFake.Engage(lead, marketofake.ClickEmail, 1)
	if _, err := env.Cycle(ctx, now.Add(time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	apptest.WaitStoreQuiet(t, env.Store, 60*time.Second)
	list := listID()
	if list == 0 {
		t.Fatalf("no static list for the rule segment among %v", a.Pipeline.TargetIDs(sandbox.Marketo))
	}
	if after := sb.MarketoFake.Members(list); !slices.Contains(after, lead) {
		t.Errorf("lead %d clicked an email but is not on the clickers list (%d members, %d before)", lead, len(after), len(before))
	}
}
