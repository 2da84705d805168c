package report

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/segconn/connector/core/lift"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestLiftFromAStoreWithAKnownOutcome builds a store where half the
// members and a fifth of the holdout of "Win-back" bought within 30 days
// of entering, and checks the report finds that lift from the history
// and the orders.
func TestLiftFromAStoreWithAKnownOutcome(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "connector.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	day0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	asOf := day0.AddDate(0, 0, 60)
	const members, holdout = 400, 100
	var changes []adapter.Change
	for i := range members + holdout {
		ref := domain.ExternalRef{Platform: "woocommerce", ObjectType: domain.ObjectContact, ID: fmt.Sprint(1000 + i), LastModified: day0}
		changes = append(changes, adapter.Change{Kind: adapter.ChangeUpsert, Ref: ref,
			Contact: &domain.Contact{Ref: ref, Emails: []string{fmt.Sprintf("p%d@shop.example", i)}}})
		control := i >= members
		buys := (!control && i%2 == 0) || (control && i%5 == 0) // 50% of members, 20% of the holdout
		if buys {
			oref := domain.ExternalRef{Platform: "woocommerce", ObjectType: domain.ObjectOrder, ID: fmt.Sprint(50000 + i), LastModified: day0}
			changes = append(changes, adapter.Change{Kind: adapter.ChangeUpsert, Ref: oref, Order: &domain.Order{
				Ref: oref, CustomerRef: ref, CreatedAt: day0.AddDate(0, 0, 10), Status: domain.StatusCompleted,
				Currency: "EUR", Total: domain.Money{Amount: 4000, Currency: "EUR"}}})
		}
		if i == 1 { // a member's order in another currency: left out and counted
			oref := domain.ExternalRef{Platform: "woocommerce", ObjectType: domain.ObjectOrder, ID: "usd-1", LastModified: day0}
			changes = append(changes, adapter.Change{Kind: adapter.ChangeUpsert, Ref: oref, Order: &domain.Order{
				Ref: oref, CustomerRef: ref, CreatedAt: day0.AddDate(0, 0, 3), Status: domain.StatusCompleted,
				Currency: "USD", Total: domain.Money{Amount: 999, Currency: "USD"}}})
		}
	}
	if _, err := st.ApplyPage(ctx, "woocommerce", "", "all", changes, nil, "c1"); err != nil {
		t.Fatal(err)
	}
	var mc []store.MembershipChange
	for i := range members + holdout {
		p, err := st.ProfileByEmail(ctx, fmt.Sprintf("p%d@shop.example", i))
		if err != nil {
			t.Fatal(err)
		}
		mc = append(mc, store.MembershipChange{ProfileID: p.ID, Segment: "Win-back", Entered: true, At: day0, Control: i >= members})
		if i < 50 { // a segment without a holdout is not reported
			mc = append(mc, store.MembershipChange{ProfileID: p.ID, Segment: "Newsletter", Entered: true, At: day0})
		}
	}
	if err := st.ApplyMemberships(ctx, mc); err != nil {
		t.Fatal(err)
	}

	got, err := Lift(ctx, st, LiftOptions{AsOf: asOf, Window: 30 * 24 * time.Hour, Lift: lift.Options{Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Segment != "Win-back" {
		t.Fatalf("segments %+v, want Win-back only", got)
	}
	r := got[0]
	if r.Currency != "EUR" || r.Excluded != 1 || r.Pending != 0 || r.WindowDays != 30 {
		t.Errorf("currency %s, excluded %d, pending %d, window %d", r.Currency, r.Excluded, r.Pending, r.WindowDays)
	}
	if r.Result.Members.People != members || r.Result.Holdout.People != holdout ||
		r.Result.Members.Converted != 200 || r.Result.Holdout.Converted != 20 {
		t.Fatalf("groups %+v / %+v", r.Result.Members, r.Result.Holdout)
	}
	if !r.Result.Conversion.AbsoluteCI.Contains(0.3) || r.Result.Conversion.AbsoluteCI.Contains(0) {
		t.Errorf("conversion lift interval %+v should hold 0.30 and not 0", r.Result.Conversion.AbsoluteCI)
	}
	if want := 0.3 * 4000; float64(r.Result.Revenue.Absolute) != want {
		t.Errorf("revenue lift %v, want %v", r.Result.Revenue.Absolute, want)
	}
	if r.Result.Verdict.Kind != lift.Better {
		t.Errorf("verdict %+v", r.Result.Verdict)
	}

	// Before the window is over for anyone, everyone is pending.
	early, err := Lift(ctx, st, LiftOptions{AsOf: day0.AddDate(0, 0, 20), Segments: []string{"Win-back"}})
	if err != nil {
		t.Fatal(err)
	}
	if early[0].Pending != members+holdout || early[0].Result.Members.People != 0 || early[0].Result.Verdict.Kind != lift.TooFew {
		t.Errorf("early: %+v", early[0])
	}
}
