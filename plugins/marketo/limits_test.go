package marketo_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/marketo/marketofake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// ensure creates a field and a static list and returns key → platform id.
func ensure(t *testing.T, p interface {
	EnsureTargets(context.Context, []adapter.Target) ([]adapter.EnsuredTarget, error)
}) map[string]string {
	t.Helper()
	es, err := p.EnsureTargets(context.Background(), []adapter.Target{{Key: "seg", Kind: adapter.TargetProperty, Name: "segment"},
		{Key: "list:vip", Kind: adapter.TargetList, Name: "segment: vip"}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range es {
		out[e.Key] = e.PlatformID
	}
	return out
}

// A write-back of 10,000 leads (a field value and a static list each)
// takes the fewest calls Marketo allows, ceil(10000/300) = 34 syncs and
// 34 list additions, with no call refused for the rate limit and never
// more than 100 calls in a 20-second window, counted by the fake.
func TestWriteBackOf10000LeadsWithinTheLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("paced at Marketo's rate limit, about 15 s: skipped in -short mode")
	}
	t.Parallel()
	f := marketofake.Start(t.Cleanup)
	leads := f.Seed(10_000)
	p := configured(t, f)
	targets := ensure(t, p)
	desc, _ := p.Describe(context.Background())
	batch := desc.Capabilities.MaxPushBatch
	refs := refsOf(leads)
	before := f.Stats()
	for start := 0; start < len(refs); start += batch {
		req := adapter.PushRequest{Targets: targets}
		for i, r := range refs[start:min(start+batch, len(refs))] {
			req.Items = append(req.Items, adapter.PushItem{ID: fmt.Sprint(start + i), Ref: r,
				Properties: map[string]string{"seg": "vip"}, Add: []string{"list:vip"}})
		}
		res, err := p.Push(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Status != adapter.PushOK {
				t.Fatalf("item %s: %+v", r.ID, r)
			}
		}
	}
	s := f.Stats()
	syncs := s.ByOp["POST /rest/v1/leads.json"] - before.ByOp["POST /rest/v1/leads.json"]
	adds := s.ByOp["POST /rest/v1/lists/{listId}/leads.json"]
	if syncs != 34 || adds != 34 {
		t.Errorf("calls: %d syncs and %d list additions, want 34 and 34", syncs, adds)
	}
	if s.Throttled != 0 || f.MaxWindowCalls() > marketofake.WindowCalls {
		t.Errorf("%d calls refused for the rate limit; at most %d calls in a window (limit %d)", s.Throttled, f.MaxWindowCalls(), marketofake.WindowCalls)
	}
	list, _ := strconv.Atoi(targets["list:vip"])
	if n := len(f.Members(list)); n != 10_000 {
		t.Errorf("static list has %d members, want 10000", n)
	}
	for _, l := range []*marketofake.Lead{leads[0], leads[4321], leads[9999]} {
		if v, _ := f.Field(l.ID, targets["seg"]); v != "vip" {
			t.Errorf("lead %d: segment field %q, want vip", l.ID, v)
		}
	}
	t.Logf("10,000 leads written in %d syncs and %d list calls (%d calls in all, at most %d in a 20 s window)",
		syncs, adds, s.Counted-before.Counted, f.MaxWindowCalls())
}

// A token that expires in the middle of a pull (602) is renewed and the
// pull goes on without losing a lead.
func TestTokenExpiryMidPull(t *testing.T) {
	t.Parallel()
	f := marketofake.Start(t.Cleanup)
	leads := f.Seed(50)
	p := configured(t, f)
	got := map[string]bool{}
	pages := 0
	err := p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, PageSize: 10},
		func(_ context.Context, pg adapter.Page) error {
			pages++
			if pages == 1 {
				f.ExpireTokens()
			}
			for _, c := range pg.Changes {
				got[c.Ref.ID] = true
			}
			return nil
		})
	if err != nil {
		t.Fatalf("pull across a token expiry: %v", err)
	}
	if f.Stats().Expired == 0 {
		t.Fatal("the fake never answered 602: the expiry was not exercised")
	}
	for _, r := range refsOf(leads) {
		if !got[r.ID] {
			t.Errorf("lead %s missing after the token renewal", r.ID)
		}
	}
}

// When the daily quota runs out mid-pull (607), the pull stops with a
// rate-limited error lasting until midnight Central time, the pages
// before it keep their cursor, the quota is reported spent, and the pull
// resumes from that cursor once the quota resets, missing nothing.
func TestQuotaExhaustionStopsAndResumes(t *testing.T) {
	t.Parallel()
	f := marketofake.Start(t.Cleanup)
	leads := f.Seed(50)
	p := configured(t, f)
	f.SetQuotaUsed(marketofake.DailyQuota - 6)
	got := map[string]bool{}
	cur := ""
	sink := func(_ context.Context, pg adapter.Page) error {
		for _, c := range pg.Changes {
			got[c.Ref.ID] = true
		}
		cur = pg.Cursor
		return nil
	}
	err := p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, PageSize: 10}, sink)
	if adapter.KindOf(err) != adapter.KindRateLimited {
		t.Fatalf("pull past the quota: %v (kind %v), want rate limited", err, adapter.KindOf(err))
	}
	if d := adapter.RetryAfterOf(err); d <= 0 || d > 25*time.Hour {
		t.Errorf("retry after %v, want until the next midnight Central time", d)
	}
	if q := p.DailyQuota(); q.Limit != 50_000 || q.Remaining != 0 {
		t.Errorf("quota reported %+v, want 50000 with 0 left", q)
	}
	if cur == "" || len(got) == 0 || len(got) == len(leads) {
		t.Fatalf("before the quota ran out: %d leads, cursor %q; want some, not all", len(got), cur)
	}
	if f.Stats().OverQuota == 0 {
		t.Fatal("the fake never answered 607")
	}
	f.ResetDay()
	if err := p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, PageSize: 10, Cursor: cur}, sink); err != nil {
		t.Fatalf("resuming after the quota reset: %v", err)
	}
	for _, r := range refsOf(leads) {
		if !got[r.ID] {
			t.Errorf("lead %s missing after resuming", r.ID)
		}
	}
	if q := p.DailyQuota(); q.Remaining <= 0 {
		t.Errorf("quota after the reset reported %+v, want some left", q)
	}
}

// Open Email, Click Email, Visit Webpage and Fill Out Form activities are
// the engagement attributes; a later pull brings a lead whose only news
// is an email open (activities do not touch updatedAt).
func TestEngagement(t *testing.T) {
	t.Parallel()
	f := marketofake.Start(t.Cleanup)
	ls := f.Seed(3)
	f.Engage(ls[0].ID, marketofake.OpenEmail, 3)
	f.Engage(ls[0].ID, marketofake.ClickEmail, 1)
	f.Engage(ls[0].ID, marketofake.VisitWebpage, 2)
	f.Engage(ls[0].ID, marketofake.FillOutForm, 1)
	p := configured(t, f)
	byID, _, cur := pullAll(t, p, "")
	a := byID[strconv.Itoa(ls[0].ID)].Attributes
	if a[domain.AttrEmailOpens] != "3" || a[domain.AttrEmailClicks] != "1" || a[domain.AttrPageViews] != "2" ||
		a[domain.AttrFormSubmissions] != "1" || a[domain.AttrLastEmailOpen] == "" {
		t.Errorf("engagement of lead %d: %v", ls[0].ID, a)
	}
	if a := byID[strconv.Itoa(ls[1].ID)].Attributes; a[domain.AttrEmailOpens] != "0" {
		t.Errorf("lead %d without activities: %v", ls[1].ID, a)
	}
	f.Engage(ls[2].ID, marketofake.OpenEmail, 1)
	next, _, _ := pullAll(t, p, cur)
	c := next[strconv.Itoa(ls[2].ID)]
	if c == nil || c.Attributes[domain.AttrEmailOpens] != "1" {
		t.Fatalf("later pull: lead %d = %+v, want it with 1 open", ls[2].ID, c)
	}
	if len(next) != 1 {
		t.Errorf("later pull brought %d leads, want only the engaged one", len(next))
	}
}

// A lead Marketo does not have is skipped with 1004 and fails alone,
// permanently; the others are written.
func TestMissingLeadFailsAlone(t *testing.T) {
	t.Parallel()
	f := marketofake.Start(t.Cleanup)
	ls := f.Seed(2)
	p := configured(t, f)
	targets := ensure(t, p)
	refs := refsOf(ls)
	refs = append(refs, domain.ExternalRef{Platform: "marketo", ObjectType: domain.ObjectContact, ID: "424242"})
	req := adapter.PushRequest{Targets: targets}
	for i, r := range refs {
		req.Items = append(req.Items, adapter.PushItem{ID: fmt.Sprint(i), Ref: r, Properties: map[string]string{"seg": "a"}})
	}
	res, err := p.Push(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != adapter.PushOK || res[1].Status != adapter.PushOK {
		t.Errorf("existing leads: %+v %+v", res[0], res[1])
	}
	if res[2].Status != adapter.PushPermanent || !strings.Contains(res[2].Reason, "1004") {
		t.Errorf("missing lead: %+v, want permanent with 1004", res[2])
	}
}

// A first pull of 50,000 leads reads every one in 2·ceil(50000/300) calls
// (a page of lead changes and the page's leads by id) plus a paging token
// and the engagement scan, with no call refused for the rate limit and
// never more than 100 calls in a 20-second window, counted by the fake.
func TestInitialPullOf50000Leads(t *testing.T) {
	if testing.Short() {
		t.Skip("paced at Marketo's rate limit, about 80 s: skipped in -short mode")
	}
	t.Parallel()
	f := marketofake.Start(t.Cleanup)
	f.Seed(50_000)
	p := configured(t, f)
	byID, _, _ := pullAll(t, p, "")
	if len(byID) != 50_000 {
		t.Fatalf("pulled %d leads, want 50000", len(byID))
	}
	s := f.Stats()
	pages := (50_000 + 299) / 300
	changes, leads := s.ByOp["GET /rest/v1/activities/leadchanges.json"], s.ByOp["GET /rest/v1/leads.json"]
	if changes != pages || leads != pages {
		t.Errorf("%d lead-change and %d lead calls, want %d and %d", changes, leads, pages, pages)
	}
	if extra := s.Counted - changes - leads; extra > 4 {
		t.Errorf("%d calls besides the pages (paging tokens, engagement), want at most 4: %v", extra, s.ByOp)
	}
	if s.Throttled != 0 || f.MaxWindowCalls() > marketofake.WindowCalls {
		t.Errorf("%d calls refused for the rate limit; at most %d calls in a window (limit %d)", s.Throttled, f.MaxWindowCalls(), marketofake.WindowCalls)
	}
	t.Logf("50,000 leads in %d calls (at most %d in a 20 s window)", s.Counted, f.MaxWindowCalls())
}

// A later pull brings a lead whose first ever engagement came after a
// pull that saw no engagement at all.
func TestFirstEngagementAfterAQuietPull(t *testing.T) {
	t.Parallel()
	f := marketofake.Start(t.Cleanup)
	ls := f.Seed(2)
	p := configured(t, f)
	_, _, cur := pullAll(t, p, "")
	f.Engage(ls[1].ID, marketofake.ClickEmail, 1)
	next, _, _ := pullAll(t, p, cur)
	if c := next[strconv.Itoa(ls[1].ID)]; c == nil || c.Attributes[domain.AttrEmailClicks] != "1" {
		t.Fatalf("later pull: %+v, want lead %d with 1 click", next, ls[1].ID)
	}
}
