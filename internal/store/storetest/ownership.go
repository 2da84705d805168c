package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func testOwnership(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	r := domain.ExternalRef{Platform: "hubspot", Account: "p1", ObjectType: "contact", ID: "101"}
	mark, err := s.OwnershipMark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		// Every write above is named by the ownership change log, and
		// nothing else is.
		keys, _, complete, err := s.OwnershipChangedSince(ctx, mark)
		if err != nil || !complete || !slices.Equal(keys, []string{r.Key(), "hubspot/p1/contact/103"}) {
			t.Errorf("ownership changed since the start: %v, complete %v, %v; want [%s and 103]", keys, complete, err, r.Key())
		}
	}()
	err = s.RecordOwnership(ctx, []store.Ownership{
		{Ref: r, Target: "segments", Value: "vip"},
		{Ref: r, Target: "segments", Value: "champions"},
		{Ref: r, Target: "list:vip"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Recording the same value again is harmless.
	if err := s.RecordOwnership(ctx, []store.Ownership{{Ref: r, Target: "segments", Value: "vip"}}); err != nil {
		t.Fatal(err)
	}
	own, _ := s.Ownership(ctx, r)
	var got []string
	for _, o := range own {
		got = append(got, o.Target+"="+o.Value)
	}
	if !slices.Equal(got, []string{"list:vip=", "segments=champions", "segments=vip"}) {
		t.Errorf("ownership = %v", got)
	}
	if err := s.RecordOwnership(ctx, []store.Ownership{{Ref: r, Target: "segments", Value: "vip", Released: true}}); err != nil {
		t.Fatal(err)
	}
	own, _ = s.Ownership(ctx, r)
	if len(own) != 2 {
		t.Errorf("after release: %+v", own)
	}
	// Within one call the last word about a value wins.
	err = s.RecordOwnership(ctx, []store.Ownership{
		{Ref: r, Target: "segments", Value: "lapsing"},
		{Ref: r, Target: "segments", Value: "lapsing", Released: true},
		{Ref: r, Target: "list:vip", Released: true},
		{Ref: r, Target: "list:vip"},
	})
	if err != nil {
		t.Fatal(err)
	}
	own, _ = s.Ownership(ctx, r)
	got = got[:0]
	for _, o := range own {
		got = append(got, o.Target+"="+o.Value)
	}
	if !slices.Equal(got, []string{"list:vip=", "segments=champions"}) {
		t.Errorf("after one mixed call: %v", got)
	}
	other, _ := s.Ownership(ctx, domain.ExternalRef{Platform: "hubspot", Account: "p1", ObjectType: "contact", ID: "102"})
	if len(other) != 0 {
		t.Errorf("a record the connector never wrote has ownership %+v", other)
	}
	// Many records at once: the same rows, by record, none for the rest.
	r2 := domain.ExternalRef{Platform: "hubspot", Account: "p1", ObjectType: "contact", ID: "103"}
	if err := s.RecordOwnership(ctx, []store.Ownership{{Ref: r2, Target: "segments", Value: "new"}}); err != nil {
		t.Fatal(err)
	}
	many, err := s.OwnershipMany(ctx, []domain.ExternalRef{r, r2, r, {Platform: "hubspot", Account: "p1", ObjectType: "contact", ID: "102"}})
	if err != nil {
		t.Fatal(err)
	}
	one, _ := s.Ownership(ctx, r)
	if len(many) != 2 || !slices.EqualFunc(many[r.Key()], one, func(a, b store.Ownership) bool {
		return a.Ref == b.Ref && a.Target == b.Target && a.Value == b.Value && a.WrittenAt.Equal(b.WrittenAt)
	}) || len(many[r2.Key()]) != 1 || many[r2.Key()][0].Value != "new" {
		t.Errorf("OwnershipMany = %+v; want %+v for %s and one row for %s", many, one, r.Key(), r2.Key())
	}
}
