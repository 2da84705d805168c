package storetest

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// changeView is what a reader that loaded every profile once and since
// then only the ones ChangedSince named holds: it must always equal a
// fresh full load.
type changeView struct {
	s        store.Store
	mark     int64
	profiles map[string]store.ProfileOrders
}

func newChangeView(t *testing.T, s store.Store) *changeView {
	t.Helper()
	ctx := context.Background()
	mark, err := s.ChangeMark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v := &changeView{s: s, mark: mark, profiles: map[string]store.ProfileOrders{}}
	if err := s.EachProfile(ctx, func(po store.ProfileOrders) error {
		v.profiles[po.Profile.ID] = po
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// catchUp reloads the profiles changed since the view's mark and
// reports how many were named.
func (v *changeView) catchUp(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	ids, next, complete, err := v.s.ChangedSince(ctx, v.mark)
	if err != nil {
		t.Fatal(err)
	}
	if !complete {
		t.Fatalf("changes since mark %d are no longer all known, though nothing was pruned", v.mark)
	}
	loaded, err := v.s.LoadProfiles(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		delete(v.profiles, id)
	}
	for _, po := range loaded {
		v.profiles[po.Profile.ID] = po
	}
	v.mark = next
	return len(ids)
}

// check catches up and compares the view with a full load. Records'
// LastModified is left out: a re-pull that only moves it is not a change
// to segmentation (write-back clears it).
func (v *changeView) check(t *testing.T, page int) {
	t.Helper()
	v.catchUp(t)
	full := map[string]store.ProfileOrders{}
	if err := v.s.EachProfile(context.Background(), func(po store.ProfileOrders) error {
		full[po.Profile.ID] = po
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for id, po := range full {
		got, ok := v.profiles[id]
		if !ok {
			t.Fatalf("page %d: profile %s is in a full load but the changes never named it", page, id)
		}
		if !reflect.DeepEqual(comparable(po), comparable(got)) {
			t.Fatalf("page %d: profile %s changed without being named:\nfull load  %+v\nkept view %+v", page, id, comparable(po), comparable(got))
		}
	}
	for id := range v.profiles {
		if _, ok := full[id]; !ok {
			t.Fatalf("page %d: profile %s is gone but the changes never named it", page, id)
		}
	}
}

func comparable(po store.ProfileOrders) store.ProfileOrders {
	refs := make([]domain.ExternalRef, len(po.Profile.Refs))
	for i, r := range po.Profile.Refs {
		r.LastModified = time.Time{}
		refs[i] = r
	}
	po.Profile.Refs = refs
	return po
}

// testChangesPruned: once the record of changes after a mark is pruned,
// ChangedSince says so instead of naming too few; a mark taken after the
// prune is complete again, and LoadProfiles leaves out ids that do not
// exist.
func testChangesPruned(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	old, err := s.ChangeMark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, "hubspot", "contact", contact("hubspot", "1", "ada@example.com", "Ada", t0))
	ids, _, complete, err := s.ChangedSince(ctx, old)
	if err != nil || !complete || len(ids) != 1 {
		t.Fatalf("after one new contact: %v, complete %v, %v", ids, complete, err)
	}
	got, err := s.Prune(ctx, store.Prune{ChangesBefore: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Changes == 0 {
		t.Fatalf("pruning every recorded change deleted none: %+v", got)
	}
	if _, _, complete, err := s.ChangedSince(ctx, old); err != nil || complete {
		t.Fatalf("a mark from before the prune: complete %v, %v; want incomplete", complete, err)
	}
	// A mark taken after the prune is complete again. On PostgreSQL a
	// mark is the oldest transaction running anywhere in the server, so
	// another client's transaction begun before the prune keeps new marks
	// below the floor (and reloads whole) until it ends: ask again.
	var fresh int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fresh, err = s.ChangeMark(ctx); err != nil {
			t.Fatal(err)
		}
		_, _, complete, err = s.ChangedSince(ctx, fresh)
		if err != nil {
			t.Fatal(err)
		}
		if complete {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("marks taken for 30 s after the prune are all incomplete")
		}
		time.Sleep(50 * time.Millisecond)
	}
	apply(t, s, "hubspot", "contact", contact("hubspot", "2", "grace@example.com", "Grace", t0))
	ids, _, complete, err = s.ChangedSince(ctx, fresh)
	if err != nil || !complete || len(ids) != 1 {
		t.Fatalf("a mark after the prune: %v, complete %v, %v", ids, complete, err)
	}
	loaded, err := s.LoadProfiles(ctx, append(ids, "no-such-profile"))
	if err != nil || len(loaded) != 1 || loaded[0].Profile.ID != ids[0] || loaded[0].Profile.PrimaryEmail() != "grace@example.com" {
		t.Fatalf("LoadProfiles = %+v, %v", loaded, err)
	}
}

// testMembershipChanges: the membership change log names the profiles
// whose memberships were written after a mark, and
// MembershipsOf reads theirs.
func testMembershipChanges(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	if err := s.ApplyMemberships(ctx, []store.MembershipChange{{ProfileID: "p1", Segment: "vip", Entered: true, At: t0}}); err != nil {
		t.Fatal(err)
	}
	mark, err := s.MembershipMark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = s.ApplyMemberships(ctx, []store.MembershipChange{
		{ProfileID: "p2", Segment: "vip", Entered: true, At: t0},
		{ProfileID: "p2", Segment: "new", Entered: true, At: t0, Control: true},
		{ProfileID: "p3", Segment: "new", Entered: true, At: t0},
		{ProfileID: "p3", Segment: "new", Entered: false, At: t0},
	})
	if err != nil {
		t.Fatal(err)
	}
	ids, _, complete, err := s.MembershipsChangedSince(ctx, mark)
	// "A few more, never fewer": on PostgreSQL a mark is the oldest
	// transaction running anywhere in the server, so p1's write may be
	// named again while another client's transaction is open.
	if err != nil || !complete || !slices.Contains(ids, "p2") || !slices.Contains(ids, "p3") ||
		slices.ContainsFunc(ids, func(id string) bool { return id != "p1" && id != "p2" && id != "p3" }) {
		t.Fatalf("memberships changed since the mark: %v, complete %v, %v; want p2 and p3 (and perhaps p1)", ids, complete, err)
	}
	of, err := s.MembershipsOf(ctx, append(ids, "p1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(of["p1"]) != 1 || len(of["p2"]) != 2 || len(of["p3"]) != 0 || of["p2"][0].Segment != "new" || !of["p2"][0].Control {
		t.Fatalf("MembershipsOf = %+v", of)
	}
}
