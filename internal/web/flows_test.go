package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/web"
)

// TestMigrationFlowsLeadToThePeople: every non-empty cell of the
// migration matrix links to its people, and the people API lists exactly
// that many, each a current member of the target segment.
func TestMigrationFlowsLeadToThePeople(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full cycle against the sandbox")
	}
	s := startSite(t, 60)
	c := s.client().login("vic", viewerPassword)
	var m web.Migration
	if err := json.Unmarshal([]byte(c.get("/api/v1/migrations?definition=rfm").body), &m); err != nil {
		t.Fatal(err)
	}
	page := c.get("/migrations?definition=rfm")
	if !strings.Contains(page.body, `id="flow-chart"`) || !strings.Contains(page.body, "/static/echarts/echarts.min.js") {
		t.Error("the migrations page has no flow chart")
	}
	cells := 0
	for i, row := range m.Matrix {
		for j, n := range row {
			if n == 0 {
				continue
			}
			cells++
			src, dst := m.Segments[i], m.Segments[j]
			q := url.Values{"definition": {"rfm"}, "source": {src}, "target": {dst}, "limit": {"500"}}
			var mv web.Movers
			r := c.get("/api/v1/migrations/people?" + q.Encode())
			if err := json.Unmarshal([]byte(r.body), &mv); err != nil {
				t.Fatalf("%v: %s", err, r.body)
			}
			if mv.Total != n || len(mv.Items) != n {
				t.Errorf("%s → %s: the matrix says %d, the people API lists %d of %d", src, dst, n, len(mv.Items), mv.Total)
			}
			for _, p := range mv.Items {
				ms, err := s.app.Store.Memberships(context.Background(), p.ID)
				if err != nil {
					t.Fatal(err)
				}
				in := false
				for _, x := range ms {
					in = in || x.Segment == dst
				}
				if !in && dst != "(none)" {
					t.Errorf("%s is listed as moved to %s but is not a member", p.ID, dst)
				}
			}
			link := strings.ReplaceAll("/migrations/people?"+url.Values{"definition": {"rfm"}, "from": {m.From.Format("2006-01-02")}, "to": {m.To.Format("2006-01-02")}, "source": {src}, "target": {dst}}.Encode(), "&", "&amp;")
			if !strings.Contains(page.body, `href="`+link+`"`) {
				t.Errorf("the matrix cell %s → %s does not link to its people (%s)", src, dst, link)
			}
			pp := c.get("/migrations/people?" + q.Encode())
			if pp.status != http.StatusOK || strings.Count(pp.body, `class="member"`) != min(n, 50) {
				t.Errorf("the people page of %s → %s: HTTP %d, %d people, want %d", src, dst, pp.status, strings.Count(pp.body, `class="member"`), min(n, 50))
			}
		}
	}
	if cells == 0 {
		t.Fatal("the migration has no flow")
	}
	if r := c.get("/api/v1/migrations/people?source=x"); r.status != http.StatusBadRequest {
		t.Errorf("people without a definition: HTTP %d, want 400", r.status)
	}
}
