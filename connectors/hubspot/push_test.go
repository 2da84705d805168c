package hubspot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

var segmentTargets = []adapter.Target{
	{Key: "segments", Kind: adapter.TargetProperty, Name: "segments", Options: []string{"champions", "loyal", "at_risk"}, Multi: true},
	{Key: "rfm_segment", Kind: adapter.TargetProperty, Name: "rfm_segment", Options: []string{"champions", "loyal", "at_risk"}},
	{Key: "clv_12m", Kind: adapter.TargetProperty, Name: "clv_12m"},
	{Key: "list:rfm:champions", Kind: adapter.TargetList, Name: "RFM: Champions"},
}

func ensure(t *testing.T, e *env, targets []adapter.Target) map[string]string {
	t.Helper()
	got, err := e.conn.EnsureTargets(context.Background(), targets)
	if err != nil {
		t.Fatalf("ensuring targets: %v", err)
	}
	m := map[string]string{}
	for _, et := range got {
		m[et.Key] = et.PlatformID
	}
	return m
}

func TestEnsureTargetsIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hubspotfake.Options{}, nil)
	first, err := e.conn.EnsureTargets(context.Background(), segmentTargets)
	if err != nil {
		t.Fatal(err)
	}
	for _, et := range first {
		if !et.Created || et.PlatformID == "" {
			t.Fatalf("first ensure: %+v", et)
		}
	}
	p, ok := e.fake.PropertyDef("contacts", "segments")
	if !ok || p.Type != "enumeration" || p.FieldType != "checkbox" || len(p.Options) != 3 || p.GroupName != "contactinformation" {
		t.Fatalf("segments property: %+v", p)
	}
	if p, _ := e.fake.PropertyDef("contacts", "rfm_segment"); p.FieldType != "select" {
		t.Fatalf("rfm_segment property: %+v", p)
	}
	if p, _ := e.fake.PropertyDef("contacts", "clv_12m"); p.Type != "string" {
		t.Fatalf("clv_12m property: %+v", p)
	}
	// Again, with one new option: found, not duplicated; the option is added.
	more := append([]adapter.Target(nil), segmentTargets...)
	more[0].Options = append([]string{"new_customers"}, more[0].Options...)
	second, err := e.conn.EnsureTargets(context.Background(), more)
	if err != nil {
		t.Fatal(err)
	}
	for i, et := range second {
		if et.Created || et.PlatformID != first[i].PlatformID {
			t.Fatalf("second ensure %+v, first %+v", et, first[i])
		}
	}
	if p, _ := e.fake.PropertyDef("contacts", "segments"); len(p.Options) != 4 {
		t.Fatalf("options after second ensure: %+v", p.Options)
	}
	if n := e.fake.CallCount("POST /crm/v3/lists"); n != 1 {
		t.Fatalf("lists created %d times", n)
	}

	e.fake.CreateList("Dynamic one", "DYNAMIC")
	_, err = e.conn.EnsureTargets(context.Background(), []adapter.Target{{Key: "list:x", Kind: adapter.TargetList, Name: "Dynamic one"}})
	if !errors.Is(err, adapter.ErrPermanent) || !strings.Contains(err.Error(), "DYNAMIC") {
		t.Fatalf("DYNAMIC list: %v", err)
	}
}

func TestPushFiveThousandInBatchesOfHundred(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hubspotfake.Options{}, nil)
	targets := ensure(t, e, segmentTargets)
	ids := seedContacts(e.fake, 5000, nil)
	missing := []string{ids[5], ids[777], ids[4999]} // deleted meanwhile: permanent
	flaky := []string{ids[10], ids[11], ids[2500]}   // fail once: retried in one extra call per batch
	for _, id := range missing {
		e.fake.Archive("contacts", id)
	}
	e.fake.FailUpdatesFor("INTERNAL_ERROR", flaky...)
	e.fake.ResetCalls()
	// The fake fails them on every attempt; they end retryable after one retry.
	var items []adapter.PushItem
	for i, id := range ids {
		items = append(items, adapter.PushItem{ID: "item-" + id, Ref: domain.ExternalRef{Platform: Name, ObjectType: domain.ObjectContact, ID: id},
			Properties: map[string]string{"segments": "champions;loyal", "rfm_segment": "champions", "clv_12m": fmt.Sprintf("%d.50", i)},
			Add:        []string{"list:rfm:champions"}})
	}
	var results []adapter.PushResult
	for start := 0; start < len(items); start += 1000 { // the host sends at most MaxPushBatch·k items per call
		res, err := e.conn.Push(context.Background(), adapter.PushRequest{Items: items[start:min(start+1000, len(items))], Targets: targets})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res...)
	}
	status := map[string]adapter.PushResult{}
	for _, r := range results {
		status[strings.TrimPrefix(r.ID, "item-")] = r
	}
	for _, id := range missing {
		if r := status[id]; r.Status != adapter.PushPermanent || !strings.Contains(r.Reason, "OBJECT_NOT_FOUND") {
			t.Fatalf("missing %s: %+v", id, r)
		}
	}
	for _, id := range flaky {
		if r := status[id]; r.Status != adapter.PushRetryable {
			t.Fatalf("flaky %s: %+v", id, r)
		}
	}
	ok := 0
	for _, r := range results {
		if r.Status == adapter.PushOK {
			ok++
		}
	}
	if ok != 5000-6 || len(results) != 5000 {
		t.Fatalf("%d ok of %d results", ok, len(results))
	}
	// 50 batches, plus one retry for each batch holding a flaky record (ids 10,11 share one).
	if n := e.fake.CallCount("POST /crm/v3/objects/contacts/batch/update"); n != 50+2 {
		t.Fatalf("batch/update calls %d, want 52", n)
	}
	// The 5,000 list additions: 50 add-and-remove calls of 100 ids.
	if n := e.fake.CallCount("PUT /crm/v3/lists/{id}/memberships/add-and-remove"); n != 50 {
		t.Fatalf("membership calls %d, want 50", n)
	}
	if n := len(e.fake.ListMembers(targets["list:rfm:champions"])); n != 5000-len(missing) {
		t.Fatalf("list has %d members, want %d", n, 5000-len(missing))
	}
	o, _ := e.fake.Get("contacts", ids[42])
	if o.Properties["segments"] != "champions;loyal" || o.Properties["clv_12m"] != "42.50" {
		t.Fatalf("contact after push: %v", o.Properties)
	}
	// Once the flaky records recover, pushing them again succeeds.
	e.fake.FailUpdatesFor("", flaky...)
	res, err := e.conn.Push(context.Background(), adapter.PushRequest{Items: []adapter.PushItem{items[10]}, Targets: targets})
	if err != nil || res[0].Status != adapter.PushOK {
		t.Fatalf("retry: %+v %v", res, err)
	}
}

func TestPushBadValueIsIsolated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hubspotfake.Options{}, nil)
	targets := ensure(t, e, segmentTargets)
	ids := seedContacts(e.fake, 100, nil)
	e.fake.ResetCalls()
	var items []adapter.PushItem
	for _, id := range ids {
		items = append(items, adapter.PushItem{ID: id, Ref: domain.ExternalRef{ID: id}, Properties: map[string]string{"rfm_segment": "loyal"}})
	}
	items[37].Properties["rfm_segment"] = "no_such_option"
	res, err := e.conn.Push(context.Background(), adapter.PushRequest{Items: items, Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		switch {
		case i == 37 && (r.Status != adapter.PushPermanent || !strings.Contains(r.Reason, "no_such_option")):
			t.Fatalf("bad item: %+v", r)
		case i != 37 && r.Status != adapter.PushOK:
			t.Fatalf("item %d: %+v", i, r)
		}
	}
	if o, _ := e.fake.Get("contacts", ids[0]); o.Properties["rfm_segment"] != "loyal" {
		t.Fatalf("good records not written: %v", o.Properties)
	}
	if n := e.fake.CallCount("POST /crm/v3/objects/contacts/batch/update"); n > 1+2*7 {
		t.Fatalf("bisection used %d calls", n)
	}
}

func TestPushListMemberships(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hubspotfake.Options{}, nil)
	targets := ensure(t, e, segmentTargets)
	list := targets["list:rfm:champions"]
	ids := seedContacts(e.fake, 250, nil)
	e.fake.AddToList(list, ids[0], ids[1]) // members from an earlier run
	e.fake.ResetCalls()
	var items []adapter.PushItem
	for _, id := range ids[2:] {
		items = append(items, adapter.PushItem{ID: id, Ref: domain.ExternalRef{ID: id}, Add: []string{"list:rfm:champions"}})
	}
	items = append(items, adapter.PushItem{ID: ids[0], Ref: domain.ExternalRef{ID: ids[0]}, Remove: []string{"list:rfm:champions"}})
	items = append(items, adapter.PushItem{ID: "ghost", Ref: domain.ExternalRef{ID: "424242"}, Add: []string{"list:rfm:champions"}})
	res, err := e.conn.Push(context.Background(), adapter.PushRequest{Items: items, Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.ID == "ghost" {
			if r.Status != adapter.PushPermanent || !strings.Contains(r.Reason, "recordIdsMissing") {
				t.Fatalf("ghost: %+v", r)
			}
		} else if r.Status != adapter.PushOK {
			t.Fatalf("%s: %+v", r.ID, r)
		}
	}
	members := e.fake.ListMembers(list)
	if len(members) != 249 || members[0] != ids[1] {
		t.Fatalf("list has %d members starting %v", len(members), members[:1])
	}
	if n := e.fake.CallCount("PUT /crm/v3/lists/{id}/memberships/add-and-remove"); n != 3 { // 250 changes / 100
		t.Fatalf("membership calls %d, want 3", n)
	}
	if n := e.fake.CallCount("POST /crm/v3/objects/contacts/batch/update"); n != 0 {
		t.Fatalf("list-only push touched properties (%d calls)", n)
	}
}
