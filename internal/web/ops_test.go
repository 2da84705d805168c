package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/outbound"
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
	ctx := context.Background()
	// WooCommerce refuses every customer update for good (a 403 inside
	// its batch answer), so the plan applied below parks its write-back.
	woo := wooCustomers(t, s)
	s.sb.WooFake.FailCustomerUpdates("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.", 403, woo...)

	t.Run("WithoutASessionTheNewEndpointsAnswer401", func(t *testing.T) {
		anon := s.client()
		for _, p := range []string{"/api/v1/runs", "/api/v1/platforms", "/api/v1/writeback/failed", "/api/v1/deliveries",
			"/api/v1/migrations/people?definition=rfm", "/api/v1/segments/variables", "/api/v1/segments/definitions"} {
			if r := anon.get(p); r.status != http.StatusUnauthorized {
				t.Errorf("GET %s without a session: HTTP %d, want 401", p, r.status)
			}
		}
		for _, p := range []string{"/api/v1/writeback/retry", "/api/v1/deliveries/retry", "/api/v1/segments/validate", "/api/v1/segments/dry-run"} {
			if r := anon.do(http.MethodPost, p, `{"all":true}`, "application/json", nil); r.status != http.StatusUnauthorized {
				t.Errorf("POST %s without a session: HTTP %d, want 401", p, r.status)
			}
		}
		for _, p := range []string{"/runs", "/segments/builder", "/migrations/people?definition=rfm"} {
			if r := anon.get(p); r.status != http.StatusSeeOther {
				t.Errorf("GET %s without a session: HTTP %d, want a redirect to the login", p, r.status)
			}
		}
		if r := anon.get("/healthz"); r.status != http.StatusOK {
			t.Errorf("/healthz: HTTP %d", r.status)
		}
	})

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
	t.Run("FailedWritebackIsListedAndRetriedByAnAdmin", func(t *testing.T) {
		var failed []app.ParkedWrite
		if err := json.Unmarshal([]byte(viewer.get("/api/v1/writeback/failed").body), &failed); err != nil {
			t.Fatal(err)
		}
		if len(failed) == 0 {
			t.Fatal("no failed write-back after WooCommerce refused every update")
		}
		for _, f := range failed {
			if f.Platform != "woocommerce" || !strings.Contains(f.Error, "not allowed") {
				t.Errorf("failed item %+v", f)
			}
		}
		page := admin.get("/platforms")
		if n := strings.Count(page.body, "data-item="); n != len(failed) || !strings.Contains(page.body, `action="/platforms/writeback/retry"`) {
			t.Errorf("the platforms page lists %d failed items (want %d) with retry for an admin", n, len(failed))
		}
		if vp := viewer.get("/platforms"); strings.Contains(vp.body, `action="/platforms/writeback/retry"`) {
			t.Error("a viewer is offered the write-back retry")
		}
		body := `{"all":true}`
		if r := viewer.do(http.MethodPost, "/api/v1/writeback/retry", body, "application/json", http.Header{"X-Csrf-Token": {viewer.csrf}}); r.status != http.StatusForbidden {
			t.Errorf("a viewer retries: HTTP %d, want 403", r.status)
		}
		if r := admin.do(http.MethodPost, "/api/v1/writeback/retry", body, "application/json", nil); r.status != http.StatusForbidden {
			t.Errorf("an admin retries without the CSRF token: HTTP %d, want 403", r.status)
		}
		form := "csrf_token=" + viewer.csrf + "&all=yes"
		if r := viewer.do(http.MethodPost, "/platforms/writeback/retry", form, "application/x-www-form-urlencoded", nil); r.status != http.StatusForbidden {
			t.Errorf("a viewer retries through the page: HTTP %d, want 403", r.status)
		}
		if r := admin.do(http.MethodPost, "/api/v1/writeback/retry", `{"ids":[999999]}`, "application/json", http.Header{"X-Csrf-Token": {admin.csrf}}); r.status != http.StatusBadRequest {
			t.Errorf("retrying an unknown id: HTTP %d, want 400", r.status)
		}
		// The platform lets the updates through again; one is retried
		// through the page, the rest through the API, and they are written.
		s.sb.WooFake.FailCustomerUpdates("", "", 0, woo...)
		form = "csrf_token=" + admin.csrf + "&id=" + strconv.FormatInt(failed[0].ID, 10)
		if r := admin.do(http.MethodPost, "/platforms/writeback/retry", form, "application/x-www-form-urlencoded", nil); r.status != http.StatusOK || !strings.Contains(r.body, "Requeued 1 ") {
			t.Errorf("retrying one item through the page: HTTP %d", r.status)
		}
		r := admin.do(http.MethodPost, "/api/v1/writeback/retry", body, "application/json", http.Header{"X-Csrf-Token": {admin.csrf}})
		var rep app.RetryReport
		if err := json.Unmarshal([]byte(r.body), &rep); err != nil || rep.Requeued+rep.Superseded != len(failed)-1 {
			t.Fatalf("retrying all: HTTP %d %s; want %d requeued", r.status, r.body, len(failed)-1)
		}
		st, err := s.app.Drain(ctx, "woocommerce")
		if err != nil || st.OK == 0 {
			t.Fatalf("draining the retried items: %+v, %v", st, err)
		}
		if err := json.Unmarshal([]byte(admin.get("/api/v1/writeback/failed").body), &failed); err != nil || len(failed) != 0 {
			t.Errorf("failed items after the retry was written: %+v, %v", failed, err)
		}
		var ps []web.PlatformView
		if err := json.Unmarshal([]byte(admin.get("/api/v1/platforms").body), &ps); err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.LastPull.IsZero() || p.LastPush.IsZero() || p.Quota.Used == 0 {
				t.Errorf("platform %s after a cycle and an apply: last pull %v, last push %v, quota used %d", p.Platform, p.LastPull, p.LastPush, p.Quota.Used)
			}
		}
	})

	t.Run("DeliveriesAreListedAndDeadLettersRetried", func(t *testing.T) {
		// Two deliveries to a receiver whose URL holds credentials: one
		// pending, one dead-lettered after its last attempt.
		const endpoint = "https://hook-user:hook-password-1234@hooks.example.com/segments?token=query-token-5678"
		s.secrets = append(s.secrets, "hook-password-1234", "query-token-5678")
		now := time.Now().UTC()
		var ds []store.Delivery
		for i, typ := range []string{"segment.entered", "segment.left"} {
			payload, _ := json.Marshal(outbound.Event{ID: "evt-" + typ, Type: typ, OccurredAt: now, Segment: "rfm:champions", ProfileID: "p" + strconv.Itoa(i), Email: "someone@example.com"})
			ds = append(ds, store.Delivery{Endpoint: endpoint, EventID: "evt-" + typ, EventType: typ, Payload: payload, CreatedAt: now})
		}
		if _, err := s.app.Store.DeliveriesEnqueue(ctx, ds); err != nil {
			t.Fatal(err)
		}
		claimed, err := s.app.Store.DeliveriesClaim(ctx, endpoint, now, time.Minute, 1)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claiming: %v %v", claimed, err)
		}
		if err := s.app.Store.DeliveriesFailed(ctx, []store.DeliveryFailure{{ID: claimed[0].ID, Error: "receiver answered 410 Gone", Dead: true}}, now); err != nil {
			t.Fatal(err)
		}
		var open []web.OutboundDelivery
		r := viewer.get("/api/v1/deliveries")
		if err := json.Unmarshal([]byte(r.body), &open); err != nil || len(open) != 2 {
			t.Fatalf("open deliveries: %v %s", err, r.body)
		}
		if strings.Contains(r.body, "someone@example.com") || !strings.Contains(r.body, "hooks.example.com/segments") {
			t.Errorf("the deliveries show the event's email or lose the endpoint: %s", r.body)
		}
		var dead []web.OutboundDelivery
		_ = json.Unmarshal([]byte(viewer.get("/api/v1/deliveries?status=dead").body), &dead)
		if len(dead) != 1 || dead[0].ID != claimed[0].ID || dead[0].LastError != "receiver answered 410 Gone" {
			t.Fatalf("dead letters: %+v", dead)
		}
		if r := viewer.get("/api/v1/deliveries?status=lost"); r.status != http.StatusBadRequest {
			t.Errorf("an unknown status: HTTP %d, want 400", r.status)
		}
		page := admin.get("/platforms")
		if !strings.Contains(page.body, `data-delivery="`+strconv.FormatInt(dead[0].ID, 10)+`" data-status="dead"`) {
			t.Error("the platforms page does not list the dead letter")
		}
		if r := viewer.do(http.MethodPost, "/api/v1/deliveries/retry", `{"all":true}`, "application/json", http.Header{"X-Csrf-Token": {viewer.csrf}}); r.status != http.StatusForbidden {
			t.Errorf("a viewer retries deliveries: HTTP %d, want 403", r.status)
		}
		r = admin.do(http.MethodPost, "/api/v1/deliveries/retry", `{"ids":[`+strconv.FormatInt(dead[0].ID, 10)+`]}`, "application/json", http.Header{"X-Csrf-Token": {admin.csrf}})
		if r.status != http.StatusOK || !strings.Contains(r.body, `"requeued":1`) {
			t.Fatalf("an admin retries the dead letter: HTTP %d %s", r.status, r.body)
		}
		_ = json.Unmarshal([]byte(viewer.get("/api/v1/deliveries?status=pending").body), &open)
		if len(open) != 2 {
			t.Errorf("pending after the retry: %+v", open)
		}
	})
}

// wooCustomers returns the WooCommerce customer ids the store links.
func wooCustomers(t *testing.T, s *site) []int {
	t.Helper()
	ps, err := s.app.Store.ListProfiles(context.Background(), "", 10000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, p := range ps {
		for _, r := range p.Refs {
			if r.Platform == "woocommerce" && r.ObjectType == "contact" {
				if id, err := strconv.Atoi(r.ID); err == nil && id > 0 {
					ids = append(ids, id)
				}
			}
		}
	}
	return ids
}
