package salesforce

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func contactRef(id string) domain.ExternalRef {
	return domain.ExternalRef{Platform: Name, ObjectType: domain.ObjectContact, ID: id}
}

func ensure(t *testing.T, c *Connector, targets ...adapter.Target) map[string]string {
	t.Helper()
	got, err := c.EnsureTargets(ctxT(t), targets)
	if err != nil {
		t.Fatalf("ensuring targets: %v", err)
	}
	out := map[string]string{}
	for _, e := range got {
		out[e.Key] = e.PlatformID
	}
	return out
}

func TestEnsureTargetsExplainsMissingFieldAndFindsCampaigns(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	c, _ := newConn(t, f, nil)
	_, err := c.EnsureTargets(ctxT(t), []adapter.Target{{Key: "segments", Kind: adapter.TargetProperty, Name: "Segment__c"}})
	if err == nil {
		t.Fatal("a missing custom field was accepted")
	}
	for _, want := range []string{"Segment__c", "Contact and Lead", "Text(255)", "Object Manager"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if !errors.Is(err, adapter.ErrPermanent) {
		t.Errorf("missing field error is not permanent: %v", err)
	}
	f.AddField("Contact", "Segment__c", salesforcefake.TypeString)
	f.AddField("Lead", "Segment__c", salesforcefake.TypeString)
	f.AddField("Contact", "Score__c", salesforcefake.TypeDouble)
	f.AddField("Lead", "Score__c", salesforcefake.TypeDouble)
	_, err = c.EnsureTargets(ctxT(t), []adapter.Target{{Key: "score", Kind: adapter.TargetProperty, Name: "Score__c"}})
	if err == nil || !strings.Contains(err.Error(), "is of type double") {
		t.Fatalf("a numeric field was accepted for segment text: %v", err)
	}

	targets := []adapter.Target{
		{Key: "segments", Kind: adapter.TargetProperty, Name: "Segment__c"},
		{Key: "list:vip", Kind: adapter.TargetList, Name: "VIP customers"},
	}
	first, err := c.EnsureTargets(ctxT(t), targets)
	if err != nil {
		t.Fatal(err)
	}
	if first[0].PlatformID != "Segment__c" || !first[1].Created || !strings.HasPrefix(first[1].PlatformID, "701") {
		t.Fatalf("ensured %+v", first)
	}
	second, err := c.EnsureTargets(ctxT(t), targets)
	if err != nil {
		t.Fatal(err)
	}
	if second[1].Created || second[1].PlatformID != first[1].PlatformID {
		t.Fatalf("second EnsureTargets did not find the campaign: %+v", second)
	}
	if n := len(f.Records("Campaign")); n != 1 {
		t.Fatalf("%d campaigns exist, want 1", n)
	}
}

func TestSOQLInjectionChangesNothing(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	other := f.Insert("Campaign", map[string]any{"Name": "Existing", "IsActive": true})
	c, _ := newConn(t, f, nil)
	names := []string{
		`x' OR Name != '`,
		`O'Brien \' OR Name LIKE '%`,
		`back\slash\\' OR IsActive = true OR Name = '`,
		`SELECT Id FROM Campaign WHERE Name = 'Existing'`,
		"quote\"and\nnewline') OR (Name != '",
	}
	seen := map[string]bool{}
	for _, name := range names {
		got := ensure(t, c, adapter.Target{Key: "k", Kind: adapter.TargetList, Name: name})
		id := got["k"]
		if id == other || seen[id] {
			t.Fatalf("campaign name %q matched another campaign (%s): the literal escaped its quotes", name, id)
		}
		seen[id] = true
		if stored := f.Get("Campaign", id)["Name"]; stored != name {
			t.Fatalf("campaign created as %q, want %q", stored, name)
		}
		// Looking it up again finds exactly that campaign.
		if again := ensure(t, c, adapter.Target{Key: "k", Kind: adapter.TargetList, Name: name}); again["k"] != id {
			t.Fatalf("second lookup of %q found %s, want %s", name, again["k"], id)
		}
	}
	if n := len(f.Records("Campaign")); n != len(names)+1 {
		t.Fatalf("%d campaigns, want %d", n, len(names)+1)
	}
	// Ids are checked before they reach a query.
	before := f.TotalDataCalls()
	_, err := c.Fetch(ctxT(t), adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{"003' OR Id != '"}})
	if err == nil || !errors.Is(err, adapter.ErrPermanent) {
		t.Fatalf("a malicious id was accepted: %v", err)
	}
	if f.TotalDataCalls() != before {
		t.Fatal("a malicious id reached the API")
	}
}

func TestPushBatchesOf200WithPartialFailures(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	f.AddField("Contact", "Segment__c", salesforcefake.TypeString)
	f.AddField("Lead", "Segment__c", salesforcefake.TypeString)
	ids := f.SeedContacts(450, nil)
	lead := f.Insert("Lead", map[string]any{"LastName": "Lead", "Company": "X"})
	c, _ := newConn(t, f, nil)
	targets := ensure(t, c,
		adapter.Target{Key: "segments", Kind: adapter.TargetProperty, Name: "Segment__c"},
		adapter.Target{Key: "list:vip", Kind: adapter.TargetList, Name: "VIP"})
	camp := targets["list:vip"]
	f.FailRecord(ids[5], "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Segment must not be set on test contacts", "Segment__c")
	f.FailRecord(ids[7], "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record")
	// ids[9] is already in the campaign (added by hand): adding it again is fine.
	f.Insert("CampaignMember", map[string]any{"CampaignId": camp, "ContactId": ids[9], "CreatedById": "005000000000099AAA"})
	f.ResetCalls()

	all := append([]string{lead}, ids...)
	var results []adapter.PushResult
	for start := 0; start < len(all); start += MaxCollection {
		var items []adapter.PushItem
		for _, id := range all[start:min(start+MaxCollection, len(all))] {
			items = append(items, adapter.PushItem{ID: "item-" + id, Ref: contactRef(id),
				Properties: map[string]string{"segments": "vip"}, Add: []string{"list:vip"}})
		}
		res, err := c.Push(ctxT(t), adapter.PushRequest{Items: items, Targets: targets})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res...)
	}
	if len(results) != len(all) {
		t.Fatalf("%d results for %d items", len(results), len(all))
	}
	for _, n := range f.CollectionBatchSizes() {
		if n > 200 {
			t.Fatalf("a collection call carried %d records", n)
		}
	}
	// 451 items: 3 PATCH and 3 POST calls, nothing else but the two
	// sObject Collections endpoints.
	calls := f.Calls()
	if calls["PATCH /composite/sobjects"] != 3 || calls["POST /composite/sobjects"] != 3 || f.TotalDataCalls() != 6 {
		t.Fatalf("calls = %v, want 3 PATCH + 3 POST", calls)
	}
	for _, r := range results {
		switch r.ID {
		case "item-" + ids[5]:
			if r.Status != adapter.PushPermanent || !strings.Contains(r.Reason, "FIELD_CUSTOM_VALIDATION_EXCEPTION") || !strings.Contains(r.Reason, "Segment__c") {
				t.Errorf("validation failure result = %+v", r)
			}
		case "item-" + ids[7]:
			if r.Status != adapter.PushRetryable || !strings.Contains(r.Reason, "UNABLE_TO_LOCK_ROW") {
				t.Errorf("lock failure result = %+v", r)
			}
		default:
			if r.Status != adapter.PushOK {
				t.Errorf("item %s: %+v", r.ID, r)
			}
		}
	}
	if got := f.Get("Contact", ids[100])["Segment__c"]; got != "vip" {
		t.Fatalf("field not written: %v", got)
	}
	if got := f.Get("Lead", lead)["Segment__c"]; got != "vip" {
		t.Fatalf("lead field not written: %v", got)
	}
	if got := f.Get("Contact", ids[5])["Segment__c"]; got != nil {
		t.Fatalf("failed record changed: %v", got)
	}
	members := f.CampaignMembers(camp)
	// Saves involving the two failing contacts fail in the fake, member
	// rows included; everyone else is a member exactly once.
	if len(members) != 449 || members[ids[5]] != "" || members[ids[7]] != "" || members[ids[9]] != "005000000000099AAA" {
		t.Fatalf("%d campaign members, want 449 with the hand-made one kept", len(members))
	}
}

func TestPushRemovesOnlyOwnedMembershipsAndClearsFields(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	f.AddField("Contact", "Segment__c", salesforcefake.TypeString)
	f.AddField("Lead", "Segment__c", salesforcefake.TypeString)
	ids := f.SeedContacts(3, func(i int) map[string]any { return map[string]any{"Segment__c": "vip"} })
	c, _ := newConn(t, f, nil)
	targets := ensure(t, c,
		adapter.Target{Key: "segments", Kind: adapter.TargetProperty, Name: "Segment__c"},
		adapter.Target{Key: "list:vip", Kind: adapter.TargetList, Name: "VIP"})
	camp := targets["list:vip"]
	mine := f.Insert("CampaignMember", map[string]any{"CampaignId": camp, "ContactId": ids[0]})
	handMade := f.Insert("CampaignMember", map[string]any{"CampaignId": camp, "ContactId": ids[1], "CreatedById": "005000000000099AAA"})
	res, err := c.Push(ctxT(t), adapter.PushRequest{Targets: targets, Items: []adapter.PushItem{
		{ID: "a", Ref: contactRef(ids[0]), Remove: []string{"list:vip"}, Properties: map[string]string{"segments": ""}},
		{ID: "b", Ref: contactRef(ids[1]), Remove: []string{"list:vip"}},
		{ID: "c", Ref: contactRef(ids[2]), Remove: []string{"list:vip"}}, // not a member: nothing to do
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != adapter.PushOK {
			t.Fatalf("result %+v", r)
		}
	}
	if f.Get("CampaignMember", mine)["IsDeleted"] != true {
		t.Fatal("the membership the connector created was not removed")
	}
	if f.Get("CampaignMember", handMade)["IsDeleted"] != false {
		t.Fatal("a hand-made membership was removed")
	}
	if v := f.Get("Contact", ids[0])["Segment__c"]; v != nil {
		t.Fatalf("field not cleared: %v", v)
	}
	if v := f.Get("Contact", ids[1])["Segment__c"]; v != "vip" {
		t.Fatalf("a field nobody asked to change changed: %v", v)
	}
	// A bad ref is a permanent per-item result, not a failed call.
	res, err = c.Push(ctxT(t), adapter.PushRequest{Targets: targets, Items: []adapter.PushItem{
		{ID: "x", Ref: contactRef("not-an-id"), Add: []string{"list:vip"}},
		{ID: "y", Ref: contactRef(ids[2]), Add: []string{"list:unknown"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != adapter.PushPermanent {
			t.Fatalf("result %+v, want permanent", r)
		}
	}
}

func TestCollectionsAllOrNoneRollsBack(t *testing.T) {
	t.Parallel()
	// The fake's allOrNone=true semantics, which the connector does not
	// use but a faithful fake must have.
	f := startFake(t, salesforcefake.Options{})
	f.AddField("Contact", "Segment__c", salesforcefake.TypeString)
	ids := f.SeedContacts(3, nil)
	f.FailRecord(ids[1], "FIELD_CUSTOM_VALIDATION_EXCEPTION", "nope")
	c, _ := newConn(t, f, nil)
	var out []saveResult
	var recs []map[string]any
	for _, id := range ids {
		recs = append(recs, map[string]any{"attributes": map[string]string{"type": "Contact"}, "id": id, "Segment__c": "x"})
	}
	if err := c.sendJSON(ctxT(t), "PATCH", "/composite/sobjects", map[string]any{"allOrNone": true, "records": recs}, &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || out[0].code() != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || out[1].code() != "FIELD_CUSTOM_VALIDATION_EXCEPTION" {
		t.Fatalf("results %+v", out)
	}
	if f.Get("Contact", ids[0])["Segment__c"] != nil {
		t.Fatal("allOrNone did not roll back")
	}
	// Over 200 records is a 400 for the whole call.
	recs = nil
	for i := range 201 {
		recs = append(recs, map[string]any{"attributes": map[string]string{"type": "Contact"}, "id": ids[i%3], "Segment__c": fmt.Sprint(i)})
	}
	err := c.sendJSON(ctxT(t), "PATCH", "/composite/sobjects", map[string]any{"allOrNone": false, "records": recs}, &out)
	if err == nil || !strings.Contains(err.Error(), "EXCEEDED_ID_LIMIT") {
		t.Fatalf("201 records: %v", err)
	}
}

func TestLargestBatchesStayWithinURILimit(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	ids := f.SeedContacts(150, nil)
	leads := f.Seed("Lead", 50, func(i int) map[string]any { return map[string]any{"LastName": "L", "Company": "C"} })
	people := append(ids, leads...)
	c, _ := newConn(t, f, nil)
	targets := ensure(t, c, adapter.Target{Key: "list:a", Kind: adapter.TargetList, Name: "A"})
	var items []adapter.PushItem
	for _, id := range people {
		items = append(items, adapter.PushItem{ID: id, Ref: contactRef(id), Add: []string{"list:a"}})
	}
	if _, err := c.Push(ctxT(t), adapter.PushRequest{Items: items, Targets: targets}); err != nil {
		t.Fatal(err)
	}
	for i := range items {
		items[i].Add, items[i].Remove = nil, []string{"list:a"}
	}
	res, err := c.Push(ctxT(t), adapter.PushRequest{Items: items, Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != adapter.PushOK {
			t.Fatalf("remove of 200: %+v", r)
		}
	}
	if n := len(f.CampaignMembers(targets["list:a"])); n != 0 {
		t.Fatalf("%d members left after removing all 200", n)
	}
	got, err := c.Fetch(ctxT(t), adapter.FetchRequest{Object: domain.ObjectContact, IDs: people})
	if err != nil || len(got) != 200 {
		t.Fatalf("fetch of 200: %v, %d changes", err, len(got))
	}
}
