package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/segconn/connector/internal/report"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func init() {
	// The export answers Parquet, which kin-openapi has no decoder for;
	// the body is opaque to the schema (a binary string).
	openapi3filter.RegisterBodyDecoder("application/vnd.apache.parquet", openapi3filter.FileBodyDecoder)
}

// TestReviewLiftAndExport reads the review, the lift page and one
// segment's export over a sandbox after a full cycle 40 days ago, and
// checks them against the store.
func TestReviewLiftAndExport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full cycle against the sandbox")
	}
	s := startSite(t, 120)
	viewer := s.client().login("vic", viewerPassword)
	admin := s.client().login("ada", adminPassword)
	ctx := context.Background()
	live, err := s.app.SegmentSizes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Now().UTC().AddDate(0, 0, -60).Format(time.DateOnly)
	to := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)

	t.Run("ReviewAPI", func(t *testing.T) {
		r := viewer.get("/api/v1/review?from=" + from + "&to=" + to)
		if r.status != http.StatusOK {
			t.Fatalf("HTTP %d %s", r.status, r.body)
		}
		var rev report.ReviewResult
		if err := json.Unmarshal([]byte(r.body), &rev); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.app.Store.CountProfiles(ctx); rev.Profiles != n || n == 0 {
			t.Errorf("review counts %d profiles, the store %d", rev.Profiles, n)
		}
		if len(rev.Sizes.Days) != 61 {
			t.Errorf("%d days in the size series, want 61", len(rev.Sizes.Days))
		}
		if len(rev.Segments) == 0 {
			t.Fatal("no segments in the review")
		}
		for _, c := range rev.Segments {
			// Every membership was made by the cycle inside the period, so
			// the end of the period is now.
			if c.SizeTo != live[c.Segment] || c.SizeFrom != 0 || c.Entered != c.SizeTo {
				t.Errorf("%s: %d → %d (+%d), live size %d", c.Segment, c.SizeFrom, c.SizeTo, c.Entered, live[c.Segment])
			}
			if sz := rev.Sizes.Segments[c.Segment]; len(sz) != 61 || sz[60] != c.SizeTo || sz[0] != 0 {
				t.Errorf("%s: chart series %v, want 0 … %d", c.Segment, sz, c.SizeTo)
			}
		}
		for _, bad := range []string{"from=yesterday", "from=" + to + "&to=" + from} {
			if r := viewer.get("/api/v1/review?" + bad); r.status != http.StatusBadRequest {
				t.Errorf("%s: HTTP %d, want 400", bad, r.status)
			}
		}
		// Without dates: the last whole quarter.
		if r := viewer.get("/api/v1/review"); r.status != http.StatusOK {
			t.Errorf("default period: HTTP %d %s", r.status, r.body)
		}
	})

	t.Run("ReviewPage", func(t *testing.T) {
		r := viewer.get("/review?from=" + from + "&to=" + to)
		if r.status != http.StatusOK {
			t.Fatalf("HTTP %d %s", r.status, r.body)
		}
		for _, want := range []string{`id="review-sizes"`, `<script type="application/json" id="review-data">{"days":[`, `src="/static/review.js"`, "Largest moves", `aria-current="page">Review`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("the review page lacks %s", want)
			}
		}
		if js := viewer.get("/static/review.js"); js.status != http.StatusOK || !strings.Contains(js.body, "new uPlot(") {
			t.Errorf("review.js: HTTP %d", js.status)
		}
		p := viewer.get("/review?from=" + from + "&to=" + to + "&format=html")
		if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("printable review: HTTP %d, %q", p.status, p.header.Get("Content-Disposition"))
		}
		if strings.Contains(p.body, "<script src=") || strings.Contains(p.body, `<link rel="stylesheet"`) || !strings.Contains(p.body, "uPlot") {
			t.Error("the printable review is not self-contained or lacks uPlot")
		}
	})

	t.Run("LiftPage", func(t *testing.T) {
		r := viewer.get("/lift?days=30")
		if r.status != http.StatusOK {
			t.Fatalf("HTTP %d %s", r.status, r.body)
		}
		lifts := viewer.get("/api/v1/lift")
		var ls []report.SegmentLift
		if err := json.Unmarshal([]byte(lifts.body), &ls); err != nil {
			t.Fatal(err)
		}
		if len(ls) == 0 {
			if !strings.Contains(r.body, `id="no-lift"`) {
				t.Error("no holdouts and no word of it")
			}
			return
		}
		for _, l := range ls {
			if !strings.Contains(r.body, `data-segment="`+l.Segment+`"`) {
				t.Errorf("the lift page lacks %s", l.Segment)
			}
		}
		if r := viewer.get("/lift?days=0"); r.status != http.StatusBadRequest {
			t.Errorf("days=0: HTTP %d", r.status)
		}
	})

	t.Run("SegmentExport", func(t *testing.T) {
		var seg string
		for name, n := range live {
			if n > live[seg] {
				seg = name
			}
		}
		people := map[string]bool{}
		memberships := 0
		err := s.app.Store.AllMemberships(ctx, func(m domain.Membership) error {
			if m.Segment == seg {
				people[m.ProfileID] = true
				memberships++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		orders := 0
		for id := range people {
			o, err := s.app.Store.Orders(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			orders += len(o)
		}
		for table, want := range map[string]int{"profiles": len(people), "orders": orders, "memberships": memberships} {
			r := viewer.get("/api/v1/segments/" + seg + "/export?format=parquet&table=" + table)
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/vnd.apache.parquet" {
				t.Fatalf("%s: HTTP %d %s", table, r.status, r.header.Get("Content-Type"))
			}
			tbl, err := pqarrow.ReadTable(ctx, bytes.NewReader([]byte(r.body)), parquet.NewReaderProperties(memory.DefaultAllocator),
				pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
			if err != nil {
				t.Fatalf("%s: arrow cannot read the export: %v", table, err)
			}
			if int(tbl.NumRows()) != want || r.header.Get("X-Export-Rows") != strconv.Itoa(want) {
				t.Errorf("%s of %s: arrow reads %d rows (header %s), the store has %d", table, seg, tbl.NumRows(), r.header.Get("X-Export-Rows"), want)
			}
			tbl.Release()
		}
		r := viewer.get("/api/v1/segments/" + seg + "/export?format=csv")
		recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if r.status != http.StatusOK || err != nil || len(recs) != len(people)+1 || recs[0][0] != "profile_id" {
			t.Errorf("csv: HTTP %d, %d records (%v), want %d and a header", r.status, len(recs), err, len(people)+1)
		}
		future := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
		if r := viewer.get("/api/v1/segments/" + seg + "/export?format=csv&table=memberships&since=" + future); r.header.Get("X-Export-Rows") != strconv.Itoa(memberships) {
			t.Errorf("memberships are the current state, whatever since says: %s rows", r.header.Get("X-Export-Rows"))
		}
		if r := viewer.get("/api/v1/segments/" + seg + "/export?format=csv&table=membership_history&since=" + future); r.header.Get("X-Export-Rows") != "0" {
			t.Errorf("history since the day after tomorrow: %s rows", r.header.Get("X-Export-Rows"))
		}
		for path, want := range map[string]int{
			"/api/v1/segments/no:such/export":                 http.StatusNotFound,
			"/api/v1/segments/" + seg + "/export?format=xml":  http.StatusBadRequest,
			"/api/v1/segments/" + seg + "/export?table=users": http.StatusBadRequest,
			"/api/v1/segments/" + seg + "/export?since=soon":  http.StatusBadRequest,
		} {
			if r := viewer.get(path); r.status != want {
				t.Errorf("%s: HTTP %d, want %d", path, r.status, want)
			}
		}
	})

	t.Run("SpendEnteredInTheApp", func(t *testing.T) {
		form := func(c *client, v url.Values) response {
			v.Set("csrf_token", c.csrf)
			return c.do(http.MethodPost, "/spend", v.Encode(), "application/x-www-form-urlencoded", nil)
		}
		good := url.Values{"segment": {"rfm:champions"}, "amount": {"250.00"}, "currency": {"usd"}, "from": {from}, "to": {to}, "note": {"win-back mail"}}
		if r := form(viewer, good); r.status != http.StatusForbidden {
			t.Errorf("a viewer entering spend: HTTP %d, want 403", r.status)
		}
		noToken := url.Values{"segment": {"rfm:champions"}, "amount": {"250.00"}, "currency": {"USD"}, "from": {from}, "to": {to}}
		if r := admin.do(http.MethodPost, "/spend", noToken.Encode(), "application/x-www-form-urlencoded", nil); r.status != http.StatusForbidden {
			t.Errorf("spend without the CSRF token: HTTP %d, want 403", r.status)
		}
		for _, bad := range []url.Values{
			{"segment": {"no:such"}, "amount": {"250.00"}, "currency": {"USD"}, "from": {from}, "to": {to}},
			{"segment": {"rfm:champions"}, "amount": {"-5"}, "currency": {"USD"}, "from": {from}, "to": {to}},
			{"segment": {"rfm:champions"}, "amount": {"250.00"}, "currency": {"USD"}, "from": {to}, "to": {from}},
		} {
			if r := form(admin, bad); r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="spend-error"`) {
				t.Errorf("%v: HTTP %d, want 400 with the reason", bad, r.status)
			}
		}
		if got, _ := s.app.Store.SpendEntries(ctx); len(got) != 0 {
			t.Fatalf("refused forms stored %+v", got)
		}
		if r := form(admin, good); r.status != http.StatusSeeOther {
			t.Fatalf("admin entering spend: HTTP %d %s", r.status, r.body)
		}
		got, err := s.app.Store.SpendEntries(ctx)
		if err != nil || len(got) != 1 || got[0].AmountMinor != 25000 || got[0].Currency != "USD" || got[0].By != "ada" || got[0].Note != "win-back mail" {
			t.Fatalf("stored %+v, %v", got, err)
		}
		page := viewer.get("/spend")
		if page.status != http.StatusOK || !strings.Contains(page.body, "250.00 USD") || strings.Contains(page.body, `id="add-spend"`) ||
			strings.Contains(page.body, "/delete") {
			t.Errorf("the viewer's spend page: HTTP %d, or it offers the admin's forms", page.status)
		}
		// The review's return on spend counts it when the segment has a lift.
		var rev report.ReviewResult
		if err := json.Unmarshal([]byte(viewer.get("/api/v1/review?from="+from+"&to="+to).body), &rev); err != nil {
			t.Fatal(err)
		}
		for _, l := range rev.Lift {
			if l.Segment == "rfm:champions" && (len(rev.ROI) != 1 || rev.ROI[0].Spend != 25000) {
				t.Errorf("champions have a lift but the ROI is %+v", rev.ROI)
			}
		}
		del := url.Values{"csrf_token": {admin.csrf}}.Encode()
		id := strconv.FormatInt(got[0].ID, 10)
		if r := viewer.do(http.MethodPost, "/spend/"+id+"/delete", url.Values{"csrf_token": {viewer.csrf}}.Encode(), "application/x-www-form-urlencoded", nil); r.status != http.StatusForbidden {
			t.Errorf("a viewer deleting spend: HTTP %d", r.status)
		}
		if r := admin.do(http.MethodPost, "/spend/"+id+"/delete", del, "application/x-www-form-urlencoded", nil); r.status != http.StatusSeeOther {
			t.Errorf("deleting: HTTP %d", r.status)
		}
		if got, _ := s.app.Store.SpendEntries(ctx); len(got) != 0 {
			t.Errorf("after delete: %+v", got)
		}
	})
}
