package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/internal/web"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestOverviewFollowsAWebhook runs the daemon with its public and admin
// listeners: after signed WooCommerce order webhooks make someone a
// champion, the overview and the status on the admin listener show the
// store's memberships at once, not the last full run's.
func TestOverviewFollowsAWebhook(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon against the sandbox")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, a, l := apptest.StartSandbox(t, 150, now, app.Options{})
	if _, err := a.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	s := configureSite(t, sb, a, l)
	pub, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adm, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := daemon.New(a, daemon.Options{Listener: pub, AdminListener: adm, NoSchedule: true, DrainInterval: 200 * time.Millisecond})
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(dctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("daemon: %v", err)
		}
	})
	s.listen("http://" + adm.Addr().String())
	viewer := s.client().login("vic", viewerPassword)

	const seg = "rfm:champions"
	ran, err := a.SegmentSizes(ctx) // what the full run left
	if err != nil {
		t.Fatal(err)
	}
	wooID, _, profileID := apptest.NotYetChampion(t, a)
	secret := sb.Endpoints()[2].Credentials["webhook_secret"]
	sb.WooFake.AddWebhook("test order.created", "order.created", "http://"+pub.Addr().String()+"/webhooks/woocommerce", secret)
	for i := 0; i < 8; i++ {
		oid := sb.NewWooOrder(wooID, "", []domain.LineItem{{SKU: "BIG", Name: "big order", Category: "garden", Quantity: 4,
			UnitPrice: domain.Money{Amount: 900_00, Currency: "USD"}}}, "mobile")
		for _, dl := range sb.WooFake.Trigger(ctx, "order.created", oid) {
			if dl.Status != 200 {
				t.Fatalf("webhook delivery for order %d: HTTP %d", oid, dl.Status)
			}
		}
	}
	testenv.Eventually(t, 20*time.Second, "the webhooks to make "+profileID+" a champion", func() bool {
		ms, err := a.Store.Memberships(ctx, profileID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Segment == seg {
				return true
			}
		}
		return false
	})
	apptest.WaitStoreQuiet(t, a.Store, 20*time.Second)

	store, err := a.SegmentSizes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if store[seg] != ran[seg]+1 {
		t.Fatalf("the store has %d champions, the full run left %d: want one more", store[seg], ran[seg])
	}
	var st web.Status
	if err := json.Unmarshal([]byte(viewer.get("/api/v1/status").body), &st); err != nil {
		t.Fatal(err)
	}
	shown := map[string]int{}
	for _, sz := range st.Segments {
		shown[sz.Name] = sz.Size
	}
	page := viewer.get("/").body
	row := regexp.MustCompile(`<tr data-segment="([^"]+)">\s*<td>.*?</td>\s*<td class="r size"><span class="num" data-num="(\d+)">`)
	onPage := map[string]int{}
	for _, m := range row.FindAllStringSubmatch(page, -1) {
		onPage[m[1]], _ = strconv.Atoi(m[2])
	}
	for name, n := range store {
		if shown[name] != n {
			t.Errorf("the status shows %s with %d members, the store has %d", name, shown[name], n)
		}
		if got, ok := onPage[name]; !ok || got != n {
			t.Errorf("the overview shows %s with %d members (listed: %v), the store has %d", name, got, ok, n)
		}
	}
}
