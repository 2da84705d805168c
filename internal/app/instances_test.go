package app_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// shopper is a person of the generated business who has an account in
// both shops and a HubSpot contact, and purchases in both shops.
type shopper struct {
	email              string
	euID, usID, hsID   string
	euBuys, usBuys     int // purchases in each shop
	otherPurchases     int // closed-won deals on HubSpot
	euOrders, usOrders int // orders of any status
}

// findShopper picks, from the sandbox's ground truth, the first person in
// both shops and on HubSpot who bought in each shop.
func findShopper(t *testing.T, sb *sandbox.Sandbox) shopper {
	t.Helper()
	d := sb.Data
	contactOf := func(recs []domain.Contact, email string) string {
		for _, c := range recs {
			if domain.NormalizeEmail(c.Emails[0]) == email {
				return c.Ref.ID
			}
		}
		return ""
	}
	for _, p := range d.People {
		if len(p.Shops) != 2 || !p.InHubSpot || p.WooGuest {
			continue
		}
		s := shopper{email: p.Email, euID: contactOf(d.WooCommerce.Contacts, p.Email),
			usID: contactOf(d.MoreShops[0].Contacts, p.Email), hsID: contactOf(d.HubSpot.Contacts, p.Email)}
		if s.euID == "" || s.usID == "" || s.hsID == "" {
			continue
		}
		for _, o := range d.WooCommerce.Orders {
			if domain.NormalizeEmail(o.BillingEmail) == p.Email {
				s.euOrders++
				if o.Status.IsPurchase() {
					s.euBuys++
				}
			}
		}
		for _, o := range d.MoreShops[0].Orders {
			if domain.NormalizeEmail(o.BillingEmail) == p.Email {
				s.usOrders++
				if o.Status.IsPurchase() {
					s.usBuys++
				}
			}
		}
		for _, o := range d.HubSpot.Orders {
			if o.CustomerRef.ID == s.hsID && o.Status.IsPurchase() {
				s.otherPurchases++
			}
		}
		if s.euBuys > 0 && s.usBuys > 0 {
			return s
		}
	}
	t.Fatal("the sandbox has no person with purchases in both shops and a HubSpot contact")
	return shopper{}
}

// TestTwoShopsOneBusiness: two WooCommerce shops (two fakes, one adapter)
// and HubSpot, each an instance, on a real SQLite file. A person with the
// same email in both shops and on HubSpot is one profile with three
// links; the orders of both shops count toward RFM; each shop's fake gets
// exactly its own customers' write-back; a customer id both shops use is
// two people; and pulling one shop moves only that shop's cursors. Before
// instances, the shop-eu and shop-us sections were unknown platforms.
func TestTwoShopsOneBusiness(t *testing.T) {
	if testing.Short() {
		t.Skip("a full cycle against three fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	ts := apptest.StartTwoShops(t, 300, now, app.Options{})
	a := ts.App
	if got, want := a.Platforms(), []string{"hubspot", apptest.ShopEU, apptest.ShopUS}; !slices.Equal(got, want) {
		t.Fatalf("platforms %v, want %v", got, want)
	}
	rep, err := a.Cycle(ctx, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	for p, e := range rep.PullErrors {
		t.Fatalf("pull %s: %s", p, e)
	}
	for p, e := range rep.PushErrors {
		t.Fatalf("push %s: %s", p, e)
	}

	// One person, three links.
	s := findShopper(t, ts.Sandbox)
	prof, err := a.Store.ProfileByEmail(ctx, s.email)
	if err != nil {
		t.Fatal(err)
	}
	var links []string
	for _, r := range prof.Refs {
		if r.ObjectType == domain.ObjectContact {
			links = append(links, r.Platform+"/"+r.ID)
		}
	}
	slices.Sort(links)
	want := []string{"hubspot/" + s.hsID, apptest.ShopEU + "/" + s.euID, apptest.ShopUS + "/" + s.usID}
	if !slices.Equal(links, want) {
		t.Fatalf("profile of %s links %v, want %v", s.email, links, want)
	}

	// Both shops' orders are the person's, and all their purchases count.
	orders, err := a.Store.Orders(ctx, prof.ID)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, o := range orders {
		per[o.Ref.Platform]++
	}
	if per[apptest.ShopEU] != s.euOrders || per[apptest.ShopUS] != s.usOrders {
		t.Errorf("stored orders per instance %v, want %s %d and %s %d", per, apptest.ShopEU, s.euOrders, apptest.ShopUS, s.usOrders)
	}
	_, ex, err := a.Explain(ctx, s.email, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(ex.Features["frequency"]), strconv.Itoa(s.euBuys+s.usBuys+s.otherPurchases); got != want {
		t.Errorf("RFM frequency of %s = %s, want %s (%d in %s, %d in %s, %d deals)", s.email, got, want,
			s.euBuys, apptest.ShopEU, s.usBuys, apptest.ShopUS, s.otherPurchases)
	}

	// Each shop's fake holds exactly its own customers' segments.
	for _, inst := range []string{apptest.ShopEU, apptest.ShopUS} {
		probs, n := apptest.ShopMismatches(t, a, ts.Fakes[inst], inst)
		for _, p := range probs {
			t.Error(p)
		}
		if n < 50 {
			t.Errorf("%s: only %d values compared", inst, n)
		}
		if len(ts.Fakes[inst].BatchSizes()) == 0 {
			t.Errorf("%s: its fake got no write-back", inst)
		}
	}
	key := a.Pipeline.TargetIDs(apptest.ShopEU)["prop:rfm_segment"]
	euID, _ := strconv.Atoi(s.euID)
	usID, _ := strconv.Atoi(s.usID)
	eu, us := ts.Fakes[apptest.ShopEU].CustomerMeta(euID)[key], ts.Fakes[apptest.ShopUS].CustomerMeta(usID)[key]
	if eu == nil || fmt.Sprint(eu) != fmt.Sprint(us) {
		t.Errorf("%s: rfm meta %v in %s, %v in %s; want the profile's one group in both", s.email, eu, apptest.ShopEU, us, apptest.ShopUS)
	}

	// A customer id both shops use names two people.
	shared := 0
	for _, id := range ts.Fakes[apptest.ShopUS].CustomerIDs() {
		ce, okE := ts.Fakes[apptest.ShopEU].Customer(id)
		cu, _ := ts.Fakes[apptest.ShopUS].Customer(id)
		if !okE || domain.NormalizeEmail(ce.Email) == domain.NormalizeEmail(cu.Email) {
			continue
		}
		pe, err1 := a.Store.ProfileByEmail(ctx, domain.NormalizeEmail(ce.Email))
		pu, err2 := a.Store.ProfileByEmail(ctx, domain.NormalizeEmail(cu.Email))
		if err1 != nil || err2 != nil || pe.ID == pu.ID {
			t.Fatalf("customer %d of each shop (%s, %s): profiles %q and %q (%v, %v); want two", id, ce.Email, cu.Email, pe.ID, pu.ID, err1, err2)
		}
		has := func(p domain.Profile, inst string) bool {
			return slices.ContainsFunc(p.Refs, func(r domain.ExternalRef) bool {
				return r.Platform == inst && r.ObjectType == domain.ObjectContact && r.ID == strconv.Itoa(id)
			})
		}
		if !has(pe, apptest.ShopEU) || has(pe, apptest.ShopUS) || !has(pu, apptest.ShopUS) || has(pu, apptest.ShopEU) {
			t.Fatalf("customer %d: %s links %v, %s links %v; want each linked to its own shop's record only", id, ce.Email, pe.Refs, cu.Email, pu.Refs)
		}
		shared++
	}
	if shared == 0 {
		t.Fatal("no customer id is used by both shops for different people; the test checks nothing")
	}

	// Pulling one shop reads its new order and moves none of the other
	// shop's cursors, which still find that shop's new order.
	cursors := func(inst string) string {
		pl, err := a.Pipeline.Platform(inst)
		if err != nil {
			t.Fatal(err)
		}
		var all string
		for _, obj := range []string{domain.ObjectContact, domain.ObjectOrder, "*pulled"} {
			c, err := a.Store.Cursor(ctx, inst, pl.Account, obj)
			if err != nil || c == "" {
				t.Fatalf("%s %s cursor %q: %v", inst, obj, c, err)
			}
			all += obj + "=" + c + " "
		}
		return all
	}
	usBefore := cursors(apptest.ShopUS)
	item := []domain.LineItem{{SKU: "BIG", Name: "big order", Category: "garden", Quantity: 2, UnitPrice: domain.Money{Amount: 400_00, Currency: "USD"}}}
	ts.Sandbox.NewShopOrder(sandbox.ShopName(0), euID, "", item, "mobile")
	ts.Sandbox.NewShopOrder(sandbox.ShopName(1), usID, "", item, "mobile")
	if _, err := a.Sync(ctx, apptest.ShopEU, false); err != nil {
		t.Fatal(err)
	}
	cursors(apptest.ShopEU)
	if got := cursors(apptest.ShopUS); got != usBefore {
		t.Errorf("pulling %s moved %s's cursors from %q to %q", apptest.ShopEU, apptest.ShopUS, usBefore, got)
	}
	count := func() map[string]int {
		os, err := a.Store.Orders(ctx, prof.ID)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, o := range os {
			m[o.Ref.Platform]++
		}
		return m
	}
	if got := count(); got[apptest.ShopEU] != s.euOrders+1 || got[apptest.ShopUS] != s.usOrders {
		t.Errorf("after pulling %s alone: orders per instance %v, want %s %d and %s %d", apptest.ShopEU, got, apptest.ShopEU, s.euOrders+1, apptest.ShopUS, s.usOrders)
	}
	if _, err := a.Sync(ctx, apptest.ShopUS, false); err != nil {
		t.Fatal(err)
	}
	if got := count(); got[apptest.ShopUS] != s.usOrders+1 {
		t.Errorf("after pulling %s: orders per instance %v, want %s %d", apptest.ShopUS, got, apptest.ShopUS, s.usOrders+1)
	}
}

// TestTwoShopsErasure: erasing a person who buys in both shops deletes
// their customer from each shop's own fake (each instance's adapter is
// handed its own record) and from HubSpot, and leaves the customer with
// the same id in the other shop alone.
func TestTwoShopsErasure(t *testing.T) {
	if testing.Short() {
		t.Skip("a full cycle against three fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	ts := apptest.StartTwoShops(t, 200, now, app.Options{})
	a := ts.App
	if _, err := a.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	s := findShopper(t, ts.Sandbox)
	euID, _ := strconv.Atoi(s.euID)
	usID, _ := strconv.Atoi(s.usID)
	// The customers with the same ids in the other shop are other people.
	otherUS, usHasEU := ts.Fakes[apptest.ShopUS].Customer(euID)
	otherEU, euHasUS := ts.Fakes[apptest.ShopEU].Customer(usID)

	er, err := a.Erase(ctx, s.email, "dpo@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	for _, tk := range er.Tasks {
		if tk.Status != store.ErasureDone {
			t.Errorf("%s answered %s (%s); want done", tk.Ref.Key(), tk.Status, tk.Answer)
		}
		done[tk.Ref.Platform] = true
	}
	if !done[apptest.ShopEU] || !done[apptest.ShopUS] || !done[sandbox.HubSpot] {
		t.Errorf("erasure tasks on %v; want one on each shop and on hubspot", done)
	}
	if _, ok := ts.Fakes[apptest.ShopEU].Customer(euID); ok {
		t.Errorf("%s still has customer %d", apptest.ShopEU, euID)
	}
	if _, ok := ts.Fakes[apptest.ShopUS].Customer(usID); ok {
		t.Errorf("%s still has customer %d", apptest.ShopUS, usID)
	}
	if c, ok := ts.Fakes[apptest.ShopUS].Customer(euID); usHasEU && euID != usID && (!ok || c.Email != otherUS.Email) {
		t.Errorf("%s lost customer %d (%s), another person", apptest.ShopUS, euID, otherUS.Email)
	}
	if c, ok := ts.Fakes[apptest.ShopEU].Customer(usID); euHasUS && euID != usID && (!ok || c.Email != otherEU.Email) {
		t.Errorf("%s lost customer %d (%s), another person", apptest.ShopEU, usID, otherEU.Email)
	}
}

// TestTwoShopsKeepTheirRecordsApart is the quick check of instances: a
// pull of both shops and HubSpot stores every record under its
// instance's name (never the adapter's), customers of both shops join
// their one profile, and each order hangs on its own shop's customer.
func TestTwoShopsKeepTheirRecordsApart(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	ts := apptest.StartTwoShops(t, 40, now, app.Options{})
	if _, err := ts.App.SyncAll(ctx, nil, false); err != nil {
		t.Fatal(err)
	}
	ps, err := ts.App.Store.ListProfiles(ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	both := 0
	for _, p := range ps {
		shops := map[string]bool{}
		for _, r := range p.Refs {
			switch r.Platform {
			case apptest.ShopEU, apptest.ShopUS:
				shops[r.Platform] = true
			case sandbox.HubSpot:
			default:
				t.Errorf("profile %s has a record of %q: %s", p.ID, r.Platform, r.Key())
			}
		}
		if len(shops) == 2 {
			both++
		}
		os, err := ts.App.Store.Orders(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range os {
			if c := o.CustomerRef; !c.IsZero() && c.Platform != o.Ref.Platform {
				t.Errorf("order %s hangs on %s, another instance's customer", o.Ref.Key(), c.Key())
			}
		}
	}
	if both == 0 {
		t.Error("no profile joins customers of both shops")
	}
}
