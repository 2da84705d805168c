package daemon_test

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/segconn/connector/internal/testenv"
)

// TestDashboardInARealBrowser loads the dashboard in headless Chromium
// after a full cycle and checks what a person sees: the profile count,
// the platforms and a row with a bar per segment — and no secret.
func TestDashboardInARealBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser")
	}
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Unavailable(t, "chromium is not installed (apt-get install -y chromium)")
	}
	ctx := context.Background()
	_, env, l := startSandboxEnvAt(t, 120, time.Now().UTC())
	_, base := startDaemon(t, env)
	rep, err := env.Cycle(ctx, time.Now().UTC(), nil)
	if err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(chrome), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancelT := context.WithTimeout(bctx, 60*time.Second)
	defer cancelT()

	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(`body[data-loaded="true"]`)); err != nil {
		t.Fatalf("loading the dashboard in chromium: %v", err)
	}
	profiles, err := chromedp.Run(bctx, chromedp.Text(`#profiles`))
	if err != nil {
		t.Fatal(err)
	}
	platforms, err := chromedp.Run(bctx, chromedp.Text(`#platforms`))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('#segments tbody tr .bar').length`))
	if err != nil {
		t.Fatal(err)
	}
	html, err := chromedp.Run(bctx, chromedp.OuterHTML(`html`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.ReplaceAll(profiles, ",", "") != strconv.Itoa(rep.Profiles) {
		t.Errorf("dashboard shows %q profiles, the cycle made %d", profiles, rep.Profiles)
	}
	for _, p := range []string{"hubspot", "salesforce", "woocommerce"} {
		if !strings.Contains(platforms, p) {
			t.Errorf("dashboard platforms %q lack %s", platforms, p)
		}
	}
	if rows != len(env.Pipeline.LastResult().KPIs) || rows == 0 {
		t.Errorf("dashboard has %d segment bars, the run has %d segments", rows, len(env.Pipeline.LastResult().KPIs))
	}
	if !strings.Contains(html, `data-segment="rfm:champions"`) {
		t.Error("no row for rfm:champions")
	}
	for _, secret := range l.SecretValues {
		if len(secret) >= 6 && strings.Contains(html, secret) {
			t.Errorf("the dashboard shows a secret")
		}
	}
}
