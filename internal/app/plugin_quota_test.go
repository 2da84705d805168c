package app_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/examples/csvfolder"
	"github.com/segconn/connector/plugins/examples/csvfolder/csvfake"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// A plugin's daily quota reaches the write-back plan through the plugin
// boundary: a plugin process that reports a budget of 1000 requests a
// day (the CSV example with the protocol 1.1 hints, each pushed item
// spending one) has its plan show that budget, what is left of it and
// the write-back's share; after the write-back the next plan shows the
// budget the plugin says is left, asked live.
func TestPluginQuotaReachesThePlan(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test plugin and runs a cycle against fake platforms")
	}
	ctx := context.Background()
	bin := sdktest.Build(t, "github.com/segconn/connector/internal/pluginhost/testdata/misbehave")
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 60, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	folder := csvfake.New(t)
	if _, err := folder.SeedCustomers(20); err != nil {
		t.Fatal(err)
	}
	sum, err := pluginhost.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	l.Plugins = append(l.Plugins, config.Plugin{Name: csvfolder.Name, Path: bin, SHA256: sum, Args: []string{"--hints"}, Config: folder.Config()})
	for _, d := range app.DefaultSegments(append(sb.Names(), csvfolder.Name)) {
		l.Segments = append(l.Segments, d.(map[string]any))
	}
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	env, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close(context.Background()) })
	if _, err := env.SyncAll(ctx, nil, true); err != nil {
		t.Fatal(err)
	}
	csvPlan := func(p *pipeline.Plan) pipeline.PlatformPlan {
		t.Helper()
		for _, pp := range p.Platforms {
			if pp.Platform == csvfolder.Name {
				return pp
			}
		}
		t.Fatalf("the plan has no %s platform: %+v", csvfolder.Name, p.Platforms)
		return pipeline.PlatformPlan{}
	}
	plan, err := env.Plan(ctx, asOf)
	if err != nil {
		t.Fatal(err)
	}
	pp := csvPlan(plan)
	if pp.DailyQuota != 1000 || pp.QuotaRemaining == nil || *pp.QuotaRemaining != 1000 {
		t.Fatalf("plan quota %d, remaining %v; want the plugin's 1000 and 1000", pp.DailyQuota, pp.QuotaRemaining)
	}
	if pp.Calls == 0 || pp.QuotaShare != float64(pp.Calls+pp.CreateCalls)/1000 {
		t.Errorf("plan: %d calls with a quota share of %g; want calls/1000", pp.Calls, pp.QuotaShare)
	}
	rep, err := env.Cycle(ctx, asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := rep.PushErrors[csvfolder.Name]; e != "" {
		t.Fatalf("push: %s", e)
	}
	after := csvPlan(mustPlan(t, env))
	if after.QuotaRemaining == nil || *after.QuotaRemaining >= 1000 {
		t.Errorf("after the write-back the plan says %v of the quota is left; the plugin spent some", after.QuotaRemaining)
	}
	t.Logf("first plan: %d calls, share %.3f of 1000; after the write-back %d left", pp.Calls, pp.QuotaShare, *after.QuotaRemaining)
}

func mustPlan(t *testing.T, env *app.App) *pipeline.Plan {
	t.Helper()
	p, err := env.Plan(context.Background(), asOf)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
