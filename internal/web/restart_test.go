package web_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/web"
)

// TestSessionsAndPlansSurviveARestart: signed in and with a plan made,
// the connector restarts on the same store (a new App and web server
// over the same SQLite file); the session still works, its CSRF token
// too, and the plan made before is listed and applied.
func TestSessionsAndPlansSurviveARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full cycle against the sandbox")
	}
	s := startSite(t, 40)
	admin := s.client().login("ada", adminPassword)
	r := admin.do(http.MethodPost, "/api/v1/plans", "", "", http.Header{"X-Csrf-Token": {admin.csrf}})
	if r.status != http.StatusCreated {
		t.Fatalf("making a plan: HTTP %d %s", r.status, r.body)
	}
	var plan web.PlanView
	if err := json.Unmarshal([]byte(r.body), &plan); err != nil {
		t.Fatal(err)
	}

	// The restart: the first App is closed, a second opens the same
	// configuration (and so the same store file).
	s.app.Close(context.Background())
	a2, err := app.Open(context.Background(), s.cfg, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a2.Close(context.Background()) })
	srv2, err := web.New(a2, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv2.Handler())
	t.Cleanup(hs.Close)
	router, err := legacy.NewRouter(srv2.Spec())
	if err != nil {
		t.Fatal(err)
	}
	s.app, s.srv, s.base, s.router = a2, srv2, hs.URL, router // the cookie jar is per host, not per port

	// The new process has pulled and pushed nothing yet: the platforms'
	// last pull and push come from the run history (the first cycle).
	var ps []web.PlatformView
	if err := json.Unmarshal([]byte(admin.get("/api/v1/platforms").body), &ps); err != nil || len(ps) == 0 {
		t.Fatalf("platforms after the restart: %v %+v", err, ps)
	}
	for _, p := range ps {
		if p.LastPull.IsZero() || p.LastPush.IsZero() {
			t.Errorf("%s after the restart: last pull %v, last push %v; want the first cycle's", p.Platform, p.LastPull, p.LastPush)
		}
	}

	var plans []web.PlanView
	r = admin.get("/api/v1/plans")
	if r.status != http.StatusOK {
		t.Fatalf("the session after the restart: HTTP %d %s", r.status, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), &plans); err != nil || len(plans) != 1 || plans[0].Fingerprint != plan.Fingerprint {
		t.Fatalf("plans after the restart: %v %s", err, r.body)
	}
	r = admin.do(http.MethodPost, "/api/v1/plans/"+plan.Fingerprint+"/apply", "", "", http.Header{"X-Csrf-Token": {admin.csrf}})
	if r.status != http.StatusOK {
		t.Fatalf("applying the plan made before the restart: HTTP %d %s", r.status, r.body)
	}
	var applied web.PlanView
	if err := json.Unmarshal([]byte(r.body), &applied); err != nil || applied.Applied == nil || applied.Applied.By != "ada" {
		t.Fatalf("applied: %v %s", err, r.body)
	}
	if r := admin.get("/plans/" + plan.Fingerprint); r.status != http.StatusOK {
		t.Errorf("the plan page after the restart: HTTP %d", r.status)
	}
	// Signing out ends the stored session for good.
	form := "csrf_token=" + admin.csrf
	if r := admin.do(http.MethodPost, "/logout", form, "application/x-www-form-urlencoded", nil); r.status != http.StatusSeeOther {
		t.Fatalf("signing out: HTTP %d", r.status)
	}
	if r := admin.get("/api/v1/plans"); r.status != http.StatusUnauthorized {
		t.Errorf("the API after signing out: HTTP %d, want 401", r.status)
	}
}
