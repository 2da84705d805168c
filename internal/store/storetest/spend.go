package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
)

// testSpend stores, lists and deletes spend entered in the app.
func testSpend(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	if got, err := s.SpendEntries(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v, %v", got, err)
	}
	q3 := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	a, err := s.AddSpend(ctx, store.Spend{Segment: "rfm:at-risk", AmountMinor: 25000, Currency: "EUR", From: q3, To: q3.AddDate(0, 3, 0), Note: "win-back mail", By: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.AddSpend(ctx, store.Spend{Segment: "rfm:champions", AmountMinor: 1000, Currency: "JPY", From: q3.AddDate(0, 3, 0), To: q3.AddDate(0, 6, 0), By: "ada"})
	if err != nil || a == b {
		t.Fatalf("ids %d and %d, %v", a, b, err)
	}
	got, err := s.SpendEntries(ctx)
	if err != nil || len(got) != 2 {
		t.Fatalf("entries %+v, %v", got, err)
	}
	if g := got[1]; g.ID != a || g.Segment != "rfm:at-risk" || g.AmountMinor != 25000 || g.Currency != "EUR" || !g.From.Equal(q3) ||
		!g.To.Equal(q3.AddDate(0, 3, 0)) || g.Note != "win-back mail" || g.By != "ada" || g.CreatedAt.IsZero() {
		t.Errorf("older period second: %+v", g)
	}
	if err := s.DeleteSpend(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSpend(ctx, a); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: %v, want not found", err)
	}
	if got, _ := s.SpendEntries(ctx); len(got) != 1 || got[0].ID != b {
		t.Errorf("after delete: %+v", got)
	}
}
