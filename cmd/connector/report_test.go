package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/outbound"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestReportLiftAndExport fills a store with a segment whose members
// bought more than its holdout, then runs `report lift` and `export` as a
// user would.
func TestReportLiftAndExport(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "c.db")
	st, err := sqlite.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	var changes []adapter.Change
	for i := range 300 {
		ref := domain.ExternalRef{Platform: "woocommerce", ObjectType: domain.ObjectContact, ID: fmt.Sprint(i + 1), LastModified: t0}
		changes = append(changes, adapter.Change{Kind: adapter.ChangeUpsert, Ref: ref, Contact: &domain.Contact{Ref: ref, Emails: []string{fmt.Sprintf("p%d@shop.example", i)}}})
		if (i < 250 && i%2 == 0) || (i >= 250 && i%10 == 0) {
			oref := domain.ExternalRef{Platform: "woocommerce", ObjectType: domain.ObjectOrder, ID: fmt.Sprint(9000 + i), LastModified: t0}
			changes = append(changes, adapter.Change{Kind: adapter.ChangeUpsert, Ref: oref, Order: &domain.Order{Ref: oref, CustomerRef: ref,
				CreatedAt: t0.AddDate(0, 0, 5), Status: domain.StatusCompleted, Currency: "GBP", Total: domain.Money{Amount: 2500, Currency: "GBP"}}})
		}
	}
	if _, err := st.ApplyPage(ctx, "woocommerce", "", "all", changes, nil, "c"); err != nil {
		t.Fatal(err)
	}
	var mc []store.MembershipChange
	for i := range 300 {
		p, err := st.ProfileByEmail(ctx, fmt.Sprintf("p%d@shop.example", i))
		if err != nil {
			t.Fatal(err)
		}
		mc = append(mc, store.MembershipChange{ProfileID: p.ID, Segment: "At Risk", Entered: true, At: t0, Control: i >= 250})
	}
	if err := st.ApplyMemberships(ctx, mc); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := writeConfig(t, "store: {driver: sqlite, path: "+dbPath+"}\nspend:\n  - {segment: \"At Risk\", amount: \"100.00\", currency: GBP, from: 2026-08-01, to: 2026-09-01}\n")

	code, out, errOut := runCLI(t, nil, "report", "lift", "--as-of", "2026-10-01", "-c", cfg)
	if code != exitOK {
		t.Fatalf("report lift: exit %d: %s", code, errOut)
	}
	// 250 members × 10.00 GBP extra each = 2,500.00 GBP for 100.00 GBP spent.
	for _, want := range []string{"At Risk", "250", "50.0%", "10.0%", "+40.0", "10.00 GBP", "members converted more than the holdout",
		"100.00 GBP", "2500.00 GBP", "2400%"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lift lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, nil, "report", "lift", "--as-of", "2026-10-01", "-c", cfg, "-o", "json")
	var js struct {
		Segments []struct {
			Segment string
			Result  struct{ Verdict struct{ Kind string } }
		}
	}
	if code != exitOK || json.Unmarshal([]byte(out), &js) != nil || len(js.Segments) != 1 || js.Segments[0].Result.Verdict.Kind != "better" {
		t.Fatalf("report lift -o json: exit %d: %s", code, out)
	}
	if code, _, _ := runCLI(t, nil, "report", "lift", "--days", "0", "-c", cfg); code != exitUsage {
		t.Errorf("--days 0: exit %d, want %d", code, exitUsage)
	}

	dir := filepath.Join(t.TempDir(), "out")
	code, out, errOut = runCLI(t, nil, "export", "--dir", dir, "--format", "csv", "-c", cfg)
	if code != exitOK {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "memberships.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 301 {
		t.Errorf("memberships.csv has %d lines, want a header and 300 rows", n)
	}
	if !strings.Contains(out, "profiles") || !strings.Contains(out, "300") {
		t.Errorf("export output:\n%s", out)
	}
	if code, _, _ := runCLI(t, nil, "export", "--dir", dir, "--table", "people", "-c", cfg); code != exitUsage {
		t.Errorf("--table people: exit %d, want %d", code, exitUsage)
	}

	code, out, errOut = runCLI(t, nil, "report", "review", "--from", "2026-08-01", "--to", "2026-10-01", "-c", cfg)
	if code != exitOK || !strings.Contains(out, "# Segment review, 2026-08-01 to 2026-10-01") || !strings.Contains(out, "At Risk") {
		t.Fatalf("report review: exit %d: %s%s", code, out, errOut)
	}
	html := filepath.Join(t.TempDir(), "review.html")
	if code, _, errOut := runCLI(t, nil, "report", "review", "--from", "2026-08-01", "--to", "2026-10-01", "--format", "html", "--out", html, "-c", cfg); code != exitOK {
		t.Fatalf("report review html: exit %d: %s", code, errOut)
	}
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), "<h1>Segment review") ||
		!strings.Contains(string(b), `id="review-data"`) || !strings.Contains(string(b), "new uPlot(") || strings.Contains(string(b), "<script src") {
		t.Fatalf("review.html is not a self-contained page with its chart: %v", err)
	}
	if code, _, _ := runCLI(t, nil, "report", "review", "--from", "2026-10-01", "--to", "2026-08-01", "-c", cfg); code != exitUsage {
		t.Errorf("a reversed period: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runCLI(t, nil, "report", "review", "--from", "2026-08-01", "--to", "2026-10-01", "--send", "-c", cfg); code != exitUsage {
		t.Errorf("--send with no destination: exit %d, want %d", code, exitUsage)
	}

	// --send: a signed webhook gets the review's JSON.
	const secret = "review-signing-secret-0123456789"
	got := make(chan []byte, 2)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := outbound.Verify(secret, r.Header, body, time.Now(), outbound.DefaultTolerance); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got <- body
	}))
	defer hook.Close()
	sendCfg := writeConfig(t, "store: {driver: sqlite, path: "+dbPath+"}\nalerts: {webhook: {url: \""+hook.URL+"\", secret: "+secret+"}}\nreview: {link: \"https://connector.shop.example\"}\n")
	code, out, errOut = runCLI(t, nil, "report", "review", "--from", "2026-08-01", "--to", "2026-10-01", "--send", "-c", sendCfg)
	if code != exitOK || out != "" || !strings.Contains(errOut, "Review sent to webhook.") {
		t.Fatalf("report review --send: exit %d: %q %q", code, out, errOut)
	}
	var sent struct {
		Kind, Title, Link string
		Data              struct{ Profiles int }
	}
	if err := json.Unmarshal(<-got, &sent); err != nil || sent.Kind != "review" || sent.Data.Profiles != 300 ||
		sent.Link != "https://connector.shop.example/review?from=2026-08-01&to=2026-10-01" {
		t.Errorf("the webhook got %+v (%v)", sent, err)
	}
}
