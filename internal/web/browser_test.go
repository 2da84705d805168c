package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/segconn/connector/internal/testenv"
)

// artifactsDir is where screenshots go: $TEST_ARTIFACTS, or a temporary
// directory.
func artifactsDir(t *testing.T) string {
	if d := os.Getenv("TEST_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// headless returns an allocator of headless Chromium browsers, with
// extra options, stopped when the test ends.
func headless(t *testing.T, chrome string, extra ...chromedp.ExecAllocatorOption) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(chrome), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	t.Cleanup(cancel)
	return actx
}

// browser drives one headless Chromium tab.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	dir   string
	width int
	shots map[string]bool // the screenshots written, by name
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%d px: %s: %v", b.width, what, err)
	}
}

func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatalf("%d px: %s: %v", b.width, what, err)
	}
	return v
}

// loaded waits for a page of kind page to finish its scripts.
func loaded(page string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(fmt.Sprintf(`body[data-page=%q][data-loaded="true"]`, page))
}

// shot checks the page's layout (see checkLayout) and saves a PNG of
// the whole page.
func (b *browser) shot(name string) {
	b.t.Helper()
	b.checkLayout(name)
	b.save(name)
}

// save writes a PNG of the whole page as NAME-WIDTH.png.
func (b *browser) save(name string) {
	b.t.Helper()
	b.write(name, run(b, "screenshot "+name, chromedp.FullScreenshot(100)))
}

// saveView writes a PNG of what the window shows as NAME-WIDTH.png.
func (b *browser) saveView(name string) {
	b.t.Helper()
	b.write(name, run(b, "screenshot "+name, chromedp.CaptureScreenshot()))
}

func (b *browser) write(name string, png []byte) {
	b.t.Helper()
	path := filepath.Join(b.dir, fmt.Sprintf("%s-%d.png", name, b.width))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if b.shots == nil {
		b.shots = map[string]bool{}
	}
	b.shots[name] = true
}

func (b *browser) login(name, password string) {
	b.t.Helper()
	b.do("signing in as "+name, chromedp.Navigate(b.base+"/login"), loaded("login"),
		chromedp.SendKeys(`input[name="username"]`, name), chromedp.SendKeys(`input[name="password"]`, password),
		chromedp.Click(`#login button`), loaded("overview"))
}

// logout signs out with the header's button, or on a narrow screen with
// the one in the More menu.
func (b *browser) logout() {
	b.t.Helper()
	if run(b, "finding the sign-out", chromedp.Evaluate[bool](`document.querySelector('form.who button').getClientRects().length > 0`)) {
		b.do("signing out", chromedp.Click(`form.who button`), loaded("login"))
		return
	}
	b.do("signing out through the More menu", chromedp.Click(`header.top details.more > summary`),
		chromedp.WaitVisible(`header.top .more-signout button`), chromedp.Click(`header.top .more-signout button`), loaded("login"))
}

// TestBrowserWalk signs in, in headless Chromium at phone and laptop
// width, walks every page, clicks from a segment to a member to the
// customer page and from a migration's matrix to the people who moved,
// builds a rule segment and sees its size, applies a plan as admin and is
// refused as viewer, writing a screenshot of each page. On every page the
// header is one row at most 56 px tall and nothing scrolls sideways; at
// phone width the less-used pages are in the More menu, and each of its
// items opens its page.
func TestBrowserWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser")
	}
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Unavailable(t, "chromium is not installed (apt-get install -y chromium)")
	}
	s := startSite(t, 150)
	sizes, err := s.app.SegmentSizes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	segment := ""
	for name, n := range sizes {
		if n > 0 && strings.HasPrefix(name, "rfm:") && (segment == "" || name < segment) {
			segment = name
		}
	}
	if segment == "" {
		t.Fatal("no rfm segment has members")
	}
	dir := artifactsDir(t)

	actx := headless(t, chrome)

	for _, width := range []int{390, 1400} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			bctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			bctx, cancelT := context.WithTimeout(bctx, 150*time.Second)
			defer cancelT()
			b := &browser{t: t, ctx: bctx, base: s.base, dir: dir, width: width}
			b.do("sizing the window", chromedp.EmulateViewport(int64(width), 900))

			b.do("opening the app", chromedp.Navigate(s.base+"/"), loaded("login"))
			b.shot("login")
			b.login("ada", adminPassword)
			b.do("drawing the overview chart", chromedp.WaitVisible(`#chart[data-drawn="true"] canvas`))
			profiles := run(b, "profiles", chromedp.Text(`#profiles`))
			if !strings.ContainsAny(profiles, "0123456789") {
				t.Errorf("the overview shows profiles %q", profiles)
			}
			b.shot("overview")

			// Segment, then one member, then their customer page.
			b.do("opening "+segment, chromedp.Click(fmt.Sprintf(`tr[data-segment=%q] a`, segment)), loaded("segment"),
				chromedp.WaitVisible(`#chart[data-drawn]`))
			if got := run(b, "segment name", chromedp.Text(`#segment-name`)); got != segment {
				t.Errorf("the segment page is titled %q, want %q", got, segment)
			}
			b.shot("segment")
			member := run(b, "first member", chromedp.Text(`#members a.member`))
			b.do("opening a member", chromedp.Click(`#members a.member`), loaded("customer"))
			html := run(b, "customer page", chromedp.OuterHTML(`main`))
			if !strings.Contains(html, member) {
				t.Errorf("the customer page does not show the member %q", member)
			}
			if n := run(b, "explain", chromedp.Evaluate[int](`document.querySelectorAll('#explain li').length`)); n == 0 {
				t.Error("the customer page explains no segment")
			}
			if !strings.Contains(html, segment) {
				t.Errorf("the customer page does not list %s", segment)
			}
			b.shot("customer")

			b.do("searching customers", chromedp.Navigate(s.base+"/customers"), loaded("customers"),
				chromedp.SendKeys(`input[name="q"]`, member[:3]), chromedp.Click(`form.search button`), loaded("customers"),
				chromedp.WaitVisible(`#hits tbody a`))
			b.shot("customers")
			// Migrations: the flow chart is drawn, and a matrix cell leads
			// to its people and on to one of them.
			b.do("migrations", chromedp.Navigate(s.base+"/migrations"), loaded("migrations"), chromedp.WaitVisible(`#migration`),
				chromedp.WaitVisible(`#flow-chart[data-drawn="true"] canvas`))
			if n := run(b, "flow bands", chromedp.Evaluate[int](`Number(document.querySelector('#flow-chart').dataset.links)`)); n == 0 {
				t.Error("the flow chart has no band")
			}
			b.shot("migrations")
			b.do("opening a flow's people", chromedp.Click(`#migration td a`), loaded("movers"), chromedp.WaitVisible(`#movers a.member`))
			b.shot("migration-people")
			b.do("opening a mover", chromedp.Click(`#movers a.member`), loaded("customer"))
			b.do("platforms", chromedp.Navigate(s.base+"/platforms"), loaded("platforms"))
			b.shot("platforms")

			// The segment builder: a misspelt variable is named as it is
			// typed; the corrected rule is counted, then saved.
			name := fmt.Sprintf("walk-%d", width)
			b.do("opening the builder", chromedp.Navigate(s.base+"/segments/builder"), loaded("builder"),
				chromedp.SendKeys(`#builder input[name="name"]`, name),
				chromedp.SendKeys(`#builder textarea[name="expr"]`, "monetry >= 100"),
				chromedp.WaitVisible(`#builder[data-valid="false"]`))
			if p := run(b, "problems", chromedp.Text(`#problems`)); !strings.Contains(p, "monetry") {
				t.Errorf("the builder shows %q for a misspelt variable", p)
			}
			b.shot("builder-error")
			b.do("correcting the rule", chromedp.Evaluate[chromedp.Void](`document.querySelector('#builder textarea[name="expr"]').value = ""; undefined`),
				chromedp.SendKeys(`#builder textarea[name="expr"]`, "monetary >= 100"),
				chromedp.WaitVisible(`#builder[data-valid="true"]`), chromedp.Click(`#check`), chromedp.WaitVisible(`#size`))
			size := run(b, "dry-run size", chromedp.Evaluate[int](`Number(document.querySelector('#size').dataset.size)`))
			if size <= 0 || size >= 150 {
				t.Errorf("the builder counts %d of 150 customers spending 100 or more", size)
			}
			b.shot("builder")
			b.do("saving the segment", chromedp.Click(`#save`), loaded("builder"), chromedp.WaitVisible(`#flash`),
				chromedp.WaitVisible(fmt.Sprintf(`#stored tr[data-stored=%q]`, name)))

			// A plan, applied as admin after confirming.
			b.do("making a plan", chromedp.Navigate(s.base+"/plans"), loaded("plans"), chromedp.Click(`#make-plan button`), loaded("plan"))
			b.shot("plan")
			b.do("applying the plan", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true; undefined`, chromedp.EvalIgnoreExceptions),
				chromedp.Click(`#apply input[name="confirm"]`), chromedp.Click(`#apply button`), loaded("plan"), chromedp.WaitVisible(`#applied`))
			b.shot("plan-applied")
			b.do("runs", chromedp.Navigate(s.base+"/runs"), loaded("runs"), chromedp.WaitVisible(`#runs tr[data-run][data-kind="apply"]`))
			b.shot("runs")
			b.checkNav()
			b.logout()

			// A viewer sees no apply button, and a forged apply is refused.
			b.login("vic", viewerPassword)
			b.do("the builder as viewer", chromedp.Navigate(s.base+"/segments/builder"), loaded("builder"), chromedp.WaitVisible(`#viewer-note`))
			if n := run(b, "save button", chromedp.Evaluate[int](`document.querySelectorAll('#save').length`)); n != 0 {
				t.Error("a viewer is offered the save button")
			}
			b.do("making a plan as viewer", chromedp.Navigate(s.base+"/plans"), loaded("plans"), chromedp.Click(`#make-plan button`), loaded("plan"),
				chromedp.WaitVisible(`#viewer-note`))
			if n := run(b, "apply form", chromedp.Evaluate[int](`document.querySelectorAll('#apply').length`)); n != 0 {
				t.Error("a viewer is offered the apply button")
			}
			status := run(b, "forged apply", chromedp.Evaluate[int](`fetch(location.pathname + '/apply', {method: 'POST',
				headers: {'Content-Type': 'application/x-www-form-urlencoded'},
				body: 'confirm=yes&csrf_token=' + encodeURIComponent(document.querySelector('input[name=csrf_token]').value)}).then(r => r.status)`, chromedp.EvalAwaitPromise))
			if status != 403 {
				t.Errorf("a viewer applying a plan got HTTP %d, want 403", status)
			}
			b.shot("plan-viewer")
			b.logout()
		})
	}

	t.Run("390-without-script", func(t *testing.T) {
		bctx, cancel := chromedp.NewContext(headless(t, chrome, chromedp.Flag("blink-settings", "scriptEnabled=false")))
		defer cancel()
		bctx, cancelT := context.WithTimeout(bctx, 60*time.Second)
		defer cancelT()
		b := &browser{t: t, ctx: bctx, base: s.base, dir: dir, width: 390}
		b.checkMoreWithoutScript()
	})
}
