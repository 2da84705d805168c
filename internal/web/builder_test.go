package web_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/web"
)

// TestSegmentBuilder: a rule is checked as it is typed (a wrong variable
// is named with its field), its dry-run size equals what the engine
// computes over the same data, a viewer may check but not save, an admin
// saves it, and the connector's next start computes it.
func TestSegmentBuilder(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full cycle against the sandbox")
	}
	s := startSite(t, 80)
	admin := s.client().login("ada", adminPassword)
	viewer := s.client().login("vic", viewerPassword)
	hdr := func(c *client) http.Header { return http.Header{"X-Csrf-Token": {c.csrf}} }

	var vars []map[string]string
	if err := json.Unmarshal([]byte(viewer.get("/api/v1/segments/variables").body), &vars); err != nil || len(vars) < 20 {
		t.Fatalf("rule variables: %v %d", err, len(vars))
	}

	var v web.Validation
	r := viewer.do(http.MethodPost, "/api/v1/segments/validate", `{"name":"big-spenders","expr":"monetry >= 100"}`, "application/json", hdr(viewer))
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if v.Valid || len(v.Problems) == 0 || v.Problems[0].Path != "expr" || !strings.Contains(v.Problems[0].Message, "monetry") {
		t.Errorf("a misspelt variable: %+v", v)
	}
	r = viewer.do(http.MethodPost, "/api/v1/segments/validate", `{"name":"Big Spenders","expr":"monetary >= 100"}`, "application/json", hdr(viewer))
	_ = json.Unmarshal([]byte(r.body), &v)
	if v.Valid || v.Problems[0].Path != "name" {
		t.Errorf("a name with capitals and a space: %+v", v)
	}
	if r := viewer.do(http.MethodPost, "/api/v1/segments/validate", `{"name":"x","expr":"true"}`, "application/json", nil); r.status != http.StatusForbidden {
		t.Errorf("validating without the CSRF token: HTTP %d, want 403", r.status)
	}

	const rule = `{"name":"big-spenders","description":"spent 100 or more","expr":"monetary >= 100"}`
	r = viewer.do(http.MethodPost, "/api/v1/segments/dry-run", rule, "application/json", hdr(viewer))
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || !v.Valid || v.DryRun == nil {
		t.Fatalf("dry run: %v %s", err, r.body)
	}
	// The same count, straight from the segment engine's features.
	res, err := s.app.Recompute(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, f := range res.Features {
		if float64(f.Monetary)/100 >= 100 { // cents to dollars
			want++
		}
	}
	if v.DryRun.Size != want || v.DryRun.Profiles != res.Len() || want == 0 {
		t.Errorf("dry run counts %d of %d, the engine's features %d of %d", v.DryRun.Size, v.DryRun.Profiles, want, res.Len())
	}

	if r := viewer.do(http.MethodPut, "/api/v1/segments/definitions/big-spenders", rule, "application/json", hdr(viewer)); r.status != http.StatusForbidden {
		t.Errorf("a viewer saves: HTTP %d, want 403", r.status)
	}
	form := url.Values{"csrf_token": {viewer.csrf}, "name": {"big-spenders"}, "expr": {"monetary >= 100"}, "action": {"save"}}.Encode()
	if r := viewer.do(http.MethodPost, "/segments/builder", form, "application/x-www-form-urlencoded", nil); r.status != http.StatusForbidden {
		t.Errorf("a viewer saves through the page: HTTP %d, want 403", r.status)
	}
	if r := admin.do(http.MethodPut, "/api/v1/segments/definitions/big-spenders", `{"name":"big-spenders","expr":"monetary >"}`, "application/json", hdr(admin)); r.status != http.StatusUnprocessableEntity {
		t.Errorf("saving a broken rule: HTTP %d, want 422", r.status)
	}
	if r := admin.do(http.MethodPut, "/api/v1/segments/definitions/rfm", `{"name":"rfm","expr":"true"}`, "application/json", hdr(admin)); r.status != http.StatusUnprocessableEntity {
		t.Errorf("a rule in the rfm definition's place: HTTP %d, want 422", r.status)
	}
	form = url.Values{"csrf_token": {admin.csrf}, "name": {"big-spenders"}, "description": {"spent 100 or more"}, "expr": {"monetary >= 100"}, "action": {"save"}}.Encode()
	if r := admin.do(http.MethodPost, "/segments/builder", form, "application/x-www-form-urlencoded", nil); r.status != http.StatusSeeOther {
		t.Fatalf("an admin saves through the page: HTTP %d %s", r.status, r.body)
	}
	var stored []web.StoredDefinition
	if err := json.Unmarshal([]byte(viewer.get("/api/v1/segments/definitions").body), &stored); err != nil || len(stored) != 1 ||
		stored[0].Definition.Expr != "monetary >= 100" || stored[0].UpdatedBy != "ada" || stored[0].Active {
		t.Fatalf("stored definitions: %v %+v", err, stored)
	}
	if page := viewer.get("/segments/builder?name=big-spenders"); !strings.Contains(page.body, "monetary &gt;= 100") {
		t.Error("the builder does not open the saved rule for editing")
	}

	// The next start computes it, beside the configured definitions.
	a2, err := app.Open(context.Background(), s.cfg, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close(context.Background())
	res2, err := a2.Recompute(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for i := range res2.Len() {
		for _, m := range res2.Memberships(i) {
			if m.Segment == "big-spenders" {
				got++
			}
		}
	}
	if got != want {
		t.Errorf("after a restart the engine puts %d in big-spenders, the dry run said %d", got, want)
	}
	if len(a2.Engine.Definitions()) != len(s.app.Engine.Definitions())+1 {
		t.Errorf("after a restart %d definitions, before %d", len(a2.Engine.Definitions()), len(s.app.Engine.Definitions()))
	}
}
