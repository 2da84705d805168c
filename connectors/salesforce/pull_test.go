package salesforce

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func TestPullPagesOf2000AndResumesIncrementally(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	acc := f.Insert("Account", map[string]any{"Name": "Acme GmbH", "Industry": "Manufacturing", "NumberOfEmployees": 250,
		"AnnualRevenue": "12500000.50", "BillingCountry": "Germany", "Website": "https://www.acme.example"})
	ids := f.SeedContacts(4500, func(i int) map[string]any {
		if i == 0 {
			return map[string]any{"AccountId": acc, "Birthdate": "1980-05-17", "HasOptedOutOfEmail": true}
		}
		return nil
	})
	leads := f.Seed("Lead", 3, func(i int) map[string]any {
		return map[string]any{"LastName": "Lead", "Email": "lead@example.com", "Company": "Initech", "Country": "France", "Status": "Open - Not Contacted"}
	})
	c, _ := newConn(t, f, nil)

	col := pullAll(t, c, domain.ObjectContact, "", 0)
	if got := len(col.changes); got != 4503 {
		t.Fatalf("first pull: %d changes, want 4503", got)
	}
	// 4,500 contacts in pages of 2,000: one query and two nextRecordsUrl
	// follow-ups; the leads: one query.
	if q, more := f.CallCount("GET /queryAll"), f.CallCount("GET /queryAll/{locator}"); q != 2 || more != 2 {
		t.Fatalf("calls: queryAll=%d more=%d, want 2 and 2 (pages of 2,000)", q, more)
	}
	if n := len(col.pages[0].Changes); n != 2000 {
		t.Fatalf("first page has %d records, want 2000", n)
	}
	first := col.changes[0].Contact
	if first.Ref.ID != ids[0] || first.Emails[0] != "person0@example.com" || first.Address.Country != "DE" ||
		first.CompanyRef.ID != acc || first.BirthDate != "1980-05-17" || first.Consent.Email != domain.ConsentDenied {
		t.Fatalf("first contact mapped wrong: %+v", first)
	}
	lead := col.changes[4500].Contact
	if lead.Ref.ObjectType != "lead" || lead.Address.Country != "FR" || lead.Company.Name != "Initech" || lead.LifecycleStage != "lead" {
		t.Fatalf("lead mapped wrong: %+v", lead)
	}

	// Change a few records on the platform, then pull from the cursor.
	f.Update("Contact", ids[10], map[string]any{"Email": "new10@example.com"})
	f.Update("Contact", ids[4000], map[string]any{"LastName": "Renamed"})
	f.Delete("Contact", ids[20])
	f.Merge("Contact", ids[30], ids[31])
	conv := f.Insert("Contact", map[string]any{"LastName": "Converted", "Email": "lead@example.com"})
	f.Update("Lead", leads[1], map[string]any{"IsConverted": true, "ConvertedContactId": conv})

	f.ResetCalls()
	col2 := pullAll(t, c, domain.ObjectContact, col.cursor, 0)
	got := map[string]adapter.Change{}
	for _, ch := range col2.changes {
		got[ch.Ref.ID] = ch
	}
	want := map[string]adapter.ChangeKind{ids[10]: adapter.ChangeUpsert, ids[4000]: adapter.ChangeUpsert,
		ids[20]: adapter.ChangeDelete, ids[30]: adapter.ChangeUpsert, ids[31]: adapter.ChangeMerge,
		conv: adapter.ChangeUpsert, leads[1]: adapter.ChangeMerge}
	if len(got) != len(want) || len(col2.changes) != len(want) {
		t.Fatalf("incremental pull returned %d changes (%d distinct), want exactly %d: %v", len(col2.changes), len(got), len(want), got)
	}
	for id, k := range want {
		if got[id].Kind != k {
			t.Errorf("record %s: kind %q, want %q", id, got[id].Kind, k)
		}
	}
	if got[ids[31]].MergedInto.ID != ids[30] {
		t.Errorf("merged contact points at %q, want %s", got[ids[31]].MergedInto.ID, ids[30])
	}
	if got[leads[1]].MergedInto.ID != conv || got[leads[1]].MergedInto.ObjectType != domain.ObjectContact {
		t.Errorf("converted lead merged into %+v, want contact %s", got[leads[1]].MergedInto, conv)
	}
	if got[ids[10]].Contact.Emails[0] != "new10@example.com" {
		t.Errorf("updated email not pulled: %+v", got[ids[10]].Contact)
	}
	// Nothing changed since: a third pull hands over nothing.
	col3 := pullAll(t, c, domain.ObjectContact, col2.cursor, 0)
	if len(col3.changes) != 0 {
		t.Fatalf("third pull returned %d changes, want 0", len(col3.changes))
	}

	comp := pullAll(t, c, domain.ObjectCompany, "", 0)
	if len(comp.changes) != 1 {
		t.Fatalf("company pull: %d changes", len(comp.changes))
	}
	co := comp.changes[0].Company
	if co.AnnualRevenue.Amount != 1250000050 || co.AnnualRevenue.Currency != "USD" || co.Employees != 250 || co.Domain != "acme.example" || co.Country != "DE" {
		t.Fatalf("account mapped wrong: %+v", co)
	}
}

func TestPullResumesMidQueryWithTieBreak(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	f.SeedContacts(1000, nil) // all within a second or two: ties on the SOQL literal
	c, _ := newConn(t, f, map[string]any{"objects": map[string]any{"leads": false}})
	seen := map[string]int{}
	cursor := ""
	for round := 0; round < 20; round++ {
		col := &collector{cursor: cursor, failAfter: 1}
		err := c.Pull(ctxT(t), adapter.PullRequest{Object: domain.ObjectContact, Cursor: cursor, PageSize: 200}, col.sink)
		for _, ch := range col.changes {
			seen[ch.Ref.ID]++
		}
		cursor = col.cursor
		if err == nil {
			break
		}
		if !errors.Is(err, errStop) {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	if len(seen) != 1000 {
		t.Fatalf("saw %d distinct contacts, want 1000", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("contact %s handed over %d times, want once", id, n)
		}
	}
}

func TestPullQuarantinesMalformedRecordAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	ct := f.Insert("Contact", map[string]any{"LastName": "Buyer", "Email": "b@example.com"})
	good := f.Insert("Opportunity", map[string]any{"Name": "Big deal", "Amount": "1999.99", "StageName": "Closed Won",
		"IsWon": true, "IsClosed": true, "CloseDate": "2026-03-01", "ContactId": ct})
	bad := f.Insert("Opportunity", map[string]any{"Name": "Odd", "Amount": "1E+5", "StageName": "Prospecting"})
	open := f.Insert("Opportunity", map[string]any{"Name": "Open", "Amount": "10", "StageName": "Prospecting"})
	// "open" has no ContactId: its primary contact role names the buyer.
	other := f.Insert("Contact", map[string]any{"LastName": "Influencer"})
	f.Insert("OpportunityContactRole", map[string]any{"OpportunityId": open, "ContactId": other, "IsPrimary": false})
	f.Insert("OpportunityContactRole", map[string]any{"OpportunityId": open, "ContactId": ct, "IsPrimary": true})
	c, _ := newConn(t, f, nil)
	col := pullAll(t, c, domain.ObjectOrder, "", 0)
	if len(col.changes) != 2 {
		t.Fatalf("%d changes, want 2 (the malformed one quarantined)", len(col.changes))
	}
	var q []adapter.Rejected
	for _, p := range col.pages {
		q = append(q, p.Quarantined...)
	}
	if len(q) != 1 || q[0].Ref.ID != bad || !strings.Contains(q[0].Reason, "field Amount") {
		t.Fatalf("quarantine = %+v, want one record %s naming field Amount", q, bad)
	}
	byID := map[string]*domain.Order{}
	for _, ch := range col.changes {
		byID[ch.Ref.ID] = ch.Order
	}
	won := byID[good]
	if won.Status != domain.StatusCompleted || won.Total.Amount != 199999 || won.CustomerRef.ID != ct ||
		won.CreatedAt.Format("2006-01-02") != "2026-03-01" || won.RawStatus != "Closed Won" {
		t.Fatalf("closed-won opportunity mapped wrong: %+v", won)
	}
	if byID[open].Status != domain.StatusOpen || byID[open].Status.IsPurchase() || byID[open].CustomerRef.ID != ct {
		t.Fatalf("open opportunity mapped wrong: %+v", byID[open])
	}
}

func TestPullTokenExpiresMidPull(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{PageSize: 500})
	f.SeedContacts(2000, nil)
	c, _ := newConn(t, f, map[string]any{"objects": map[string]any{"leads": false}})
	col := &collector{}
	pages := 0
	err := c.Pull(ctxT(t), adapter.PullRequest{Object: domain.ObjectContact}, func(ctx2 context.Context, p adapter.Page) error {
		pages++
		if pages == 2 {
			f.ExpireSessions()
		}
		return col.sink(ctx2, p)
	})
	if err != nil {
		t.Fatalf("pull across an expired session: %v", err)
	}
	if len(col.changes) != 2000 {
		t.Fatalf("%d changes, want 2000", len(col.changes))
	}
	if n := f.CallCount("POST /services/oauth2/token"); n != 2 {
		t.Fatalf("token endpoint called %d times, want 2 (login and one refresh)", n)
	}
}

func TestBulkInitialLoad200k(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("200,000-record bulk load skipped in -short")
	}
	f := startFake(t, salesforcefake.Options{BulkPolls: 2})
	ids := f.SeedContacts(200000, nil)
	c, _ := newConn(t, f, map[string]any{"objects": map[string]any{"leads": false},
		"bulk": map[string]any{"threshold": 10000, "page_size": 50000, "poll_interval": "1ms"}})
	seen := make(map[string]bool, 200000)
	total, cursor := 0, ""
	err := c.Pull(ctxT(t), adapter.PullRequest{Object: domain.ObjectContact}, func(_ context.Context, p adapter.Page) error {
		for _, ch := range p.Changes {
			seen[ch.Ref.ID] = true
		}
		total += len(p.Changes)
		cursor = p.Cursor
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 200000 || total != 200000 {
		t.Fatalf("bulk load: %d changes, %d distinct; want 200000", total, len(seen))
	}
	calls := f.Calls()
	if calls["POST /jobs/query"] != 1 || calls["GET /jobs/query/{id}/results"] != 4 || calls["GET /jobs/query/{id}"] != 3 {
		t.Fatalf("bulk calls = %v; want 1 job, 3 polls, 4 result pages", calls)
	}
	if calls["GET /queryAll"] != 0 {
		t.Fatalf("the initial load also ran REST queries: %v", calls)
	}
	// The next pull is incremental over REST and sees only the change.
	f.Update("Contact", ids[123], map[string]any{"FirstName": "Changed"})
	// The newest bulk row is read once more (no tie-break after an
	// unordered load); nothing else is.
	col2 := pullAll(t, c, domain.ObjectContact, cursor, 0)
	changed := false
	for _, ch := range col2.changes {
		if ch.Ref.ID == ids[123] && ch.Contact.FirstName == "Changed" {
			changed = true
		} else if ch.Ref.ID != ids[len(ids)-1] {
			t.Fatalf("incremental pull after bulk re-read %s", ch.Ref.ID)
		}
	}
	if !changed || len(col2.changes) > 2 {
		t.Fatalf("incremental pull after bulk: %d changes, the change found: %v", len(col2.changes), changed)
	}
}

func TestBulkJobFailureFallsBackToREST(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	f.SeedContacts(300, nil)
	f.FailNextBulkJobs(1)
	c, logs := newConn(t, f, map[string]any{"objects": map[string]any{"leads": false},
		"bulk": map[string]any{"threshold": 100, "poll_interval": "1ms"}})
	col := pullAll(t, c, domain.ObjectContact, "", 0)
	if len(col.changes) != 300 {
		t.Fatalf("%d changes, want 300", len(col.changes))
	}
	if !strings.Contains(logs.String(), "falling back to REST") {
		t.Fatalf("no warning logged about the failed bulk job")
	}
}

func TestFetchReportsCurrentStateDeletesAndMerges(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	demo := f.SeedDemo(50, 1, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	c, _ := newConn(t, f, nil)
	live, gone, loser := demo.Contacts[0], demo.Contacts[1], demo.Contacts[2]
	f.Delete("Contact", gone)
	f.Merge("Contact", live, loser)
	f.Purge("Contact", gone) // emptied recycle bin: not even queryAll sees it
	got, err := c.Fetch(ctxT(t), adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{live, gone, loser, demo.Leads[0]}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]adapter.ChangeKind{}
	for _, ch := range got {
		kinds[ch.Ref.ID] = ch.Kind
	}
	want := map[string]adapter.ChangeKind{live: adapter.ChangeUpsert, gone: adapter.ChangeDelete, loser: adapter.ChangeMerge, demo.Leads[0]: adapter.ChangeUpsert}
	for id, k := range want {
		if kinds[id] != k {
			t.Errorf("%s: %q, want %q", id, kinds[id], k)
		}
	}
	// The demo data maps without a single quarantine.
	for _, obj := range []string{domain.ObjectContact, domain.ObjectCompany, domain.ObjectOrder} {
		col := pullAll(t, c, obj, "", 0)
		for _, p := range col.pages {
			if len(p.Quarantined) > 0 {
				t.Fatalf("%s: quarantined %+v", obj, p.Quarantined[0])
			}
		}
		if len(col.changes) == 0 {
			t.Fatalf("%s: nothing pulled", obj)
		}
	}
}

func TestFullSweepReportsPurgedRecords(t *testing.T) {
	t.Parallel()
	// getDeleted covers whole minutes up to the platform's clock, which
	// the test moves on by five minutes after the deletion.
	var offset atomic.Int64
	offset.Store(int64(-10 * time.Minute))
	f := startFake(t, salesforcefake.Options{Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
	ids := f.SeedContacts(5, nil)
	c, _ := newConn(t, f, map[string]any{"objects": map[string]any{"leads": false}})
	first := pullAll(t, c, domain.ObjectContact, "", 0)
	f.Delete("Contact", ids[2])
	f.Purge("Contact", ids[2]) // gone from queryAll, still listed by getDeleted
	offset.Store(int64(-5 * time.Minute))
	col := &collector{}
	if err := c.Pull(ctxT(t), adapter.PullRequest{Object: domain.ObjectContact, Cursor: first.cursor, Full: true}, col.sink); err != nil {
		t.Fatal(err)
	}
	upserts, deletes := 0, map[string]bool{}
	for _, ch := range col.changes {
		switch ch.Kind {
		case adapter.ChangeUpsert:
			upserts++
		case adapter.ChangeDelete:
			deletes[ch.Ref.ID] = true
		}
	}
	if upserts != 4 || len(deletes) != 1 || !deletes[ids[2]] {
		t.Fatalf("full sweep: %d upserts, deletes %v; want 4 and %s", upserts, deletes, ids[2])
	}
}

func TestOrdersWhenEnabled(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	ct := f.Insert("Contact", map[string]any{"LastName": "Buyer"})
	acc := f.Insert("Account", map[string]any{"Name": "Buyer Ltd"})
	ord := f.Insert("Order", map[string]any{"AccountId": acc, "BillToContactId": ct, "Status": "Activated",
		"EffectiveDate": "2026-02-03", "TotalAmount": "49.90", "OrderNumber": "00000101"})
	draft := f.Insert("Order", map[string]any{"AccountId": acc, "Status": "Draft", "EffectiveDate": "2026-02-04", "TotalAmount": "5"})
	c, _ := newConn(t, f, map[string]any{"objects": map[string]any{"orders": true}, "currency": "EUR"})
	col := pullAll(t, c, domain.ObjectOrder, "", 0)
	byID := map[string]*domain.Order{}
	for _, ch := range col.changes {
		byID[ch.Ref.ID] = ch.Order
	}
	o := byID[ord]
	if o == nil || o.Status != domain.StatusCompleted || o.Total.Amount != 4990 || o.Currency != "EUR" ||
		o.CustomerRef.ID != ct || o.CreatedAt.Format("2006-01-02") != "2026-02-03" || o.Ref.ObjectType != domain.ObjectOrder {
		t.Fatalf("activated order mapped as %+v", o)
	}
	if byID[draft] == nil || byID[draft].Status != domain.StatusPending {
		t.Fatalf("draft order mapped as %+v", byID[draft])
	}
	c2, _ := newConn(t, f, nil)
	if col := pullAll(t, c2, domain.ObjectOrder, "", 0); len(col.changes) != 0 {
		t.Fatalf("orders pulled although objects.orders is off: %d", len(col.changes))
	}
}
