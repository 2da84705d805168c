package storetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func testMemberships(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	at := t0
	err := s.ApplyMemberships(ctx, []store.MembershipChange{
		{ProfileID: "p1", Segment: "vip", Entered: true, At: at, Reason: "top 10%"},
		{ProfileID: "p2", Segment: "vip", Entered: true, At: at, Control: true},
		{ProfileID: "p1", Segment: "rfm:champions", Entered: true, At: at},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Entering again and leaving a segment one is not in change nothing.
	err = s.ApplyMemberships(ctx, []store.MembershipChange{
		{ProfileID: "p1", Segment: "vip", Entered: true, At: at.Add(time.Hour)},
		{ProfileID: "p2", Segment: "rfm:champions", Entered: false, At: at.Add(time.Hour)},
		{ProfileID: "p1", Segment: "rfm:champions", Entered: false, At: at.Add(2 * time.Hour), Reason: "recency dropped"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := s.Memberships(ctx, "p1")
	if len(m) != 1 || m[0].Segment != "vip" || !m[0].Since.Equal(at) || m[0].Reason != "top 10%" {
		t.Errorf("p1 memberships = %+v", m)
	}
	vip, _ := s.SegmentMembers(ctx, "vip")
	if len(vip) != 2 || !vip[1].Control {
		t.Errorf("vip members = %+v", vip)
	}
	h, _ := s.MembershipHistory(ctx, "p1")
	if len(h) != 3 || h[2].Entered || h[2].Segment != "rfm:champions" || !h[2].At.Equal(at.Add(2*time.Hour)) {
		t.Errorf("history = %+v", h)
	}
	if sizes, err := s.SegmentSizes(ctx); err != nil || len(sizes) != 1 || sizes["vip"] != 2 {
		t.Errorf("segment sizes = %v, %v; want vip: 2 (its holdout member included)", sizes, err)
	}
	var all []string
	if err := s.AllMemberships(ctx, func(m domain.Membership) error { all = append(all, m.Segment+"/"+m.ProfileID); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, []string{"vip/p1", "vip/p2"}) {
		t.Errorf("all = %v", all)
	}
	if err := s.ApplyMemberships(ctx, []store.MembershipChange{{Segment: "vip", Entered: true}}); err == nil {
		t.Error("a membership without a profile id was accepted")
	}
}

// testHistorySince: the history read in pages by number gives every
// change once, in the order recorded, across profiles.
func testHistorySince(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	if head, err := s.MembershipHistoryHead(ctx); err != nil || head != 0 {
		t.Fatalf("head of an empty history = %d, %v", head, err)
	}
	var want []string
	for round := range 3 {
		var chs []store.MembershipChange
		for i := range 5 {
			c := store.MembershipChange{ProfileID: fmt.Sprintf("p%d", i), Segment: "vip", Entered: round != 1, At: t0.Add(time.Duration(round) * time.Hour)}
			chs = append(chs, c)
			want = append(want, fmt.Sprintf("%s/%v/%d", c.ProfileID, c.Entered, round))
		}
		if err := s.ApplyMemberships(ctx, chs); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var after int64
	for {
		page, err := s.MembershipHistorySince(ctx, after, 4)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			if m.Seq <= after {
				t.Fatalf("entry %d came after %d", m.Seq, after)
			}
			after = m.Seq
			got = append(got, fmt.Sprintf("%s/%v/%d", m.ProfileID, m.Entered, int(m.At.Sub(t0)/time.Hour)))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("history read in pages =\n%v\nwant\n%v", got, want)
	}
	if head, err := s.MembershipHistoryHead(ctx); err != nil || head != after {
		t.Errorf("head = %d, %v; want the last entry read, %d", head, err, after)
	}
}

// testMembershipsVolume: thousands of changes in one call, with repeats and
// both directions, leave exactly the expected members and history.
func testMembershipsVolume(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	var in []store.MembershipChange
	for i := 0; i < 3000; i++ {
		in = append(in, store.MembershipChange{ProfileID: fmt.Sprintf("p%05d", i), Segment: "rfm:loyal", Entered: true, At: t0})
	}
	in = append(in, in[:10]...) // repeats change nothing
	var out []store.MembershipChange
	for i := 0; i < 3000; i += 2 {
		out = append(out, store.MembershipChange{ProfileID: fmt.Sprintf("p%05d", i), Segment: "rfm:loyal", At: t0.Add(time.Hour), Reason: "recency"})
	}
	out = append(out, store.MembershipChange{ProfileID: "nobody", Segment: "rfm:loyal"})
	if err := s.ApplyMemberships(ctx, append(in, out...)); err != nil {
		t.Fatal(err)
	}
	members, _ := s.SegmentMembers(ctx, "rfm:loyal")
	if len(members) != 1500 || members[0].ProfileID != "p00001" {
		t.Fatalf("members = %d (first %+v), want the 1500 odd profiles", len(members), members[0])
	}
	h, _ := s.MembershipHistory(ctx, "p00000")
	if len(h) != 2 || !h[0].Entered || h[1].Entered || h[1].Reason != "recency" || !h[1].At.Equal(t0.Add(time.Hour)) {
		t.Errorf("history of p00000 = %+v; want one entry and one exit", h)
	}
	if h, _ := s.MembershipHistory(ctx, "nobody"); len(h) != 0 {
		t.Errorf("leaving a segment one was never in wrote history: %+v", h)
	}
}

// testRecordPlanWhole: a plan's membership changes, its write-back and
// the webhook event that caused it are recorded together, or none is.
func testRecordPlanWhole(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	ev, _, err := s.InboxAdd(ctx, store.InboxItem{Platform: "woocommerce", EventID: "order.created/1", Payload: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	enter := []store.MembershipChange{{ProfileID: "p1", Segment: "rfm:champions", Entered: true, At: t0}}
	bad := []store.OutboxItem{{Platform: "hubspot", Key: "a", Payload: []byte("{}")}, {Platform: "hubspot", Payload: []byte("{}")}}
	if err := s.RecordPlan(ctx, enter, store.OutboxItems(bad), []int64{ev}); err == nil {
		t.Fatal("a write-back item without a key was accepted")
	}
	pending, _ := s.InboxPending(ctx, 10)
	if ms, _ := s.Memberships(ctx, "p1"); len(ms) != 0 || len(pending) != 1 {
		t.Fatalf("a refused plan left memberships %+v and %d pending events (want 1)", ms, len(pending))
	}
	if err := s.RecordPlan(ctx, enter, store.OutboxItems(bad[:1]), []int64{ev}); err != nil {
		t.Fatal(err)
	}
	ms, _ := s.Memberships(ctx, "p1")
	pending, _ = s.InboxPending(ctx, 10)
	c, err := s.OutboxClaim(ctx, "hubspot", "", 10, time.Minute)
	if err != nil || len(ms) != 1 || len(c) != 1 || c[0].Key != "a" || len(pending) != 0 {
		t.Fatalf("after recording: memberships %+v, outbox %+v, %d events pending (%v)", ms, c, len(pending), err)
	}
}

// testRecordPlanStreams: RecordPlan reads a plan's write-back as a
// sequence, batch by batch, and still records the plan whole: an error
// the sequence yields after several batches were written leaves nothing,
// and a record queued twice, batches apart, keeps its later state. The
// history of a plan with more changes than a statement holds keeps the
// order the changes were given.
func testRecordPlanStreams(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	ev, _, err := s.InboxAdd(ctx, store.InboxItem{Platform: "woocommerce", EventID: "order.created/2", Payload: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	var changes []store.MembershipChange
	for i := range 1200 {
		// Reverse order: a store that wrote history in key order would
		// not keep it.
		changes = append(changes, store.MembershipChange{ProfileID: fmt.Sprintf("p%05d", 1200-i), Segment: "rfm:loyal", Entered: true, At: t0})
	}
	const n = 1000
	broken := errors.New("the plan could not be encoded")
	outbox := func(fail bool) iter.Seq2[store.OutboxItem, error] {
		return func(yield func(store.OutboxItem, error) bool) {
			for i := range n {
				key := fmt.Sprintf("contact/%d", i)
				if i == n-1 {
					key = "contact/0" // the first record again, with a newer state
				}
				if !yield(store.OutboxItem{Platform: "hubspot", Key: key, Payload: fmt.Appendf(nil, `{"n":%d}`, i)}, nil) {
					return
				}
			}
			if fail {
				yield(store.OutboxItem{}, broken)
			}
		}
	}
	if err := s.RecordPlan(ctx, changes, outbox(true), []int64{ev}); !errors.Is(err, broken) {
		t.Fatalf("recording a plan whose write-back failed to encode: %v; want its error", err)
	}
	stats, err := s.OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pending, _ := s.InboxPending(ctx, 10)
	if head, _ := s.MembershipHistoryHead(ctx); head != 0 || stats[store.OutboxPending] != 0 || len(pending) != 1 {
		t.Fatalf("a plan refused after %d items left history head %d, outbox %v, %d events pending (want 0, none, 1)", n, head, stats, len(pending))
	}

	if err := s.RecordPlan(ctx, changes, outbox(false), []int64{ev}); err != nil {
		t.Fatal(err)
	}
	c, err := s.OutboxClaim(ctx, "hubspot", "", 2*n, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]string{}
	for _, it := range c {
		if _, dup := byKey[it.Key]; dup {
			t.Fatalf("record %s queued twice", it.Key)
		}
		byKey[it.Key] = string(it.Payload)
	}
	if len(c) != n-1 || byKey["contact/0"] != fmt.Sprintf(`{"n":%d}`, n-1) || byKey["contact/1"] != `{"n":1}` {
		t.Fatalf("queued %d items (want %d), contact/0 = %s (want the later state), contact/1 = %s", len(c), n-1, byKey["contact/0"], byKey["contact/1"])
	}
	if pending, _ := s.InboxPending(ctx, 10); len(pending) != 0 {
		t.Errorf("%d events pending after the plan; want its cause done", len(pending))
	}
	h, err := s.MembershipHistorySince(ctx, 0, 2*len(changes))
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != len(changes) {
		t.Fatalf("%d history entries; want %d", len(h), len(changes))
	}
	for i, m := range h {
		if m.ProfileID != changes[i].ProfileID {
			t.Fatalf("history entry %d is %s; want %s, in the order given", i, m.ProfileID, changes[i].ProfileID)
		}
	}
}
