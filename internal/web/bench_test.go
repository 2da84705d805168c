package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/web"
)

// bigSegment adds members to a segment until it holds n, as recorded
// memberships (their profiles need not exist: the page shows the id).
func bigSegment(tb testing.TB, a *app.App, name string, n int) {
	tb.Helper()
	ctx := context.Background()
	sizes, err := a.SegmentSizes(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	var changes []store.MembershipChange
	at := time.Now().UTC()
	for i := sizes[name]; i < n; i++ {
		changes = append(changes, store.MembershipChange{ProfileID: fmt.Sprintf("bench-%06d", i), Segment: name, Entered: true, At: at, Reason: "bench"})
	}
	if err := a.Store.ApplyMemberships(ctx, changes); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkPages measures the server time of the overview and of the
// page of a 10,000-member segment, each request beside one of /healthz on
// the same listener in the same loop, and reports each page's time and
// its ratio to /healthz (which does nothing but answer), so the figure
// says what the page costs on this machine rather than what the machine
// is. Run it with:
//
//	go test -run '^$' -bench BenchmarkPages -benchtime 50x ./internal/web/
func BenchmarkPages(b *testing.B) {
	sb, a, l := apptest.StartSandbox(b, 120, time.Now().UTC(), app.Options{})
	_ = sb
	h, err := web.HashPassword(adminPassword)
	if err != nil {
		b.Fatal(err)
	}
	l.Users = []config.User{{Name: "ada", Role: config.RoleAdmin, PasswordHash: h}}
	if _, err := a.Cycle(context.Background(), time.Now().UTC().Add(-40*24*time.Hour), nil); err != nil {
		b.Fatal(err)
	}
	const seg = "rfm:champions"
	bigSegment(b, a, seg, 10000)
	srv, err := web.New(a, web.Options{})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(hs.URL+"/login", url.Values{"username": {"ada"}, "password": {adminPassword}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("signing in: %v %v", resp, err)
	}
	resp.Body.Close()
	get := func(path string) time.Duration {
		start := time.Now()
		resp, err := c.Get(hs.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: HTTP %d %v", path, resp.StatusCode, err)
		}
		if strings.HasPrefix(path, "/segments/") && !strings.Contains(string(body), "10,000") && !strings.Contains(string(body), `data-num="10000"`) {
			b.Fatalf("the segment page does not say it has 10,000 members")
		}
		return took
	}
	for _, page := range []struct{ name, path string }{{"overview", "/"}, {"segment-10k", "/segments/" + url.PathEscape(seg)}} {
		b.Run(page.name, func(b *testing.B) {
			get(page.path) // warm
			var pageT, healthT time.Duration
			b.ResetTimer()
			for range b.N {
				healthT += get("/healthz")
				pageT += get(page.path)
			}
			b.StopTimer()
			b.ReportMetric(float64(pageT.Microseconds())/1000/float64(b.N), "ms/page")
			b.ReportMetric(float64(healthT.Microseconds())/1000/float64(b.N), "ms/healthz")
			b.ReportMetric(float64(pageT)/float64(healthT), "x-healthz")
		})
	}
}
