package web_test

import (
	"fmt"
	"slices"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/segconn/connector/internal/testenv"
)

// maxHeader is the tallest the header may be: one row.
const maxHeader = 56

// pageLayout is what checkLayout measures of a page.
type pageLayout struct {
	Header      float64 `json:"header"` // the header's height; -1 without one
	ScrollWidth float64 `json:"scrollWidth"`
	Inner       float64 `json:"inner"`
	// Clash names two of the header's items that overlap, or one that
	// runs past the window's edge; empty when none do.
	Clash string `json:"clash"`
}

const measureLayout = `(() => {
  const h = document.querySelector('header.top');
  const items = h ? Array.from(h.querySelectorAll('.brand, nav > a, nav > details > summary, .who > *'))
    .filter(e => e.getClientRects().length > 0)
    .map(e => { const r = e.getBoundingClientRect(); return {name: e.textContent.trim(), left: r.left, right: r.right}; }) : [];
  let clash = '';
  for (let i = 1; i < items.length; i++) {
    if (items[i].left < items[i - 1].right - 0.5) { clash = items[i - 1].name + ' overlaps ' + items[i].name; }
  }
  if (items.length > 0 && items[items.length - 1].right > window.innerWidth) { clash = items[items.length - 1].name + ' runs past the edge'; }
  return {header: h ? h.getBoundingClientRect().height : -1, clash: clash,
    scrollWidth: document.scrollingElement.scrollWidth, inner: window.innerWidth};
})()`

// checkLayout checks that the page does not scroll sideways (wide tables
// scroll inside their own box) and that its header, on every page but
// the login, is one row at most maxHeader px tall whose items neither
// overlap nor run past the window's edge.
func (b *browser) checkLayout(name string) {
	b.t.Helper()
	l := run(b, "measuring "+name, chromedp.Evaluate[pageLayout](measureLayout))
	if l.ScrollWidth > l.Inner {
		b.t.Errorf("%d px: the %s page is %.0f px wide in a %.0f px window: it scrolls sideways", b.width, name, l.ScrollWidth, l.Inner)
	}
	if l.Clash != "" {
		b.t.Errorf("%d px: the %s page's header does not fit: %s", b.width, name, l.Clash)
	}
	switch {
	case l.Header < 0 && name != "login":
		b.t.Errorf("%d px: the %s page has no header", b.width, name)
	case l.Header > maxHeader:
		b.t.Errorf("%d px: the %s page's header is %.0f px tall, more than one row of %d px", b.width, name, l.Header, maxHeader)
	}
}

// navLinks are the header's page links a viewer can see: inline, and in
// the More menu (when the menu itself shows), by the page each opens.
type navLinks struct {
	Inline []string `json:"inline"`
	More   []string `json:"more"`
}

const readNav = `(() => {
  const shown = el => el.getClientRects().length > 0;
  const more = document.querySelector('header.top details.more');
  return {
    inline: Array.from(document.querySelectorAll('header.top nav > a[data-nav]')).filter(shown).map(a => a.dataset.nav),
    more: more && shown(more) ? Array.from(more.querySelectorAll('a[data-nav]')).map(a => a.dataset.nav) : [],
  };
})()`

// checkNav checks the header reaches every page exactly once: at phone
// width the less-used ones through the More menu, each of whose items is
// opened in turn (the menu is opened on the page the last one led to, and
// a screenshot of it open is saved as more-menu); at laptop width every
// link shows and the More menu does not.
func (b *browser) checkNav() {
	b.t.Helper()
	pages := []string{"overview", "customers", "migrations", "lift", "review", "spend", "models", "builder", "platforms", "plans", "runs"}
	b.do("the overview", chromedp.Navigate(b.base+"/"), loaded("overview"))
	nav := run(b, "reading the header", chromedp.Evaluate[navLinks](readNav))
	all := slices.Concat(nav.Inline, nav.More)
	slices.Sort(all)
	want := slices.Sorted(slices.Values(pages))
	if !slices.Equal(all, want) {
		b.t.Errorf("%d px: the header links to %v (inline %v, More %v), want each of %v once", b.width, all, nav.Inline, nav.More, want)
	}
	if b.width > 1200 {
		if len(nav.More) != 0 || len(nav.Inline) != len(pages) {
			b.t.Errorf("%d px: %d links inline and %v in a More menu, want all %d inline", b.width, len(nav.Inline), nav.More, len(pages))
		}
		return
	}
	if len(nav.More) == 0 || len(nav.Inline) > 4 {
		b.t.Fatalf("%d px: inline %v, More %v: want the less-used pages in the More menu", b.width, nav.Inline, nav.More)
	}
	for i, page := range nav.More {
		item := fmt.Sprintf(`header.top details.more a[data-nav=%q]`, page)
		b.do("opening the More menu for "+page, chromedp.Click(`header.top details.more > summary`), chromedp.WaitVisible(item))
		if i == 0 {
			b.checkLayout("more-menu")
			b.saveView("more-menu")
		}
		b.do("choosing "+page+" in the More menu", chromedp.Click(item), loaded(page))
		marked := run(b, "the current page in the menu", chromedp.Evaluate[bool](fmt.Sprintf(
			`document.querySelector('header.top details.more summary.here') !== null && document.querySelector('%s[aria-current="page"]') !== null`, item)))
		if !marked {
			b.t.Errorf("%d px: on the %s page the More menu does not mark it as the current page", b.width, page)
		}
		if open := run(b, "the menu's state", chromedp.Evaluate[bool](`document.querySelector('header.top details.more').open`)); open {
			b.t.Errorf("%d px: the More menu is open on arriving at %s", b.width, page)
		}
		if b.shots[page] {
			b.checkLayout(page)
		} else {
			b.shot(page)
		}
	}
}

// checkMoreWithoutScript signs in and opens a page through the More menu
// in a browser that runs no script: the menu is a <details>.
func (b *browser) checkMoreWithoutScript() {
	b.t.Helper()
	page := func(p string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(fmt.Sprintf(`body[data-page=%q]`, p))
	}
	b.do("sizing the window", chromedp.EmulateViewport(int64(b.width), 900))
	b.do("signing in without script", chromedp.Navigate(b.base+"/login"), page("login"),
		chromedp.SendKeys(`input[name="username"]`, "vic"), chromedp.SendKeys(`input[name="password"]`, viewerPassword),
		chromedp.Click(`#login button`), page("overview"))
	// Once the page has loaded, app.js would have marked it.
	testenv.Eventually(b.t, 10*time.Second, "the overview to load", func() bool {
		return run(b, "the document's state", chromedp.Evaluate[string](`document.readyState`)) == "complete"
	})
	if ran := run(b, "whether app.js ran", chromedp.Evaluate[bool](`document.body.dataset.loaded === "true"`)); ran {
		b.t.Fatal("the page's script ran in a browser with script turned off")
	}
	b.checkLayout("overview")
	b.do("opening the More menu without script", chromedp.Click(`header.top details.more > summary`),
		chromedp.WaitVisible(`header.top details.more a[data-nav="runs"]`))
	b.checkLayout("more-menu")
	b.do("choosing runs without script", chromedp.Click(`header.top details.more a[data-nav="runs"]`), page("runs"),
		chromedp.WaitVisible(`header.top details.more summary.here`))
	b.do("signing out without script", chromedp.Click(`header.top details.more > summary`),
		chromedp.Click(`header.top .more-signout button`), page("login"))
}
