package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// sandboxConfigFile starts a sandbox and writes a config file pointing at it.
func sandboxConfigFile(t *testing.T, customers int) (*sandbox.Sandbox, string) {
	t.Helper()
	sb, err := sandbox.Start(context.Background(), sandbox.Options{Seed: 3, Customers: customers, AsOf: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	dir := t.TempDir()
	l := sb.ConnectorConfig(dir)
	defs, err := app.SegmentDefinitions(l)
	if err != nil {
		t.Fatal(err)
	}
	sb.PrepareWriteback(defs)
	platforms := map[string]any{}
	for k, v := range l.Platforms {
		platforms[k] = map[string]any(v)
	}
	data, err := yaml.Marshal(map[string]any{
		"log":       map[string]any{"level": "warn"},
		"store":     map[string]any{"driver": "sqlite", "path": filepath.Join(dir, "c.db")},
		"platforms": platforms,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return sb, p
}

func TestPlanThenApplyRefusesChangedData(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI against fake platforms")
	}
	sb, cfg := sandboxConfigFile(t, 120)
	if code, _, errOut := runCLI(t, nil, "sync", "-c", cfg); code != exitOK {
		t.Fatalf("sync: exit %d: %s", code, errOut)
	}
	planFile := filepath.Join(t.TempDir(), "plan.json")
	code, out, errOut := runCLI(t, nil, "segments", "plan", "--save", planFile, "-c", cfg)
	if code != exitOK {
		t.Fatalf("plan: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"membership changes", "hubspot:", "records to update", "API calls", "rfm:champions"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	var plan pipeline.Plan
	data, _ := os.ReadFile(planFile)
	if err := json.Unmarshal(data, &plan); err != nil || plan.Fingerprint == "" || len(plan.Memberships) == 0 {
		t.Fatalf("saved plan unreadable or empty: %v", err)
	}

	// The data changes after the plan was shown: apply must refuse.
	ids := sb.WooFake.CustomerIDs()
	c, _ := sb.WooFake.Customer(ids[0])
	sb.NewWooOrder(c.ID, c.Email, []domain.LineItem{{SKU: "Z", Name: "z", Quantity: 5, UnitPrice: domain.Money{Amount: 999_00, Currency: "USD"}}}, "mobile")
	if code, _, errOut := runCLI(t, nil, "sync", "-c", cfg); code != exitOK {
		t.Fatalf("second sync: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCLI(t, nil, "segments", "apply", "--plan", planFile, "-c", cfg)
	if code != exitRefused || !strings.Contains(errOut, "changed since the plan was made") {
		t.Fatalf("apply of a stale plan: exit %d, want %d: %s", code, exitRefused, errOut)
	}
	if n := len(sb.HubSpotFake.Calls()); n == 0 {
		t.Fatal("the fake saw no calls at all; the sync did not reach it")
	}
	before := sb.HubSpotFake.CallCount("POST /crm/v3/objects/contacts/batch/update")
	if before != 0 {
		t.Fatalf("a refused apply wrote %d batches to HubSpot", before)
	}

	// A fresh plan applies, and writes.
	code, out, errOut = runCLI(t, nil, "segments", "apply", "--plan", planFile, "--refresh", "-c", cfg)
	if code != exitOK {
		t.Fatalf("apply --refresh: exit %d: %s%s", code, out, errOut)
	}
	if sb.HubSpotFake.CallCount("POST /crm/v3/objects/contacts/batch/update") == 0 {
		t.Error("apply --refresh wrote nothing to HubSpot")
	}
	// Applying again changes nothing: only deltas are sent.
	code, out, _ = runCLI(t, nil, "segments", "plan", "-c", cfg, "-o", "json")
	var again pipeline.Plan
	if code != exitOK || json.Unmarshal([]byte(out), &again) != nil {
		t.Fatalf("second plan: exit %d", code)
	}
	for _, pp := range again.Platforms {
		if len(pp.Items) != 0 {
			t.Errorf("%s: %d write-backs planned right after apply; want none", pp.Platform, len(pp.Items))
		}
	}
	if len(again.Memberships) != 0 {
		t.Errorf("%d membership changes planned right after apply; want none", len(again.Memberships))
	}
}
