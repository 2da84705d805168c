package segment

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// RuleEnv is what a rule expression sees, one customer at a time (see
// RuleVariables for each name's meaning). Names are snake_case; money is in major units of the dataset currency; unknown
// numbers are -1 (age, recency_days, tenure_days) or 0.
type RuleEnv struct {
	// demographic and geographic
	Gender  string `expr:"gender"`
	Age     int    `expr:"age"` // whole years at as-of; -1 unknown
	Country string `expr:"country"`
	Region  string `expr:"region"`
	City    string `expr:"city"`
	// firmographic
	Industry       string  `expr:"industry"`
	Employees      int     `expr:"employees"`
	CompanyRevenue float64 `expr:"company_revenue"`
	// journey and contact
	LifecycleStage string `expr:"lifecycle_stage"`
	HasEmail       bool   `expr:"has_email"`
	EmailDomain    string `expr:"email_domain"`
	OpenDeals      int    `expr:"open_deals"`
	// technographic: the platforms the profile lives on, the most used
	// device and channel, and shares by name
	Platforms    []string           `expr:"platforms"`
	Device       string             `expr:"device"`
	Channel      string             `expr:"channel"`
	DeviceShare  map[string]float64 `expr:"device_share"`
	ChannelShare map[string]float64 `expr:"channel_share"`
	// psychographic, needs-based and predetermined groupings
	Attrs      map[string]string `expr:"attrs"`
	Categories []string          `expr:"categories"` // categories bought
	// behaviour
	IsBuyer            bool    `expr:"is_buyer"`
	RecencyDays        int     `expr:"recency_days"`
	Frequency          int     `expr:"frequency"`
	Monetary           float64 `expr:"monetary"`
	AOV                float64 `expr:"aov"`
	TenureDays         int     `expr:"tenure_days"`
	ItemsPerOrder      float64 `expr:"items_per_order"`
	DistinctCategories int     `expr:"distinct_categories"`
	OrdersInWindow     int     `expr:"orders_in_window"`
	GapMeanDays        float64 `expr:"gap_mean_days"`
	Refunded           int     `expr:"refunded"`
	// AvgDaysBetweenOrders and ExpectedNextOrderDays: see
	// [NextOrderDays] for how the second is computed.
	AvgDaysBetweenOrders  float64 `expr:"avg_days_between_orders"`
	ExpectedNextOrderDays int     `expr:"expected_next_order_days"`
	// engagement (see [Engagement]): lifetime totals, -1 when unknown
	HasEngagement        bool `expr:"has_engagement"`
	PageViewsTotal       int  `expr:"page_views_total"`
	VisitsTotal          int  `expr:"visits_total"`
	EmailOpensTotal      int  `expr:"email_opens_total"`
	EmailClicksTotal     int  `expr:"email_clicks_total"`
	EmailBouncesTotal    int  `expr:"email_bounces_total"`
	FormSubmissionsTotal int  `expr:"form_submissions_total"`
	DaysSinceEngagement  int  `expr:"days_since_engagement"`
}

// Rule is a compiled, type-checked rule expression.
type Rule struct {
	src    string
	prog   *vm.Program
	idents []string // top-level names the expression reads, for explain
	// whether the expression reads the fields that cost allocations to fill
	needShares, needCategories bool
	// whether it reads expected_next_order_days, which needs the purchase model
	needPrediction bool
	// whether it reads an engagement variable (parsed from attributes)
	needEngagement bool
}

// MaxRuleLength bounds a rule's source text.
const MaxRuleLength = 4096

// CompileRule compiles a boolean expression against RuleEnv. It is called
// once at configuration load; type errors (unknown names, comparing a
// string with a number, a non-boolean result) are reported then, never
// while segmenting.
func CompileRule(src string) (r *Rule, err error) {
	if len(src) > MaxRuleLength {
		return nil, fmt.Errorf("rule is %d characters long, more than %d", len(src), MaxRuleLength)
	}
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("compiling rule: %v", p)
		}
	}()
	prog, err := expr.Compile(src, expr.Env(RuleEnv{}), expr.AsBool())
	if err != nil {
		msg, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
		if strings.HasPrefix(msg, "unknown name ") {
			return nil, fmt.Errorf("compiling rule: %s; known: %s (and expr's built-in functions such as len, any, all, lower)", msg, ruleNames())
		}
		return nil, fmt.Errorf("compiling rule: %s", msg)
	}
	r = &Rule{src: src, prog: prog}
	if tree, perr := parser.Parse(src); perr == nil {
		c := &identCollector{}
		ast.Walk(&tree.Node, c)
		slices.Sort(c.names)
		r.idents = slices.Compact(c.names)
		r.needShares = slices.Contains(r.idents, "device_share") || slices.Contains(r.idents, "channel_share")
		r.needCategories = slices.Contains(r.idents, "categories")
		r.needPrediction = slices.Contains(r.idents, "expected_next_order_days")
		r.needEngagement = slices.ContainsFunc(r.idents, isEngagementVar)
	} else {
		r.needShares, r.needCategories, r.needPrediction, r.needEngagement = true, true, true, true
	}
	return r, nil
}

type identCollector struct{ names []string }

func (c *identCollector) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok && id.Value != "" && !strings.HasPrefix(id.Value, "$") && id.Value != "#" {
		c.names = append(c.names, id.Value)
	}
}

// String returns the source.
func (r *Rule) String() string { return r.src }

// Eval runs the rule on env; runtime errors count as "no match".
func (r *Rule) Eval(m *vm.VM, env *RuleEnv) (bool, error) {
	out, err := m.Run(r.prog, env)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// fillEnv builds the rule environment for one customer.
func fillEnv(env *RuleEnv, ds *Dataset, c *Customer, f *Features, asOfDay int32, shares, categories bool) {
	dev, ch, cats := env.DeviceShare, env.ChannelShare, env.Categories[:0]
	if dev == nil {
		dev, ch = map[string]float64{}, map[string]float64{}
	}
	clear(dev)
	clear(ch)
	scale := math.Pow10(domain.CurrencyExponent(ds.Currency))
	*env = RuleEnv{
		Age: -1, RecencyDays: int(f.RecencyDays), TenureDays: int(f.TenureDays),
		HasEmail: c.Email != "", IsBuyer: f.Orders > 0, Frequency: int(f.Orders),
		Monetary: float64(f.Monetary) / scale, AOV: f.AOV() / scale, ItemsPerOrder: f.ItemsPerOrder(),
		DistinctCategories: f.DistinctCategories(), OrdersInWindow: int(f.OrdersInWindow),
		GapMeanDays: float64(f.GapMeanDays), Refunded: int(f.Refunded), OpenDeals: int(f.OpenDeals),
		DeviceShare: dev, ChannelShare: ch,
		AvgDaysBetweenOrders: avgDaysBetweenOrders(f), ExpectedNextOrderDays: ownNextOrderDays(f),
	}
	if at := strings.LastIndexByte(c.Email, '@'); at >= 0 {
		env.EmailDomain = c.Email[at+1:]
	}
	if a := c.Attrs; a != nil {
		env.Gender, env.Country, env.Region, env.City = a.Gender, a.Country, a.Region, a.City
		env.Industry, env.Employees, env.CompanyRevenue = a.Industry, int(a.Employees), a.CompanyRevenue
		env.LifecycleStage, env.Attrs, env.Platforms = a.LifecycleStage, a.Custom, a.Platforms
		if a.HasBirth {
			env.Age = ageAt(a.BirthDay, asOfDay)
		}
	}
	mix := MixOf(c, asOfDay)
	var bestD, bestC int32
	for i := 1; i < MaxCodes && mix.Orders > 0; i++ {
		if n := mix.Devices[i]; n > 0 && i < len(ds.Devices) {
			if shares {
				dev[ds.Devices[i]] = float64(n) / float64(mix.Orders)
			}
			if n > bestD {
				bestD, env.Device = n, ds.Devices[i]
			}
		}
		if n := mix.Channels[i]; n > 0 && i < len(ds.Channels) {
			if shares {
				ch[ds.Channels[i]] = float64(n) / float64(mix.Orders)
			}
			if n > bestC {
				bestC, env.Channel = n, ds.Channels[i]
			}
		}
	}
	for m := f.Categories; categories && m != 0; m &= m - 1 {
		code := bits.TrailingZeros64(m)
		if code < len(ds.Categories) {
			cats = append(cats, ds.Categories[code])
		}
	}
	env.Categories = cats
}

func ageAt(birth, day int32) int {
	b, d := dayTime(birth), dayTime(day)
	age := d.Year() - b.Year()
	if d.YearDay() < b.YearDay() {
		age--
	}
	return age
}

// ruleKind is a rule definition: one segment named after the definition.
type ruleKind struct{ rule *Rule }

type ruleFitted struct {
	rule *Rule
	ds   *Dataset
	day  int32
	pred *predictions // the run's purchase model, when the rule reads expected_next_order_days
}

func (k *ruleKind) fit(_ context.Context, fc *fitContext) (fitted, error) {
	f := &ruleFitted{rule: k.rule, ds: fc.ds, day: fc.asOfDay}
	if k.rule.needPrediction {
		f.pred = fc.shared
	}
	return f, nil
}

func (f *ruleFitted) groups() []groupInfo {
	return []groupInfo{{slug: "", display: "", description: "customers matching " + f.rule.src}}
}

func (f *ruleFitted) exclusive() bool { return true }

func (f *ruleFitted) env(c *Customer, feat *Features, sc *scratch) *RuleEnv {
	if sc.envFor != c || !sc.envFull {
		fillEnv(&sc.env, f.ds, c, feat, f.day, f.rule.needShares, f.rule.needCategories)
		sc.envFor = c
		sc.envFull = f.rule.needShares && f.rule.needCategories
	}
	// the env may have been filled for another rule of the run
	sc.env.ExpectedNextOrderDays = f.pred.nextOrderDays(feat)
	if f.rule.needEngagement {
		setEngagement(&sc.env, EngagementOf(c.Attrs, f.day))
	}
	return &sc.env
}

func (f *ruleFitted) assign(_ int, c *Customer, feat *Features, sc *scratch) uint32 {
	ok, _ := f.rule.Eval(&sc.vm, f.env(c, feat, sc))
	if ok {
		return 1
	}
	return 0
}

func (f *ruleFitted) explain(_ int, c *Customer, feat *Features, sc *scratch, mask uint32) []string {
	env := f.env(c, feat, sc)
	ok, err := f.rule.Eval(&sc.vm, env)
	var seen []string
	for _, id := range f.rule.idents {
		if v, found := envValue(env, id); found {
			seen = append(seen, fmt.Sprintf("%s=%v", id, v))
		}
	}
	verdict := "true"
	switch {
	case err != nil:
		verdict = "an error (" + err.Error() + "), counted as false"
	case !ok:
		verdict = "false"
	}
	return []string{fmt.Sprintf("rule %q is %s with %s", f.rule.src, verdict, strings.Join(seen, ", "))}
}

// envValue returns the value of a top-level RuleEnv name.
func envValue(env *RuleEnv, name string) (any, bool) {
	prog, err := expr.Compile(name, expr.Env(RuleEnv{}))
	if err != nil {
		return nil, false
	}
	v, err := expr.Run(prog, env)
	return v, err == nil
}
