package segment

import (
	"strings"
	"testing"

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
