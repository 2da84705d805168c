package web_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/web"
)

// TestOperations: the run history, write-back failures and outbound
// deliveries, through the API and the pages.
func TestOperations(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full cycle against the sandbox")
	}
	s := startSite(t, 60)
	admin := s.client().login("ada", adminPassword)
	viewer := s.client().login("vic", viewerPassword)

	t.Run("RunsAreRecordedAndListed", func(t *testing.T) {
		r := viewer.do(http.MethodPost, "/api/v1/plans", "", "", http.Header{"X-Csrf-Token": {viewer.csrf}})
		if r.status != http.StatusCreated {
			t.Fatalf("making a plan: HTTP %d %s", r.status, r.body)
		}
		var plan web.PlanView
		if err := json.Unmarshal([]byte(r.body), &plan); err != nil {
			t.Fatal(err)
		}
		if r := admin.do(http.MethodPost, "/api/v1/plans/"+plan.Fingerprint+"/apply", "", "", http.Header{"X-Csrf-Token": {admin.csrf}}); r.status != http.StatusOK {
			t.Fatalf("applying: HTTP %d %s", r.status, r.body)
		}
		var runs []store.Run
		r = admin.get("/api/v1/runs")
		if err := json.Unmarshal([]byte(r.body), &runs); err != nil {
			t.Fatalf("%v: %s", err, r.body)
		}
		if len(runs) != 3 || runs[0].Kind != store.RunApply || runs[0].By != "ada" || runs[1].Kind != store.RunPlan || runs[1].By != "vic" || runs[2].Kind != store.RunCycle {
			t.Fatalf("runs after a cycle, a plan by vic and an apply by ada: %+v", runs)
		}
		if runs[0].Counts["changes"] != plan.Changes || runs[2].Counts["profiles"] != 60 {
			t.Errorf("run counts: apply %v (plan changes %d), cycle %v", runs[0].Counts, plan.Changes, runs[2].Counts)
		}
		var page []store.Run
		_ = json.Unmarshal([]byte(admin.get("/api/v1/runs?kind=cycle").body), &page)
		if len(page) != 1 || page[0].Kind != store.RunCycle {
			t.Errorf("cycle runs: %+v", page)
		}
		_ = json.Unmarshal([]byte(admin.get("/api/v1/runs?limit=1&before="+strconv.FormatInt(runs[0].ID, 10)).body), &page)
		if len(page) != 1 || page[0].ID != runs[1].ID {
			t.Errorf("the page before run %d: %+v", runs[0].ID, page)
		}
		for _, p := range []string{"/api/v1/runs?kind=nap", "/api/v1/runs?limit=0", "/api/v1/runs?before=x"} {
			if r := admin.get(p); r.status != http.StatusBadRequest {
				t.Errorf("GET %s: HTTP %d, want 400", p, r.status)
			}
		}
		var st web.Status
		_ = json.Unmarshal([]byte(admin.get("/api/v1/status").body), &st)
		if st.LatestRun == nil || st.LatestRun.ID != runs[0].ID {
			t.Errorf("status's latest run %+v, want run %d", st.LatestRun, runs[0].ID)
		}
		home := admin.get("/")
		if !strings.Contains(home.body, `id="last-run"`) || !strings.Contains(home.body, "by ada") {
			t.Error("the overview does not show the last run (an apply by ada)")
		}
		list := admin.get("/runs")
		if list.status != http.StatusOK || strings.Count(list.body, "data-run=") != 3 {
			t.Errorf("the runs page: HTTP %d with %d runs", list.status, strings.Count(list.body, "data-run="))
		}
	})
}
