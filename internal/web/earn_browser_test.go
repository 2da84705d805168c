package web_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/segconn/connector/internal/testenv"
)

// TestReviewPagesInBrowser opens the lift, review and spend pages in
// headless Chromium under the app's content security policy: the review's
// chart must draw from the page's JSON with the app's own scripts.
func TestReviewPagesInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser")
	}
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Unavailable(t, "chromium is not installed (apt-get install -y chromium)")
	}
	s := startSite(t, 120)
	bctx, cancel := chromedp.NewContext(headless(t, chrome))
	defer cancel()
	bctx, cancelT := context.WithTimeout(bctx, 90*time.Second)
	defer cancelT()
	b := &browser{t: t, ctx: bctx, base: s.base, dir: artifactsDir(t), width: 1400}
	b.do("sizing the window", chromedp.EmulateViewport(1400, 900))
	b.login("vic", viewerPassword)

	from := time.Now().UTC().AddDate(0, 0, -60).Format(time.DateOnly)
	to := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	b.do("the review", chromedp.Navigate(s.base+"/review?from="+from+"&to="+to), loaded("review"),
		chromedp.WaitVisible(`#review-sizes[data-drawn="true"] canvas`))
	if n := run(b, "chart series", chromedp.Evaluate[int](`document.querySelectorAll('#review-sizes .u-legend .u-series').length`)); n == 0 {
		t.Error("the review's chart has no series")
	}
	b.shot("review")
	b.do("the lift page", chromedp.Navigate(s.base+"/lift"), loaded("lift"))
	b.shot("lift")
	b.do("the spend page", chromedp.Navigate(s.base+"/spend"), loaded("spend"))
	if n := run(b, "spend form", chromedp.Evaluate[int](`document.querySelectorAll('#add-spend').length`)); n != 0 {
		t.Error("a viewer is offered the spend form")
	}
	b.shot("spend")
}
