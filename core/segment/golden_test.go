package segment

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

var goldenAsOf = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// fact builds a purchase on a date (YYYY-MM-DD) worth amount minor units.
func fact(date string, amount int64, items int32, device uint8) OrderFact {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		panic(err)
	}
	return OrderFact{Day: DayOf(t), Year: uint16(t.Year()), Month: uint8(t.Month()), Amount: amount, Items: items, Device: device, Channel: 1, Categories: 1}
}

// goldenDataset is 500 generated customers plus hand-made ones that each
// exercise one rule of the engine.
func goldenDataset() *Dataset {
	ds := Generate(GenConfig{Customers: 500, OrdersPerCustomer: 6, Seed: 11, AsOf: goldenAsOf})
	refunded := fact("2026-05-01", 9000, 1, 1)
	refunded.Status = StatusRefunded
	deal := fact("2026-06-01", 50000, 0, 0)
	deal.Status = StatusOpen
	regular := make([]OrderFact, 0, 12)
	for m := 0; m < 12; m++ {
		d := goldenAsOf.AddDate(0, 0, -5-30*(11-m))
		regular = append(regular, fact(d.Format(time.DateOnly), 4000, 2, 2))
	}
	ds.Customers = append(ds.Customers,
		Customer{ID: "lead-1", Email: "lead@example.com", Attrs: &Attrs{LifecycleStage: "lead", Country: "FR"}},
		Customer{ID: "prospect-1", Email: "prospect@example.com", Orders: []OrderFact{deal}},
		Customer{ID: "seasonal-1", Email: "xmas@example.com", Orders: []OrderFact{
			fact("2023-12-02", 12000, 3, 1), fact("2023-12-18", 8000, 2, 1),
			fact("2024-12-05", 15000, 4, 1), fact("2024-12-20", 6000, 1, 1),
			fact("2025-12-03", 11000, 3, 1), fact("2025-12-19", 9000, 2, 1)}},
		Customer{ID: "winback-1", Email: "back@example.com", Orders: []OrderFact{
			fact("2024-01-10", 3000, 1, 1), fact("2024-02-10", 3500, 1, 1), fact("2026-06-20", 4000, 1, 2)}},
		Customer{ID: "regular-1", Email: "steady@example.com", Orders: regular},
		Customer{ID: "gold-1", Email: "gold@example.com", Attrs: &Attrs{Country: "DE", Gender: "female", Industry: "software", Employees: 120, Custom: map[string]string{"tier": "gold"}},
			Orders: []OrderFact{fact("2026-03-01", 25000, 5, 2)}},
		Customer{ID: "refund-1", Email: "refund@example.com", Orders: []OrderFact{fact("2026-04-01", 2000, 1, 1), refunded}},
	)
	return ds
}

type goldenSegment struct {
	Name        string `json:"name"`
	Group       string `json:"group,omitempty"`
	Description string `json:"description,omitempty"`
	Size        int    `json:"size"`
}

type golden struct {
	Segments []goldenSegment       `json:"segments"`
	Members  map[string][]string   `json:"members"`
	Explain  []Explanation         `json:"explain"`
	KPIs     []KPI                 `json:"kpis"`
	Warnings []Warning             `json:"warnings"`
	Models   map[string]ModelInfo  `json:"models,omitempty"`
	Profiles map[string]Prediction `json:"predictions,omitempty"`
}

func loadYAML(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	return v
}

func TestGolden(t *testing.T) {
	ds := goldenDataset()
	explainIDs := []string{"c1", "c7", "seasonal-1", "winback-1", "regular-1", "gold-1", "lead-1", "prospect-1", "refund-1"}
	for _, kind := range []string{"rfm", "value", "behavioral", "lifecycle", "predictive", "cluster", "rule"} {
		t.Run(kind, func(t *testing.T) {
			defs, err := ParseDefinitions(loadYAML(t, filepath.Join("testdata", kind+".yaml")))
			if err != nil {
				t.Fatalf("parsing %s.yaml: %v", kind, err)
			}
			e, err := NewEngine(defs, Options{Workers: 2, Spend: map[string]float64{"rfm:champions": 500}})
			if err != nil {
				t.Fatal(err)
			}
			r, err := e.Run(context.Background(), ds, goldenAsOf)
			if err != nil {
				t.Fatal(err)
			}
			g := golden{Members: map[string][]string{}, KPIs: r.KPIs, Warnings: r.Warnings}
			for _, k := range r.KPIs {
				s := r.Segments[len(g.Segments)]
				g.Segments = append(g.Segments, goldenSegment{Name: s.Name, Group: s.Group, Description: s.Description, Size: k.Size})
			}
			for i := range r.Dataset.Customers {
				id := r.Dataset.Customers[i].ID
				if i < 40 || i >= 500 {
					g.Members[id] = r.SegmentsOf(i)
				}
			}
			for _, id := range explainIDs {
				ex, err := r.Explain(id)
				if err != nil {
					t.Fatal(err)
				}
				g.Explain = append(g.Explain, ex)
			}
			if kind == "predictive" {
				g.Models = r.Models()
				g.Profiles = map[string]Prediction{}
				for _, id := range explainIDs {
					i, _ := r.Lookup(id)
					g.Profiles[id], _ = r.Predict(i)
				}
			}
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", kind+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden file (run go test -update): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file; run go test ./core/segment -run TestGolden -update and review the diff", path)
			}
		})
	}
}
