package web

import "slices"

// The header's menu. At laptop width every page's link shows in one row.
// On a phone the row holds the pages used most (the overview, customers
// and platforms) and the others go into a More menu: a <details>
// disclosure, which opens and closes without JavaScript (app.js only
// closes it on a click elsewhere or Escape). The less-used links are in
// the page twice, inline (shown on wide screens) and in the menu (shown on
// narrow ones); CSS shows one of the two.

// NavLink is one link of the header's menu.
type NavLink struct {
	Href, Label string
	// Page is the page it opens, as its body's data-page names it.
	Page string
	// Current is true on the page it opens, or one under it (a customer
	// under customers, a plan under plans).
	Current bool
}

// navEntry is a link and the page kinds it is current for.
type navEntry struct {
	href, label, page string
	also              []string // other page kinds under it
	primary           bool     // shown on narrow screens too, not in More
}

func navEntries() []navEntry {
	return []navEntry{
		{href: "/", label: "Overview", page: "overview", also: []string{"segment"}, primary: true},
		{href: "/customers", label: "Customers", page: "customers", also: []string{"customer"}, primary: true},
		{href: "/migrations", label: "Migrations", page: "migrations", also: []string{"movers"}},
		{href: "/lift", label: "Lift", page: "lift"},
		{href: "/review", label: "Review", page: "review"},
		{href: "/spend", label: "Spend", page: "spend"},
		{href: "/models", label: "Models", page: "models"},
		{href: "/segments/builder", label: "Builder", page: "builder"},
		{href: "/platforms", label: "Platforms", page: "platforms", primary: true},
		{href: "/plans", label: "Plans", page: "plans", also: []string{"plan"}},
		{href: "/runs", label: "Runs", page: "runs"},
	}
}

func (v view) navLinks(primary bool) []NavLink {
	var out []NavLink
	for _, e := range navEntries() {
		if e.primary == primary {
			out = append(out, NavLink{Href: e.href, Label: e.label, Page: e.page,
				Current: v.Nav == e.page || slices.Contains(e.also, v.Nav)})
		}
	}
	return out
}

// PrimaryNav are the links shown at every width.
func (v view) PrimaryNav() []NavLink { return v.navLinks(true) }

// MoreNav are the links in the More menu on narrow screens (and inline on
// wide ones).
func (v view) MoreNav() []NavLink { return v.navLinks(false) }

// MoreCurrent is true when the page is one of the More menu's.
func (v view) MoreCurrent() bool {
	return slices.ContainsFunc(v.MoreNav(), func(l NavLink) bool { return l.Current })
}
