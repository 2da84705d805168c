package segment

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// FuzzCompile feeds arbitrary text to the rule compiler and runs whatever
// compiles against a filled environment: neither may panic, and whatever
// compiles must evaluate to a boolean or fail with an error.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`country == "DE" and gender == "female"`,
		`age >= 25 and age < 35`,
		`industry in ["software", "retail"] and employees >= 50`,
		`device_share["mobile"] >= 0.5`,
		`"books" in categories`,
		`attrs["tier"] == "gold" || monetary > 2000`,
		`recency_days < 30 ? frequency > 2 : false`,
		`email_domain matches "^(gmail|yahoo)\\.com$"`,
		`len(categories) > 2 and all(categories, {# != "toys"})`,
		`monetary / frequency > aov`,
		`1 / 0 > 1`,
		`country > 3`,
		`((((`,
		`monetary * 2`,
		``,
		`let x = 1; x == 1`,
		`attrs.missing.deeper == nil`,
		strings.Repeat("(", 300) + "true" + strings.Repeat(")", 300),
	} {
		f.Add(s)
	}
	c := goldenDataset().Customers[0]
	ft := ComputeFeatures(&c, DayOf(goldenAsOf), 90)
	ds := &Dataset{Currency: "USD", Categories: []string{"books"}, Devices: []string{"", "mobile"}, Channels: []string{"", "web"}}
	var env RuleEnv
	fillEnv(&env, ds, &c, &ft, DayOf(goldenAsOf), true, true)
	f.Fuzz(func(t *testing.T, src string) {
		r, err := CompileRule(src)
		if err != nil {
			if r != nil {
				t.Fatal("rule and error both returned")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		var m vm.VM
		_, _ = r.Eval(&m, &env)
	})
}

// FuzzParseDefinitions decodes arbitrary YAML as segment definitions: no
// panic, and whatever parses also builds an engine.
func FuzzParseDefinitions(f *testing.F) {
	for _, s := range []string{
		"segments:\n  - {name: r, kind: rfm}\n",
		"segments:\n  - {name: r, kind: rfm, params: {scoring: fixed, recency_cuts: [1,2,3,4], frequency_cuts: [1,2,3,4], monetary_cuts: [1,2,3,4], groups: [{name: a, codes: ['[1-5]**']}]}}\n",
		"- {name: v, kind: value, params: {tiers: [{name: t, top_percent: 5}]}}\n",
		"- {name: c, kind: cluster, params: {k_min: 2, k_max: 3}}\n",
		"- {name: x, kind: rule, params: {expr: 'frequency > 1'}}\n",
		"- {name: b, kind: behavioral, params: {groups: [bulk]}}\n",
		"segments: 3\n",
		"- [1, 2]\n",
		"- {name: p, kind: predictive, writeback: {hubspot: {list: true}}}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		var v any
		if yaml.Unmarshal([]byte(src), &v) != nil {
			return
		}
		defs, err := ParseDefinitions(v)
		if err != nil {
			return
		}
		if _, err := NewEngine(defs, Options{}); err != nil {
			t.Fatalf("parsed definitions rejected by NewEngine: %v", err)
		}
	})
}

// FuzzRun builds a small dataset from arbitrary bytes (any days, amounts,
// statuses, months, codes, duplicate ids, unsorted orders) and runs every
// kind, Explain and Rescore on it: nothing may panic.
func FuzzRun(f *testing.F) {
	f.Add([]byte("seed"), int64(20000))
	f.Add(bytes.Repeat([]byte{0xff, 0x00, 0x7f, 0x80}, 64), int64(-5))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25}, int64(0))
	eng := mustEngine(f, append(allKinds(0), map[string]any{"name": "v2", "kind": "value", "params": map[string]any{"basis": "predicted"}}), Options{Workers: 2})
	f.Fuzz(func(t *testing.T, data []byte, asOfDay int64) {
		rd := bytes.NewReader(data)
		next := func(n int) uint64 {
			var v uint64
			for i := 0; i < n; i++ {
				b, err := rd.ReadByte()
				if err != nil {
					return v
				}
				v = v<<8 | uint64(b)
			}
			return v
		}
		ds := &Dataset{Currency: "USD", Categories: []string{"a"}, Devices: []string{"", "mobile"}, Channels: []string{""}}
		for rd.Len() > 0 && len(ds.Customers) < 40 {
			c := Customer{ID: fmt.Sprint(next(1) % 30), Email: fmt.Sprint(next(1)%5, "@x")}
			for k := next(1) % 8; k > 0 && rd.Len() > 0; k-- {
				c.Orders = append(c.Orders, OrderFact{
					Day: int32(next(4)), Amount: int64(next(8)), Items: int32(next(2)), Categories: next(1),
					Year: uint16(next(2)), Month: uint8(next(1)), Device: uint8(next(1)), Channel: uint8(next(1)), Status: Status(next(1) % 6),
				})
			}
			ds.Customers = append(ds.Customers, c)
		}
		asOf := time.Unix(asOfDay%(1<<40), 0).UTC()
		r, err := eng.Run(context.Background(), ds, asOf)
		if err != nil {
			return
		}
		for i := range ds.Customers {
			_, _ = r.Explain(ds.Customers[i].ID)
			if rs, err := r.Rescore(&ds.Customers[i], asOf); err == nil {
				_ = r.ExplainRescored(&ds.Customers[i], rs)
			}
		}
		if r.Len() > 0 {
			_ = r.Diff(r.Memberships(0))
		}
		_, _ = r.Migration("stage", nil)
	})
}
