package web_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/web"
)

// TestFiguresInTheConfiguredCurrency serves a shop selling in pounds: the
// status, the overview, a segment page, the glossary and the spend form
// give their money in GBP, never USD.
func TestFiguresInTheConfiguredCurrency(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full cycle against the sandbox")
	}
	now := time.Now().UTC()
	sb, a, l := apptest.StartSandboxWith(t, sandbox.Options{Customers: 60, AsOf: now, Currency: "GBP"}, app.Options{})
	if _, err := a.Cycle(context.Background(), now, nil); err != nil {
		t.Fatal(err)
	}
	s := serveSite(t, sb, a, l)
	admin := s.client().login("ada", adminPassword)

	var st web.Status
	if err := json.Unmarshal([]byte(admin.get("/api/v1/status").body), &st); err != nil {
		t.Fatal(err)
	}
	if st.Revenue.Currency != "GBP" || st.Revenue.Amount <= 0 {
		t.Errorf("the status's revenue is %+v, want pounds", st.Revenue)
	}
	segment := ""
	for _, sz := range st.Segments {
		if sz.Size > 0 && strings.HasPrefix(sz.Name, "rfm:") {
			segment = sz.Name
			break
		}
	}
	for _, p := range []string{"/", "/segments/" + url.PathEscape(segment), "/spend", "/api/v1/glossary"} {
		body := admin.get(p).body
		if strings.Contains(body, "USD") || !strings.Contains(body, "GBP") {
			t.Errorf("%s: names USD or not GBP", p)
		}
	}
	if body := admin.get("/").body; !strings.Contains(body, `data-currency="GBP"`) {
		t.Error("the overview gives no amount in GBP")
	}
}
