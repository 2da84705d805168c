package web_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/web"
)

// TestPlatformsNameTheirAdapter runs two WooCommerce shops and HubSpot as
// the instances shop-eu, shop-us and hubspot: the status, the platforms
// API and the Platforms page name the adapter behind each instance.
func TestPlatformsNameTheirAdapter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three fake platforms")
	}
	ts := apptest.StartTwoShops(t, 30, time.Now().UTC(), app.Options{})
	s := serveSite(t, ts.Sandbox, ts.App, ts.Config)
	viewer := s.client().login("vic", viewerPassword)
	want := map[string]string{"hubspot": "hubspot", apptest.ShopEU: "woocommerce", apptest.ShopUS: "woocommerce"}

	check := func(what string, got map[string]string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s lists %v, want %v", what, got, want)
		}
		for inst, ad := range want {
			if got[inst] != ad {
				t.Errorf("%s: instance %s runs adapter %q, want %q", what, inst, got[inst], ad)
			}
		}
	}

	var st web.Status
	r := viewer.get("/api/v1/status")
	if err := json.Unmarshal([]byte(r.body), &st); r.status != http.StatusOK || err != nil {
		t.Fatalf("status: HTTP %d, %v", r.status, err)
	}
	got := map[string]string{}
	for _, p := range st.Platforms {
		got[p.Platform] = p.Adapter
	}
	check("GET /api/v1/status", got)

	var ps []web.PlatformView
	r = viewer.get("/api/v1/platforms")
	if err := json.Unmarshal([]byte(r.body), &ps); r.status != http.StatusOK || err != nil {
		t.Fatalf("platforms: HTTP %d, %v", r.status, err)
	}
	got = map[string]string{}
	for _, p := range ps {
		got[p.Platform] = p.Adapter
	}
	check("GET /api/v1/platforms", got)

	page := viewer.get("/platforms")
	if page.status != http.StatusOK {
		t.Fatalf("the Platforms page: HTTP %d", page.status)
	}
	row := regexp.MustCompile(`<tr class="state-[a-z]+" data-platform="([^"]+)" data-adapter="([^"]*)">.*?<td class="adapter">([^<]*)</td>`)
	got = map[string]string{}
	for _, m := range row.FindAllStringSubmatch(page.body, -1) {
		if m[2] != m[3] {
			t.Errorf("the Platforms page's row of %s says adapter %q and shows %q", m[1], m[2], m[3])
		}
		got[m[1]] = m[3]
	}
	check("the Platforms page", got)

	// The overview names the adapter where the instance's name does not.
	overview := viewer.get("/")
	for _, inst := range []string{apptest.ShopEU, apptest.ShopUS} {
		li := regexp.MustCompile(`data-platform="` + inst + `"[^>]*>\s*<strong>[^<]*</strong> <span class="small adapter">woocommerce</span>`)
		if !li.MatchString(overview.body) {
			t.Errorf("the overview does not say %s runs woocommerce", inst)
		}
	}
	if regexp.MustCompile(`data-platform="hubspot"[^>]*>\s*<strong>hubspot</strong> <span class="small adapter">`).MatchString(overview.body) {
		t.Error("the overview repeats hubspot's adapter beside its own name")
	}
}
