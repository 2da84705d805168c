package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/testenv"
)

// startSandboxCommand runs `connector sandbox --write-config` in-process
// until the test ends and returns the config file it wrote.
func startSandboxCommand(t *testing.T, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sandbox.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	args := append([]string{"sandbox", "--customers", "200", "--seed", "5", "--write-config", cfg}, extra...)
	go func() { done <- run(ctx, args, &out, &errb, nil) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("sandbox: exit %d\n%s", code, errb.String())
		}
	})
	testenv.Eventually(t, 30*time.Second, "the sandbox writes its config", func() bool {
		_, err := os.Stat(cfg)
		return err == nil
	})
	// The written file holds the platforms; a store in the test's folder
	// keeps the data out of the working directory.
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b = append([]byte("log: {level: warn}\nstore: {driver: sqlite, path: "+filepath.Join(dir, "c.db")+"}\n"), b...)
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestSandboxWorksOnItsOwn: with the config `sandbox --write-config`
// writes and the default segments, sync → plan → apply exits 0, and a
// second sync → plan shows no change. Before the sandbox prepared its
// Salesforce org, apply exited 1: the custom fields the default segments
// write to did not exist (only `demo` created them).
func TestSandboxWorksOnItsOwn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the sandbox and the CLI against it")
	}
	cfg := startSandboxCommand(t)
	step := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, nil, append(args, "-c", cfg)...)
		if code != want {
			t.Fatalf("%s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out
	}
	step(exitOK, "sync")
	step(exitOK, "segments", "plan", "--save", filepath.Join(t.TempDir(), "plan.json"))
	applied := step(exitOK, "segments", "apply", "--refresh")
	if strings.Contains(applied, " 0 membership changes") {
		t.Fatalf("the first apply changed nothing:\n%s", applied)
	}
	step(exitOK, "sync")
	if plan := step(exitOK, "segments", "plan"); !strings.Contains(plan, " 0 membership changes") {
		t.Errorf("after apply and sync, plan still has changes:\n%s", plan)
	}
}

// TestSandboxNoPrepareShowsTheAdminStep: --no-prepare leaves the org as a
// fresh one, and apply says which field an admin must create.
func TestSandboxNoPrepareShowsTheAdminStep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the sandbox and the CLI against it")
	}
	cfg := startSandboxCommand(t, "--no-prepare")
	if code, _, errOut := runCLI(t, nil, "sync", "-c", cfg); code != exitOK {
		t.Fatalf("sync: exit %d\n%s", code, errOut)
	}
	code, _, errOut := runCLI(t, nil, "segments", "apply", "--refresh", "-c", cfg)
	if code != exitError || !strings.Contains(errOut, "custom field rfm_segment__c is missing") {
		t.Errorf("apply on an unprepared org: exit %d, want %d naming the missing field:\n%s", code, exitError, errOut)
	}
}

// TestSandboxTwoShops: `sandbox --shops 2` writes a config with a second
// shop (woocommerce-2, adapter: woocommerce) that validates, syncs and
// applies with exit 0 and then plans no change; `status` shows each shop
// as its own platform with its adapter, and profiles join across shops.
// Before, the sandbox served one shop and a second section was an unknown
// platform.
func TestSandboxTwoShops(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the sandbox and the CLI against it")
	}
	cfg := startSandboxCommand(t, "--shops", "2")
	step := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, nil, append(args, "-c", cfg)...)
		if code != want {
			t.Fatalf("%s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out
	}
	written, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(written), "woocommerce-2:") || !strings.Contains(string(written), "adapter: woocommerce") {
		t.Fatalf("the written config has no second shop:\n%s", written)
	}
	step(exitOK, "config", "validate")
	step(exitOK, "sync")
	step(exitOK, "segments", "apply", "--refresh")
	step(exitOK, "sync")
	if plan := step(exitOK, "segments", "plan"); !strings.Contains(plan, " 0 membership changes") {
		t.Errorf("after apply and sync, plan still has changes:\n%s", plan)
	}
	out := step(exitOK, "status", "--url", "http://127.0.0.1:1/api/v1/status", "-o", "json")
	var rep struct {
		Platforms []struct{ Platform, Adapter string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	adapters := map[string]string{}
	for _, p := range rep.Platforms {
		adapters[p.Platform] = p.Adapter
	}
	if adapters["woocommerce"] != "woocommerce" || adapters["woocommerce-2"] != "woocommerce" || len(adapters) != 4 {
		t.Errorf("status platforms %v; want woocommerce and woocommerce-2, both of the woocommerce adapter, beside hubspot and salesforce", adapters)
	}
	table := step(exitOK, "status", "--url", "http://127.0.0.1:1/api/v1/status")
	if !strings.Contains(table, "woocommerce-2") || !strings.Contains(table, "ADAPTER") {
		t.Errorf("status table lacks the second shop or its adapter:\n%s", table)
	}
}
