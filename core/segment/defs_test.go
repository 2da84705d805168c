package segment

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func decodeYAML(t *testing.T, src string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatalf("bad test yaml: %v", err)
	}
	return v
}

func TestParseDefinitionsErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // every line of the joined error, in order
	}{
		{
			name: "missing name and kind",
			yaml: "segments:\n  - description: x\n",
			want: []string{
				"segments[0].name: is required",
				"segments[0].kind: is required (one of rfm, value, behavioral, lifecycle, predictive, cluster, rule)",
			},
		},
		{
			name: "unknown kind and bad name",
			yaml: "segments:\n  - {name: Big Spenders, kind: magic}\n",
			want: []string{
				`segments[0].name: must be lower-case letters, digits, '-' or '_' starting with a letter or digit, got "Big Spenders"`,
				`segments[0].kind: must be one of rfm, value, behavioral, lifecycle, predictive, cluster, rule, got "magic"`,
			},
		},
		{
			name: "duplicate names",
			yaml: "segments:\n  - {name: a, kind: rfm}\n  - {name: a, kind: value}\n",
			want: []string{`segments[1].name: duplicate segment name "a" (also segments[0])`},
		},
		{
			name: "wrong types and ranges in params",
			yaml: `segments:
  - name: b
    kind: behavioral
    params: {regular_min_orders: -2, churn_days: "long", bulk_percentile: 120, groups: [churned, sleepy]}
`,
			want: []string{
				`segments[0].params.groups[1]: must be one of first-time, regular, bulk, seasonal, non-buyer, churned, win-back, engaged-non-buyer, disengaged-buyer, got "sleepy"`,
				"segments[0].params.regular_min_orders: must be an integer between 3 and 1000, got -2",
				"segments[0].params.bulk_percentile: must be between 50 and 99.99, got 120",
				"segments[0].params.churn_days: must be an integer, got a string",
			},
		},
		{
			name: "unknown keys",
			yaml: "segments:\n  - {name: l, kind: lifecycle, colour: red, params: {loyal_orders: 3}}\n",
			want: []string{
				"segments[0].params.loyal_orders: unknown key (known keys: churn_days, lapsing_days, loyal_min_orders)",
				"segments[0].colour: unknown key (known keys: description, holdout_percent, kind, name, outbound_include_opted_out, params, spend, writeback)",
			},
		},
		{
			name: "rfm fixed without cuts and bad codes",
			yaml: `segments:
  - name: r
    kind: rfm
    params:
      scoring: fixed
      recency_cuts: [30, 10, 90, 180]
      frequency_cuts: [1, 2]
      groups:
        - {name: top, codes: ["55", "6**", "[3-1]**"]}
      fallback: nowhere
`,
			want: []string{
				"segments[0].params.recency_cuts: must be in ascending order",
				"segments[0].params.frequency_cuts: must have 4 cut points, got 2",
				"segments[0].params.monetary_cuts: is required when scoring is fixed (4 ascending cut points)",
				`segments[0].params.groups[0].codes[0]: code "55" must have three positions (R, F, M)`,
				`segments[0].params.groups[0].codes[1]: code "6**": position 1 must be a digit 1-5, '*' or a range like [1-3]`,
				`segments[0].params.groups[0].codes[2]: code "[3-1]**": range [3-1] must be within 1-5 and ascending`,
				`segments[0].params.fallback: must be "nearest" or the name of a group, got "nowhere"`,
			},
		},
		{
			name: "value tiers out of order",
			yaml: "segments:\n  - {name: v, kind: value, params: {basis: guessed, tiers: [{name: t20, top_percent: 20}, {name: t5, top_percent: 5}]}}\n",
			want: []string{
				`segments[0].params.basis: must be one of realised, predicted, got "guessed"`,
				"segments[0].params.tiers[1].top_percent: must be larger than the previous tier's (20)",
			},
		},
		{
			name: "rule type error",
			yaml: "segments:\n  - {name: x, kind: rule, params: {expr: 'country > 3'}}\n",
			want: []string{"segments[0].params.expr: compiling rule: invalid operation: > (mismatched types string and int) (1:9)"},
		},
		{
			name: "rule not boolean and missing",
			yaml: "segments:\n  - {name: x, kind: rule, params: {expr: 'monetary * 2'}}\n  - {name: y, kind: rule}\n",
			want: []string{
				"segments[0].params.expr: compiling rule: expected bool, but got float64",
				"segments[1].params.expr: is required",
			},
		},
		{
			name: "writeback and cluster",
			yaml: `segments:
  - name: c
    kind: cluster
    holdout_percent: 80
    writeback: {hubspot: {}, salesforce: {property: seg, list: "yes"}}
    params: {k_min: 5, k_max: 3, features: [recency, mood]}
`,
			want: []string{
				"segments[0].holdout_percent: must be between 0 and 50, got 80",
				"segments[0].writeback.hubspot: must set at least one of property, list, tag, next_order_date_property or avg_days_between_orders_property",
				"segments[0].writeback.salesforce.list: must be true or false, got a string",
				`segments[0].params.features[1]: must be one of recency, frequency, monetary, aov, tenure, items_per_order, categories, page_views, visits, email_opens, email_clicks, form_submissions, got "mood"`,
				"segments[0].params.k_max: must be at least k_min (5), got 3",
			},
		},
		{
			name: "spend",
			yaml: `segments:
  - {name: l, kind: lifecycle, spend: 100}
  - {name: r, kind: rfm, spend: {champions: 10, winners: 5, lost: -1, at-risk: lots}}
  - {name: x, kind: rule, params: {expr: 'true'}, spend: -3}
`,
			want: []string{
				"segments[0].spend: must be a mapping of group to amount for kind lifecycle (a single amount only suits a rule)",
				"segments[1].spend.at-risk: must be a number, got a string",
				"segments[1].spend.lost: must not be negative, got -1",
				"segments[1].spend.winners: is not a group of this definition (groups: champions, loyal, potential-loyalist, new-customers, promising, need-attention, about-to-sleep, at-risk, cannot-lose-them, hibernating, lost)",
				"segments[2].spend: must not be negative, got -3",
			},
		},
		{
			name: "not a list",
			yaml: "segments: {name: a}\n",
			want: []string{"segments: must be a list, got a mapping"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDefinitions(decodeYAML(t, tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

func TestParseDefinitionsDefaults(t *testing.T) {
	defs, err := ParseDefinitions(decodeYAML(t, `
segments:
  - name: rfm
    kind: rfm
    writeback:
      hubspot: {property: rfm_segment, list: true}
  - name: b
    kind: behavioral
  - name: p
    kind: predictive
    params: {model: pareto_nbd}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 3 {
		t.Fatalf("got %d definitions", len(defs))
	}
	if defs[0].RFM.Scoring != "rank" || defs[0].RFM.Fallback != "nearest" || len(defs[0].RFM.Groups) != 0 {
		t.Errorf("rfm defaults: %+v", defs[0].RFM)
	}
	if got := defs[0].Writeback["hubspot"]; got != (Target{Property: "rfm_segment", List: true}) {
		t.Errorf("writeback: %+v", got)
	}
	if b := defs[1].Behavioral; b.ChurnDays != 365 || b.RegularMaxCV != 0.5 || len(b.Groups) != 7 {
		t.Errorf("behavioral defaults: %+v", b)
	}
	if p := defs[2].Predictive; p.Model != "pareto_nbd" || p.HorizonDays != 365 || p.MinCustomers != 50 {
		t.Errorf("predictive: %+v", p)
	}
	if _, err := NewEngine(defs, Options{}); err != nil {
		t.Fatal(err)
	}
}
