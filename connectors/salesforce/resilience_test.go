package salesforce

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func TestQuotaStopsPullsAtShareAndResumesAfterReset(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{DailyLimit: 30})
	f.AddField("Contact", "Segment__c", salesforcefake.TypeString)
	f.AddField("Lead", "Segment__c", salesforcefake.TypeString)
	ids := f.SeedContacts(7000, nil) // 35 pages of 200: more than the daily limit
	c, _ := newConn(t, f, map[string]any{"objects": map[string]any{"leads": false},
		"quota": map[string]any{"pull_share": 0.8, "recheck": "1ms"}})
	store := map[string]int{}
	cursor := ""
	sink := func(p adapter.Page) {
		for _, ch := range p.Changes {
			store[ch.Ref.ID]++
		}
		cursor = p.Cursor
	}
	err := c.Pull(ctxT(t), adapter.PullRequest{Object: domain.ObjectContact, PageSize: 200}, func(_ ctxType, p adapter.Page) error { sink(p); return nil })
	if !errors.Is(err, adapter.ErrRateLimited) || adapter.RetryAfterOf(err) <= 0 {
		t.Fatalf("pull over the share: err = %v, want rate-limited with a retry delay", err)
	}
	if used := f.Usage(); used > 24 {
		t.Fatalf("pulls used %d of 30 requests, more than the 80%% share", used)
	}
	if len(store) == 0 || len(store) == 7000 {
		t.Fatalf("stored %d contacts before the stop", len(store))
	}
	// Write-back still runs on what is left.
	targets := ensure(t, c, adapter.Target{Key: "segments", Kind: adapter.TargetProperty, Name: "Segment__c"})
	res, err := c.Push(ctxT(t), adapter.PushRequest{Targets: targets, Items: []adapter.PushItem{
		{ID: "a", Ref: contactRef(ids[0]), Properties: map[string]string{"segments": "vip"}}}})
	if err != nil || res[0].Status != adapter.PushOK {
		t.Fatalf("write-back inside the reserve: %v %+v", err, res)
	}
	// Spend the rest: the platform answers 403 REQUEST_LIMIT_EXCEEDED,
	// which is a rate limit, not an auth failure, and is not retried.
	for f.Usage() < 30 {
		_, _ = c.Push(ctxT(t), adapter.PushRequest{Targets: targets, Items: []adapter.PushItem{
			{ID: "a", Ref: contactRef(ids[0]), Properties: map[string]string{"segments": "vip"}}}})
	}
	before := f.CallCount("PATCH /composite/sobjects")
	res, err = c.Push(ctxT(t), adapter.PushRequest{Targets: targets, Items: []adapter.PushItem{
		{ID: "a", Ref: contactRef(ids[1]), Properties: map[string]string{"segments": "vip"}}}})
	if err != nil || res[0].Status != adapter.PushRetryable || res[0].RetryAfter <= 0 {
		t.Fatalf("write-back over the limit: %v %+v, want a retryable result with a delay", err, res)
	}
	if n := f.CallCount("PATCH /composite/sobjects") - before; n != 1 {
		t.Fatalf("the 403 was sent %d times, want once (no retries)", n)
	}

	// A new day: the pull resumes from its cursor and finishes. The host
	// waits the RetryAfter of the stop (1ms here) before trying again.
	f.ResetUsage()
	f.SetDailyLimit(1000)
	time.Sleep(2 * res[0].RetryAfter)
	err = c.Pull(ctxT(t), adapter.PullRequest{Object: domain.ObjectContact, Cursor: cursor, PageSize: 200}, func(_ ctxType, p adapter.Page) error { sink(p); return nil })
	if err != nil {
		t.Fatalf("resumed pull: %v", err)
	}
	if len(store) != 7000 {
		t.Fatalf("stored %d distinct contacts, want 7000", len(store))
	}
	for id, n := range store {
		if n != 1 && id != ids[0] { // ids[0] was written back, so it changed again
			t.Fatalf("contact %s handed over %d times", id, n)
		}
	}
}

// TestInjectedErrorsFinalStateExact runs a pull and a write-back while a
// fifth of all data calls fail (500, 503, resets before and after the
// server acted, expired sessions). A host-like loop retries from the last
// stored cursor and re-pushes retryable items; the end state is exact.
func TestInjectedErrorsFinalStateExact(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	f.AddField("Contact", "Segment__c", salesforcefake.TypeString)
	f.AddField("Lead", "Segment__c", salesforcefake.TypeString)
	ids := f.SeedContacts(6000, nil)
	c, _ := newConn(t, f, map[string]any{"objects": map[string]any{"leads": false}})
	targets := ensure(t, c,
		adapter.Target{Key: "segments", Kind: adapter.TargetProperty, Name: "Segment__c"},
		adapter.Target{Key: "list:vip", Kind: adapter.TargetList, Name: "VIP"})
	f.SetRate(0.2, 1)
	// Besides the random fifth, one of each kind for certain.
	f.Inject(fakekit.Fault{Status: http.StatusUnauthorized, Path: "/queryAll/"})
	f.Inject(fakekit.Fault{Status: 500, Path: "/queryAll/"})
	f.Inject(fakekit.Fault{Reset: true, Path: "/queryAll/"})

	store := map[string]string{} // id → email
	cursor := ""
	for attempt := 0; ; attempt++ {
		if attempt > 200 {
			t.Fatal("pull never finished")
		}
		err := c.Pull(ctxT(t), adapter.PullRequest{Object: domain.ObjectContact, Cursor: cursor, PageSize: 200}, func(_ ctxType, p adapter.Page) error {
			for _, ch := range p.Changes {
				store[ch.Ref.ID] = ch.Contact.Emails[0]
			}
			cursor = p.Cursor
			return nil
		})
		if err == nil {
			break
		}
	}
	if len(store) != 6000 {
		t.Fatalf("stored %d contacts, want 6000", len(store))
	}
	for i, id := range ids {
		if store[id] != fmt.Sprintf("person%d@example.com", i) {
			t.Fatalf("contact %s stored as %q", id, store[id])
		}
	}

	// Write-back: the first 1,200 join VIP with a field value; 100
	// already members from an earlier run leave.
	want := map[string]bool{}
	pending := map[string]adapter.PushItem{}
	for i, id := range ids[:1300] {
		it := adapter.PushItem{ID: id, Ref: contactRef(id)}
		if i < 1200 {
			it.Properties = map[string]string{"segments": "vip"}
			it.Add = []string{"list:vip"}
			want[id] = true
		} else {
			it.Remove = []string{"list:vip"}
		}
		pending[id] = it
	}
	f.SetRate(0, 0)
	for _, id := range ids[1200:1300] {
		f.Insert("CampaignMember", map[string]any{"CampaignId": targets["list:vip"], "ContactId": id})
	}
	f.SetRate(0.2, 1)
	f.Inject(fakekit.Fault{Reset: true, After: true, Method: "POST", Path: "/composite/sobjects"})
	f.Inject(fakekit.Fault{Reset: true, After: true, Method: "DELETE", Path: "/composite/sobjects"})
	f.Inject(fakekit.Fault{Status: http.StatusUnauthorized, Method: "PATCH", Path: "/composite/sobjects"})
	f.Inject(fakekit.Fault{Status: 503, Method: "GET", Path: "/query"})
	for round := 0; len(pending) > 0; round++ {
		if round > 100 {
			t.Fatalf("%d items never succeeded", len(pending))
		}
		keys := make([]string, 0, len(pending))
		for k := range pending {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for start := 0; start < len(keys); start += MaxCollection {
			var items []adapter.PushItem
			for _, k := range keys[start:min(start+MaxCollection, len(keys))] {
				items = append(items, pending[k])
			}
			res, err := c.Push(ctxT(t), adapter.PushRequest{Items: items, Targets: targets})
			if err != nil {
				continue // whole call failed (auth): retry next round
			}
			for _, r := range res {
				switch r.Status {
				case adapter.PushOK:
					delete(pending, r.ID)
				case adapter.PushPermanent:
					t.Fatalf("item %s failed permanently: %s", r.ID, r.Reason)
				}
			}
		}
	}
	f.SetRate(0, 0)
	faults := f.Served()
	for _, k := range []string{"500", "503", "reset", "reset-after", "401"} {
		if faults[k] == 0 {
			t.Errorf("no %s fault was injected: %v", k, faults)
		}
	}
	t.Logf("faults injected: %v", faults)
	members := f.CampaignMembers(targets["list:vip"])
	if len(members) != 1200 {
		t.Fatalf("%d campaign members, want exactly 1200", len(members))
	}
	for id := range want {
		if _, ok := members[id]; !ok {
			t.Fatalf("contact %s missing from the campaign", id)
		}
		if f.Get("Contact", id)["Segment__c"] != "vip" {
			t.Fatalf("contact %s field not written", id)
		}
	}
	// No duplicate member rows either.
	rows := 0
	for _, m := range f.Records("CampaignMember") {
		if m["CampaignId"] == targets["list:vip"] {
			rows++
		}
	}
	if rows != 1200 {
		t.Fatalf("%d live member rows, want 1200", rows)
	}
}
