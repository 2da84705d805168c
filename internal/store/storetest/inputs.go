package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// savedInputs reads EachSavedInput into a map (nil data kept as nil) and
// checks the walk is in id order over every profile.
func savedInputs(t *testing.T, s store.Store, version uint64) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	var last string
	err := s.EachSavedInput(context.Background(), version, func(id string, data []byte) error {
		if id <= last {
			t.Errorf("EachSavedInput gave %s after %s", id, last)
		}
		last = id
		out[id] = bytes.Clone(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.CountProfiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != n {
		t.Errorf("EachSavedInput walked %d profiles of %d", len(out), n)
	}
	return out
}

// testSavedInputs: a saved input is given back for its version only,
// never after its profile changed (its data, its records, its orders),
// never when the change came between the mark and the save, and an
// erasure leaves nothing of it in the database.
func testSavedInputs(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	apply(t, s, "woocommerce", "contact",
		contact("woocommerce", "1", "ann@example.com", "Ann", t0),
		contact("woocommerce", "2", "bob@example.com", "Bob", t0),
		contact("woocommerce", "3", "cy@example.com", "Cy", t0),
		contact("woocommerce", "4", "di@example.com", "Di", t0))
	ids := map[string]string{}
	for _, e := range []string{"ann", "bob", "cy", "di"} {
		ids[e] = mustProfileByEmail(t, s, e+"@example.com").ID
	}
	for id, data := range savedInputs(t, s, 7) {
		if data != nil {
			t.Fatalf("profile %s has a saved input before any was saved", id)
		}
	}
	mark := markAfterWrites(t, s)
	// Bob changes after the mark, before the save: his input, read
	// before, is not kept.
	apply(t, s, "woocommerce", "contact", contact("woocommerce", "2", "bob@example.com", "Robert", t0.Add(time.Hour)))
	var in []store.SavedInput
	for _, e := range []string{"ann", "bob", "cy", "di"} {
		in = append(in, store.SavedInput{ProfileID: ids[e], Data: []byte("input of " + e + " ann@example.com")})
	}
	if err := s.SaveInputs(ctx, 7, mark, in); err != nil {
		t.Fatal(err)
	}
	got := savedInputs(t, s, 7)
	for _, e := range []string{"ann", "cy", "di"} {
		if string(got[ids[e]]) != "input of "+e+" ann@example.com" {
			t.Errorf("%s: saved input %q", e, got[ids[e]])
		}
	}
	if got[ids["bob"]] != nil {
		t.Errorf("bob changed after the mark, yet his input was kept: %q", got[ids["bob"]])
	}
	for id, data := range savedInputs(t, s, 8) {
		if data != nil {
			t.Errorf("profile %s: an input of version 7 given back as version 8", id)
		}
	}
	// Cy gets an order and Di a record on another platform: both
	// inputs go. Ann, untouched, keeps hers.
	apply(t, s, "woocommerce", "order", order("woocommerce", "o1", ref("woocommerce", domain.ObjectContact, "3"), "cy@example.com", t0, 500))
	apply(t, s, "hubspot", "contact", contact("hubspot", "9", "di@example.com", "Di", t0))
	got = savedInputs(t, s, 7)
	if got[ids["cy"]] != nil || got[ids["di"]] != nil {
		t.Errorf("inputs kept after an order (%q) and a new record (%q)", got[ids["cy"]], got[ids["di"]])
	}
	if got[ids["ann"]] == nil {
		t.Error("ann's input went though she did not change")
	}
	// Ann is erased: her input leaves the database with her email.
	apply(t, s, "woocommerce", "contact", adapter.Change{Kind: adapter.ChangeDelete, Privacy: true, Ref: ref("woocommerce", domain.ObjectContact, "1")})
	if leaks := Leaks(t, s, "ann@example.com"); len(leaks) > 0 {
		t.Errorf("after erasure the email is still in %v", leaks)
	}
	if got := savedInputs(t, s, 7); got[ids["ann"]] != nil {
		t.Errorf("erased profile's input given back: %q", got[ids["ann"]])
	}
}

// markAfterWrites takes a change mark that names none of the changes
// written so far. On PostgreSQL a mark is the oldest transaction running
// anywhere in the server, so another test's transaction still open keeps
// a new mark below this test's writes: ask again until it is past them.
func markAfterWrites(t *testing.T, s store.Store) int64 {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mark, err := s.ChangeMark(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids, _, complete, err := s.ChangedSince(ctx, mark)
		if err != nil {
			t.Fatal(err)
		}
		if complete && len(ids) == 0 {
			return mark
		}
		if time.Now().After(deadline) {
			t.Fatalf("marks taken for 30 s still name %d changed profiles", len(ids))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
