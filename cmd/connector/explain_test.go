package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestExplainShowsHowSure: segments explain prints P(alive), expected
// purchases and predicted CLV each beside its 90% interval, and -o json
// carries them as data.
func TestExplainShowsHowSure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI against fake platforms")
	}
	_, cfg := sandboxConfigFile(t, 300)
	raw, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["segments"] = append(app.DefaultSegments(nil), map[string]any{"name": "predicted", "kind": "predictive", "params": map[string]any{"min_customers": 20}})
	if raw, err = yaml.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, nil, "sync", "-c", cfg); code != exitOK {
		t.Fatalf("sync: exit %d: %s", code, errOut)
	}
	code, out, errOut := runCLI(t, nil, "profiles", "list", "--limit", "500", "-o", "json", "-c", cfg)
	if code != exitOK {
		t.Fatalf("profiles list: exit %d: %s", code, errOut)
	}
	var ps []domain.Profile
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatalf("profiles list -o json: %v", err)
	}
	interval := regexp.MustCompile(`P\(alive\)\s+([0-9.]+)\s+\(90% interval ([0-9.]+) to ([0-9.]+)\)`)
	for _, p := range ps {
		code, out, errOut := runCLI(t, nil, "segments", "explain", p.ID, "-c", cfg)
		if code != exitOK {
			t.Fatalf("explain %s: exit %d: %s", p.ID, code, errOut)
		}
		m := interval.FindStringSubmatch(out)
		if m == nil {
			continue // a non-buyer, or a profile without a predictive answer
		}
		t.Log(out)
		for _, want := range []string{`expected purchases\s+[0-9.]+\s+\(90% interval`, `predicted CLV\s+USD [0-9.]+\s+\(90% interval USD`} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("explain does not match %s:\n%s", want, out)
			}
		}
		lo, _ := strconv.ParseFloat(m[2], 64)
		hi, _ := strconv.ParseFloat(m[3], 64)
		if !(lo <= hi && hi <= 1 && lo >= 0) {
			t.Errorf("P(alive) interval %s to %s is not an interval of probabilities", m[2], m[3])
		}
		code, out, _ = runCLI(t, nil, "segments", "explain", p.ID, "-o", "json", "-c", cfg)
		var ex struct {
			Definitions []struct {
				Definition string `json:"definition"`
				Prediction *struct {
					PAlive         float64                   `json:"p_alive"`
					PAliveInterval *struct{ Lo, Hi float64 } `json:"p_alive_interval"`
					CLVInterval    *struct{ Lo, Hi float64 } `json:"clv_interval"`
				} `json:"prediction"`
			} `json:"definitions"`
		}
		if err := json.Unmarshal([]byte(out), &ex); err != nil || code != exitOK {
			t.Fatalf("explain -o json: exit %d, %v", code, err)
		}
		for _, d := range ex.Definitions {
			if d.Definition == "predicted" && (d.Prediction == nil || d.Prediction.PAliveInterval == nil || d.Prediction.CLVInterval == nil) {
				t.Errorf("explain -o json has no intervals: %s", out)
			}
		}
		return
	}
	t.Fatal("no profile's explanation shows a P(alive) interval")
}
