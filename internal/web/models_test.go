package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/internal/web"
)

// startModelsSite serves the web app over a sandbox whose segments are
// the defaults plus one predictive definition with the given model
// parameters, after a full cycle as of now.
func startModelsSite(t *testing.T, customers int, predictive map[string]any) *site {
	t.Helper()
	now := time.Now().UTC()
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: customers, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	adminHash := hash(t, adminPassword)
	l.Users = []config.User{{Name: "ada", Role: config.RoleAdmin, PasswordHash: adminHash}}
	for _, d := range app.DefaultSegments(nil) {
		l.Segments = append(l.Segments, d.(map[string]any))
	}
	l.Segments = append(l.Segments, map[string]any{"name": "predicted", "kind": "predictive", "params": predictive})
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	if _, err := a.Cycle(context.Background(), now, nil); err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(a, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	r, err := legacy.NewRouter(srv.Spec())
	if err != nil {
		t.Fatal(err)
	}
	return &site{t: t, app: a, cfg: l, srv: srv, base: hs.URL, router: r, secrets: []string{adminHash, adminPassword}}
}

// TestModelsPage: the Models page and GET /api/v1/models show the fitted
// models, the comparison on a holdout with its two charts' data, and the
// glossary is served and used as the KPI labels' tooltips.
func TestModelsPage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full cycle against the sandbox")
	}
	s := startModelsSite(t, 400, map[string]any{"model": "auto", "min_customers": 20})
	c := s.client().login("ada", adminPassword)

	r := c.get("/api/v1/models")
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/v1/models: HTTP %d %s", r.status, r.body)
	}
	var v web.ModelsView
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatal(err)
	}
	if v.Used == nil || v.Used.Definition != "predicted" || v.Used.Configured != "auto" {
		t.Fatalf("used models %+v, want the predicted definition's auto fit", v.Used)
	}
	if v.Used.Method == "heuristic" {
		t.Logf("the sandbox's fit fell back: %s", v.Used.Fallback)
		if v.Used.Fallback == "" {
			t.Error("the heuristic answered and no fallback is named")
		}
	} else if v.Used.Purchase == nil || len(v.Used.Purchase.Params) != 4 || v.Used.Purchase.N == 0 {
		t.Errorf("the purchase fit is %+v, want four parameters on the run's buyers", v.Used.Purchase)
	}
	ch := v.Check
	if ch == nil {
		t.Fatal("no holdout check")
	}
	if ch.CalibrationEnd == "" || ch.HoldoutWeeks < 4 {
		t.Errorf("calibration end %q, holdout %.1f weeks: want a holdout of at least four weeks", ch.CalibrationEnd, ch.HoldoutWeeks)
	}
	if len(ch.Comparison) < 2 || len(ch.Fits) != len(ch.Comparison) {
		t.Errorf("the comparison has %d models and %d fits, want BG/NBD, MBG/NBD and Pareto/NBD", len(ch.Comparison), len(ch.Fits))
	}
	for _, m := range ch.Comparison {
		if m.HoldoutRMSE == nil {
			t.Errorf("%s has no holdout error", m.Model)
		}
	}
	if len(ch.ByFrequency) < 2 || len(ch.ByFrequency[0].Expected) == 0 {
		t.Errorf("by-frequency rows %+v: want calibration classes with each model's expectation", ch.ByFrequency)
	}
	holdout := 0
	for _, row := range ch.Tracking {
		if row.Holdout {
			holdout++
		}
	}
	last := ch.Tracking[len(ch.Tracking)-1]
	if holdout == 0 || last.CumulativeActual == 0 || len(last.CumulativeExpected) == 0 {
		t.Errorf("tracking: %d holdout weeks, last week %+v: want cumulative actual and expected repeat purchases over the holdout", holdout, last)
	}

	var gl []segment.GlossaryEntry
	r = c.get("/api/v1/glossary")
	if err := json.Unmarshal([]byte(r.body), &gl); err != nil || r.status != http.StatusOK {
		t.Fatalf("GET /api/v1/glossary: HTTP %d %v", r.status, err)
	}
	defs := map[string]segment.GlossaryEntry{}
	for _, e := range gl {
		defs[e.Key] = e
	}
	if e := defs["churn_rate"]; !strings.Contains(e.Label, "no order in last 90 days") {
		t.Errorf("churn's glossary label %q does not state its window", e.Label)
	}
	if e := defs["avg_predicted_clv"]; !strings.Contains(e.Label, "365 days") || !strings.Contains(e.Label, "USD") {
		t.Errorf("predicted CLV's label %q does not state its horizon and currency", e.Label)
	}
	for _, k := range []string{"p_alive", "interval_90", "bic", "holdout_rmse"} {
		if defs[k].Definition == "" {
			t.Errorf("the glossary does not define %s", k)
		}
	}

	page := c.get("/models")
	if page.status != http.StatusOK {
		t.Fatalf("GET /models: HTTP %d %s", page.status, page.body)
	}
	for _, want := range []string{`id="chart-frequency"`, `id="chart-tracking"`, `id="comparison"`, `id="models-data"`, `"cumulative_expected"`, `/static/models.js`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the Models page lacks %s", want)
		}
	}
	// KPI labels carry the glossary's definition as a tooltip.
	seg := c.get("/segments/rfm:champions")
	churn := fmt.Sprintf(`data-kpi="churn_rate" title="%s`, htmlEscape(defs["churn_rate"].Label))
	if !strings.Contains(seg.body, churn) {
		t.Errorf("the segment page's churn label has no glossary tooltip (%s)", churn)
	}
	if over := c.get("/"); !strings.Contains(over.body, `data-kpi="revenue" title="Revenue, USD: realised net revenue`) {
		t.Error("the overview's revenue label has no glossary tooltip")
	}

	t.Run("CustomerShowsHowSure", func(t *testing.T) {
		ps, err := s.app.Store.ListProfiles(context.Background(), "", 200)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			r := c.get("/api/v1/profiles/" + p.ID)
			var cu web.Customer
			if err := json.Unmarshal([]byte(r.body), &cu); err != nil {
				t.Fatal(err)
			}
			for _, d := range cu.Explain {
				pr := d.Prediction
				if d.Definition != "predicted" || pr == nil || pr.PAliveInterval == nil {
					continue
				}
				if pr.ExpectedInterval == nil || pr.CLVInterval == nil || pr.Level != 0.9 {
					t.Errorf("the API's prediction %+v lacks intervals", pr)
				}
				page := c.get("/customers/" + p.ID)
				want := fmt.Sprintf(`%.3f to %.3f`, pr.PAliveInterval.Lo, pr.PAliveInterval.Hi)
				if !strings.Contains(page.body, `data-prediction="p_alive"`) || !strings.Contains(page.body, want) {
					t.Errorf("the customer page does not show P(alive)'s interval %s", want)
				}
				return
			}
		}
		t.Fatal("no customer's explanation carries a P(alive) interval")
	})

	t.Run("ChartsDrawInABrowser", func(t *testing.T) {
		chrome, err := exec.LookPath("chromium")
		if err != nil {
			testenv.Unavailable(t, "chromium is not installed (apt-get install -y chromium)")
		}
		bctx, cancel := chromedp.NewContext(headless(t, chrome))
		defer cancel()
		bctx, cancelT := context.WithTimeout(bctx, 90*time.Second)
		defer cancelT()
		b := &browser{t: t, ctx: bctx, base: s.base, dir: artifactsDir(t), width: 1400}
		b.do("sizing the window", chromedp.EmulateViewport(1400, 900))
		b.do("opening the app", chromedp.Navigate(s.base+"/"), loaded("login"))
		b.login("ada", adminPassword)
		b.do("opening the Models page", chromedp.Navigate(s.base+"/models"), loaded("models"),
			chromedp.WaitVisible(`#chart-frequency[data-drawn="true"] canvas`), chromedp.WaitVisible(`#chart-tracking[data-drawn="true"] canvas`))
		b.shot("models")
	})
}

// TestModelsPageNamesTheFallback: when the configured model cannot answer,
// the page and the API say what answered instead and why.
func TestModelsPageNamesTheFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full cycle against the sandbox")
	}
	s := startModelsSite(t, 120, map[string]any{"model": "pareto_nbd", "min_customers": 100000})
	c := s.client().login("ada", adminPassword)
	var v web.ModelsView
	if r := c.get("/api/v1/models"); json.Unmarshal([]byte(r.body), &v) != nil || v.Used == nil {
		t.Fatalf("GET /api/v1/models: HTTP %d %s", r.status, r.body)
	}
	if v.Used.Method != "heuristic" || !strings.Contains(v.Used.Fallback, "fewer than min_customers 100000") {
		t.Errorf("method %q, fallback %q: want the heuristic, named with its reason", v.Used.Method, v.Used.Fallback)
	}
	page := c.get("/models")
	if !strings.Contains(page.body, `id="fallback"`) || !strings.Contains(page.body, "min_customers 100000") {
		t.Error("the Models page does not name the fallback")
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}
