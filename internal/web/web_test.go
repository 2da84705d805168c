package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/web"
)

func TestWebApp(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full cycle against the sandbox")
	}
	s := startSite(t, 120)
	anon := s.client()
	admin := s.client().login("ada", adminPassword)
	viewer := s.client().login("vic", viewerPassword)
	bearer := http.Header{"Authorization": {"Bearer " + apiToken}}

	t.Run("WithoutASessionTheAPIAnswers401", func(t *testing.T) {
		for _, p := range []string{"/api/v1/status", "/api/v1/segments", "/api/v1/segments/rfm:champions/members", "/api/v1/profiles?q=a", "/api/v1/plans", "/api/v1/lift", "/api/v1/segments/history"} {
			if r := anon.get(p); r.status != http.StatusUnauthorized {
				t.Errorf("GET %s without a session: HTTP %d, want 401", p, r.status)
			}
		}
		if r := anon.do(http.MethodPost, "/api/v1/plans", "", "", nil); r.status != http.StatusUnauthorized {
			t.Errorf("POST /api/v1/plans without a session: HTTP %d, want 401", r.status)
		}
		if r := anon.get("/"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
			t.Errorf("the overview without a session: HTTP %d to %q, want a redirect to /login", r.status, r.header.Get("Location"))
		}
		if r := anon.do(http.MethodGet, "/api/v1/status", "", "", http.Header{"Authorization": {"Bearer wrong-token-wrong-token-wrong"}}); r.status != http.StatusUnauthorized {
			t.Errorf("a wrong API token: HTTP %d, want 401", r.status)
		}
	})

	t.Run("APITokenReads", func(t *testing.T) {
		r := anon.do(http.MethodGet, "/api/v1/status", "", "", bearer)
		if r.status != http.StatusOK {
			t.Fatalf("status with an API token: HTTP %d %s", r.status, r.body)
		}
	})

	t.Run("CSRFLessPostsAreRefused", func(t *testing.T) {
		if r := admin.do(http.MethodPost, "/api/v1/plans", "", "", nil); r.status != http.StatusForbidden {
			t.Errorf("POST /api/v1/plans with a session and no CSRF token: HTTP %d, want 403", r.status)
		}
		if r := admin.do(http.MethodPost, "/api/v1/plans", "", "", http.Header{"X-Csrf-Token": {"forged"}}); r.status != http.StatusForbidden {
			t.Errorf("POST with a wrong CSRF token: HTTP %d, want 403", r.status)
		}
		form := url.Values{"csrf_token": {admin.csrf}}.Encode()
		if r := admin.do(http.MethodPost, "/plans", form, "application/x-www-form-urlencoded", http.Header{"Sec-Fetch-Site": {"cross-site"}}); r.status != http.StatusForbidden {
			t.Errorf("a cross-site form POST with the right token: HTTP %d, want 403", r.status)
		}
		if r := admin.do(http.MethodPost, "/logout", "", "", nil); r.status != http.StatusForbidden {
			t.Errorf("a CSRF-less sign-out: HTTP %d, want 403", r.status)
		}
	})

	var plan web.PlanView
	t.Run("ViewerCannotApply", func(t *testing.T) {
		r := viewer.do(http.MethodPost, "/api/v1/plans", "", "", http.Header{"X-Csrf-Token": {viewer.csrf}})
		if r.status != http.StatusCreated {
			t.Fatalf("a viewer makes a plan: HTTP %d %s", r.status, r.body)
		}
		if err := json.Unmarshal([]byte(r.body), &plan); err != nil {
			t.Fatal(err)
		}
		r = viewer.do(http.MethodPost, "/api/v1/plans/"+plan.Fingerprint+"/apply", "", "", http.Header{"X-Csrf-Token": {viewer.csrf}})
		if r.status != http.StatusForbidden {
			t.Errorf("a viewer applies a plan: HTTP %d, want 403", r.status)
		}
		form := url.Values{"csrf_token": {viewer.csrf}, "confirm": {"yes"}}.Encode()
		if r := viewer.do(http.MethodPost, "/plans/"+plan.Fingerprint+"/apply", form, "application/x-www-form-urlencoded", nil); r.status != http.StatusForbidden {
			t.Errorf("a viewer applies through the page: HTTP %d, want 403", r.status)
		}
		if r := anon.do(http.MethodPost, "/api/v1/plans/"+plan.Fingerprint+"/apply", "", "", bearer); r.status != http.StatusForbidden {
			t.Errorf("a viewer API token applies: HTTP %d, want 403", r.status)
		}
	})

	t.Run("AdminApplies", func(t *testing.T) {
		r := admin.do(http.MethodPost, "/api/v1/plans/"+plan.Fingerprint+"/apply", "", "", http.Header{"X-Csrf-Token": {admin.csrf}})
		if r.status != http.StatusOK {
			t.Fatalf("the admin applies: HTTP %d %s", r.status, r.body)
		}
		var v web.PlanView
		if err := json.Unmarshal([]byte(r.body), &v); err != nil {
			t.Fatal(err)
		}
		if v.Applied == nil || v.Applied.By != "ada" {
			t.Fatalf("applied plan says %+v", v.Applied)
		}
		if v.Changes == 0 {
			t.Error("the plan 40 days after the last run changes nobody")
		}
		written := 0
		for _, n := range v.Applied.Written {
			written += n
		}
		if written == 0 {
			t.Errorf("applying %d changes wrote nothing back: %+v", v.Changes, v.Applied)
		}
	})

	t.Run("EveryEndpointValidatesAndShowsNoSecret", func(t *testing.T) {
		var segs []web.Segment
		r := admin.get("/api/v1/segments")
		if err := json.Unmarshal([]byte(r.body), &segs); err != nil || len(segs) == 0 {
			t.Fatalf("segments: %v %s", err, r.body)
		}
		var champ web.Segment
		for _, sg := range segs {
			if sg.Size > 0 {
				champ = sg
				break
			}
		}
		name := url.PathEscape(champ.Name)
		var page web.MembersPage
		r = admin.get("/api/v1/segments/" + name + "/members?limit=5")
		if err := json.Unmarshal([]byte(r.body), &page); err != nil || len(page.Items) == 0 {
			t.Fatalf("members of %s: %v %s", champ.Name, err, r.body)
		}
		if page.Total != champ.Size {
			t.Errorf("members total %d, segment size %d", page.Total, champ.Size)
		}
		m := page.Items[0]
		for _, p := range []string{
			"/api/v1/status", "/api/v1/segments/" + name, "/api/v1/segments/history",
			"/api/v1/segments/history?segment=" + url.QueryEscape(champ.Name),
			"/api/v1/segments/" + name + "/members?q=" + url.QueryEscape(m.Email),
			"/api/v1/segments/" + name + "/members?limit=9999", "/api/v1/segments/nope:nope",
			"/api/v1/profiles?q=" + url.QueryEscape(m.Email), "/api/v1/profiles?q=" + url.QueryEscape(m.Name),
			"/api/v1/profiles/" + url.PathEscape(m.ProfileID), "/api/v1/profiles/nobody",
			"/api/v1/plans", "/api/v1/plans/" + plan.Fingerprint, "/api/v1/plans/unknown", "/api/v1/lift",
			"/", "/segments/" + name, "/segments/" + name + "?q=" + url.QueryEscape(m.Email),
			"/customers", "/customers?q=" + url.QueryEscape(m.Email), "/customers/" + url.PathEscape(m.ProfileID),
			"/platforms", "/plans", "/plans/" + plan.Fingerprint,
		} {
			r := admin.get(p)
			if r.status >= 500 {
				t.Errorf("GET %s: HTTP %d %s", p, r.status, r.body)
			}
		}
		csv := admin.get("/api/v1/segments/" + name + "/members.csv")
		if lines := strings.Count(csv.body, "\n"); lines != champ.Size+1 {
			t.Errorf("CSV of %s has %d lines, want %d members and a header", champ.Name, lines, champ.Size)
		}
		var search web.MembersPage
		r = admin.get("/api/v1/segments/" + name + "/members?q=" + url.QueryEscape(m.Email))
		if err := json.Unmarshal([]byte(r.body), &search); err != nil || search.Total != 1 || search.Items[0].ProfileID != m.ProfileID {
			t.Errorf("searching %s's members for a member's email: %v %s", champ.Name, err, r.body)
		}
		var c web.Customer
		r = admin.get("/api/v1/profiles/" + url.PathEscape(m.ProfileID))
		if err := json.Unmarshal([]byte(r.body), &c); err != nil {
			t.Fatal(err)
		}
		if len(c.Links) == 0 || len(c.Explain) == 0 || len(c.Timeline) == 0 {
			t.Errorf("profile %s: %d links, %d explained definitions, %d timeline entries", m.ProfileID, len(c.Links), len(c.Explain), len(c.Timeline))
		}
		var st web.Status
		_ = json.Unmarshal([]byte(admin.get("/api/v1/status").body), &st)
		if st.Revenue.Amount <= 0 || st.Revenue.Currency != "USD" {
			t.Errorf("status revenue %+v", st.Revenue)
		}
	})

	t.Run("MigrationMatchesTheSizes", func(t *testing.T) {
		sizes, err := s.app.SegmentSizes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var m web.Migration
		r := admin.get("/api/v1/migrations?definition=rfm")
		if err := json.Unmarshal([]byte(r.body), &m); err != nil {
			t.Fatalf("%v: %s", err, r.body)
		}
		// Everyone entered after "from" (30 days ago): the (none) row holds
		// everyone, and each column adds up to the segment's size now.
		for j, seg := range m.Segments {
			col := 0
			for i := range m.Segments {
				col += m.Matrix[i][j]
			}
			if seg != "(none)" && col != sizes[seg] {
				t.Errorf("migration column %s adds up to %d, the segment has %d", seg, col, sizes[seg])
			}
		}
		for _, p := range []string{"/api/v1/migrations", "/api/v1/migrations?definition=rfm&from=yesterday", "/api/v1/migrations?definition=rfm&from=2026-01-02&to=2026-01-01"} {
			if r := admin.get(p); r.status != http.StatusBadRequest {
				t.Errorf("GET %s: HTTP %d, want 400", p, r.status)
			}
		}
		if r := admin.get("/migrations?definition=rfm"); r.status != http.StatusOK || !strings.Contains(r.body, `id="migration"`) {
			t.Errorf("migrations page: HTTP %d", r.status)
		}
	})

	t.Run("SizesAreLiveAndTheHistoryEndsAtThem", func(t *testing.T) {
		ctx := context.Background()
		before, err := s.app.SegmentSizes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// A membership change recorded as the webhook path records one,
		// after the last full run: the numbers must follow at once.
		ps, err := s.app.Store.ListProfiles(ctx, "", 1)
		if err != nil || len(ps) == 0 {
			t.Fatal(err)
		}
		const seg = "rfm:champions"
		in := false
		ms, _ := s.app.Store.Memberships(ctx, ps[0].ID)
		for _, m := range ms {
			in = in || m.Segment == seg
		}
		want := before[seg] + 1
		if in {
			want = before[seg] - 1
		}
		if err := s.app.Store.ApplyMemberships(ctx, []store.MembershipChange{{ProfileID: ps[0].ID, Segment: seg, Entered: !in, At: time.Now().UTC(), Reason: "test"}}); err != nil {
			t.Fatal(err)
		}
		var st web.Status
		if err := json.Unmarshal([]byte(admin.get("/api/v1/status").body), &st); err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, sz := range st.Segments {
			got[sz.Name] = sz.Size
		}
		if got[seg] != want {
			t.Errorf("status says %s has %d members, the store %d", seg, got[seg], want)
		}
		var h web.History
		if err := json.Unmarshal([]byte(admin.get("/api/v1/segments/history").body), &h); err != nil {
			t.Fatal(err)
		}
		if len(h.Days) == 0 || h.Bucket != "minute" {
			t.Fatalf("history recorded minutes ago: bucket %q, %d points", h.Bucket, len(h.Days))
		}
		for name, n := range got {
			last := 0
			if col := h.Segments[name]; len(col) > 0 {
				last = col[len(col)-1]
			}
			if last != n {
				t.Errorf("history ends with %s at %d, the store has %d", name, last, n)
			}
		}
	})

	t.Run("SessionCookieIsLockedDown", func(t *testing.T) {
		c := s.client()
		r := c.do(http.MethodPost, "/login", url.Values{"username": {"vic"}, "password": {viewerPassword}}.Encode(), "application/x-www-form-urlencoded", http.Header{"X-Forwarded-For": {"10.9.9.9"}})
		sc := r.header.Get("Set-Cookie")
		for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
			if !strings.Contains(sc, want) {
				t.Errorf("session cookie %q lacks %s", sc, want)
			}
		}
	})
	t.Run("LoginIsRateLimited", func(t *testing.T) {
		c := s.client()
		limited := false
		for i := 0; i < 8; i++ {
			r := c.do(http.MethodPost, "/login", url.Values{"username": {"ada"}, "password": {"guess"}}.Encode(), "application/x-www-form-urlencoded", nil)
			if r.status == http.StatusTooManyRequests {
				limited = true
				break
			}
			if r.status != http.StatusUnauthorized {
				t.Fatalf("a wrong password: HTTP %d", r.status)
			}
		}
		if !limited {
			t.Error("8 wrong passwords in a row were never rate limited")
		}
	})

}
