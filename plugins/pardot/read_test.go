package pardot_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/segconn/connector/plugins/pardot"
	"github.com/segconn/connector/plugins/pardot/pardotfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

var errStop = errors.New("stop after one page")

// pullOnePage pulls from cursor and stops after the first page, as an
// interrupted run does; it returns the page's ids and cursor.
func pullOnePage(t *testing.T, p *pardot.Plugin, cursor string, size int) ([]string, string, bool) {
	t.Helper()
	var ids []string
	var next string
	got := false
	err := p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, Cursor: cursor, PageSize: size},
		func(_ context.Context, pg adapter.Page) error {
			for _, c := range pg.Changes {
				ids = append(ids, c.Ref.ID)
			}
			next, got = pg.Cursor, true
			return errStop
		})
	if err != nil && !errors.Is(err, errStop) {
		t.Fatal(err)
	}
	return ids, next, got
}

// Prospects updated in the same second, split across pages and across
// interrupted pulls, each come exactly once; a later pull repeats none,
// and brings exactly a prospect updated since. Reading from the
// cursor's second with updatedAtAfter would lose the rest of the
// second; without the last id, the resumed pull would repeat it.
func TestSameSecondTiesNeitherLostNorRepeated(t *testing.T) {
	t.Parallel()
	f := pardotfake.Start(t.Cleanup)
	f.Seed(3)
	tied := f.SeedSameSecond(25)
	f.Seed(2)
	p := pardot.New()
	cfg := config(f)
	cfg["engagement"] = "false"
	if err := p.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	cursor := ""
	for range 20 {
		ids, next, _ := pullOnePage(t, p, cursor, 7)
		for _, id := range ids {
			seen[id]++
		}
		if len(ids) == 0 {
			break
		}
		cursor = next
	}
	if len(seen) != 30 {
		t.Fatalf("interrupted pulls delivered %d prospects, want 30", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("prospect %s delivered %d times", id, n)
		}
	}
	for _, pr := range tied {
		if seen[strconv.Itoa(pr.ID)] != 1 {
			t.Errorf("tied prospect %d delivered %d times", pr.ID, seen[strconv.Itoa(pr.ID)])
		}
	}
	ids, _, _ := pullOnePage(t, p, cursor, 7)
	if len(ids) != 0 {
		t.Fatalf("a pull with nothing new repeated %v", ids)
	}
	f.Touch(tied[3].ID)
	ids, _, _ = pullOnePage(t, p, cursor, 7)
	if len(ids) != 1 || ids[0] != strconv.Itoa(tied[3].ID) {
		t.Fatalf("after one update the pull brought %v, want [%d]", ids, tied[3].ID)
	}
}

// An access token that expires in the middle of a pull is renewed once
// with the refresh token, and the pull completes with every prospect.
func TestTokenExpiryMidPull(t *testing.T) {
	t.Parallel()
	f := pardotfake.Start(t.Cleanup)
	f.Seed(30)
	p := configured(t, f)
	n, pages := 0, 0
	err := p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, PageSize: 10},
		func(_ context.Context, pg adapter.Page) error {
			pages++
			n += len(pg.Changes)
			if pages == 1 {
				f.ExpireTokens()
			}
			return nil
		})
	if err != nil {
		t.Fatalf("pull across a token expiry: %v", err)
	}
	if _, tokens := f.Calls(); n != 30 || tokens != 2 {
		t.Fatalf("pull across a token expiry: %d prospects, %d token requests; want 30 and 2", n, tokens)
	}
}

// A wrong business unit is an auth error carrying the platform's code,
// not something to retry.
func TestWrongBusinessUnit(t *testing.T) {
	t.Parallel()
	f := pardotfake.Start(t.Cleanup)
	p := pardot.New()
	cfg := config(f)
	cfg["business_unit_id"] = "0Uv000000000009ZZZ"
	if err := p.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	err := p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact},
		func(context.Context, adapter.Page) error { return nil })
	if adapter.KindOf(err) != adapter.KindAuth {
		t.Fatalf("pull with a wrong business unit: kind %v (%v), want auth", adapter.KindOf(err), err)
	}
	if want := "code 181"; err == nil || !contains(err.Error(), want) {
		t.Fatalf("error %v does not carry %q", err, want)
	}
}

// When the daily quota is spent (code 122) the pull stops with a
// rate-limited error that waits until midnight, the plugin reports no
// calls left, and it sends no more calls until then.
func TestDailyQuotaStopsCleanly(t *testing.T) {
	t.Parallel()
	f := pardotfake.Start(t.Cleanup)
	f.Seed(5)
	f.SetDailyQuota(100, 100)
	f.RecordRequests()
	p := configured(t, f)
	pull := func() error {
		return p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact},
			func(context.Context, adapter.Page) error { return nil })
	}
	err := pull()
	if adapter.KindOf(err) != adapter.KindRateLimited || adapter.RetryAfterOf(err) <= 0 {
		t.Fatalf("pull over the daily quota: kind %v, retry after %v (%v); want rate_limited with a wait",
			adapter.KindOf(err), adapter.RetryAfterOf(err), err)
	}
	if n := len(f.Requests()); n != 1 {
		t.Fatalf("%d calls sent into a spent quota, want 1 (no retries)", n)
	}
	if q := p.DailyQuota(); q.Remaining != 0 || q.Limit != 25000 {
		t.Fatalf("quota reported %+v, want limit 25000 and 0 remaining", q)
	}
	before, _ := f.Calls()
	if err := pull(); adapter.KindOf(err) != adapter.KindRateLimited {
		t.Fatalf("second pull: %v", err)
	}
	after, _ := f.Calls()
	if total(after) != total(before) {
		t.Fatalf("the plugin kept calling after code 122: %d calls, then %d", total(before), total(after))
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// Score, grade, a chosen custom field and visitor activities become
// attributes; a prospect who only engaged since the last pull comes
// again with the new counts.
func TestScoreGradeFieldsAndEngagement(t *testing.T) {
	t.Parallel()
	f := pardotfake.Start(t.Cleanup)
	ps := f.Seed(3)
	p := configured(t, f)
	ctx := context.Background()
	ens, err := p.EnsureTargets(ctx, []adapter.Target{{Key: "segments", Kind: adapter.TargetProperty, Name: "Segments"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Push(ctx, adapter.PushRequest{Targets: map[string]string{"segments": ens[0].PlatformID},
		Items: []adapter.PushItem{{ID: "1", Ref: refsOf(ps[:1])[0], Properties: map[string]string{"segments": "vip"}}}}); err != nil {
		t.Fatal(err)
	}
	f.AddActivity(ps[0].ID, pardotfake.TypeOpen)
	f.AddActivity(ps[0].ID, pardotfake.TypeOpen)
	f.AddActivity(ps[0].ID, pardotfake.TypeClick)
	f.AddActivity(ps[0].ID, pardotfake.TypeView)
	f.AddActivity(ps[0].ID, pardotfake.TypeSuccess)
	cfg := config(f)
	cfg["read_fields"] = "Segments"
	if err := p.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	attrs := map[string]map[string]string{}
	cursor := ""
	collect := func(_ context.Context, pg adapter.Page) error {
		for _, c := range pg.Changes {
			attrs[c.Ref.ID] = c.Contact.Attributes
		}
		cursor = pg.Cursor
		return nil
	}
	if err := p.Pull(ctx, adapter.PullRequest{Object: domain.ObjectContact}, collect); err != nil {
		t.Fatal(err)
	}
	a := attrs[strconv.Itoa(ps[0].ID)]
	want := map[string]string{"pardot_score": strconv.Itoa(ps[0].Score), "pardot_grade": ps[0].Grade, "pardot_Segments": "vip",
		"pardot_email_opens": "2", "pardot_email_clicks": "1", "pardot_page_views": "1", "pardot_form_handler_submits": "1"}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("attribute %s = %q, want %q (all: %v)", k, a[k], v, a)
		}
	}
	f.AddActivity(ps[2].ID, pardotfake.TypeOpen)
	attrs = map[string]map[string]string{}
	if err := p.Pull(ctx, adapter.PullRequest{Object: domain.ObjectContact, Cursor: cursor}, collect); err != nil {
		t.Fatal(err)
	}
	if len(attrs) != 1 || attrs[strconv.Itoa(ps[2].ID)]["pardot_email_opens"] != "1" {
		t.Fatalf("after one email open the pull brought %v, want only prospect %d with 1 open", attrs, ps[2].ID)
	}
}

// A token that expires in the middle of a write-back, met by the five
// writers at once, is renewed once, and every write lands.
func TestTokenExpiryMidPush(t *testing.T) {
	t.Parallel()
	f := pardotfake.Start(t.Cleanup)
	ps := f.Seed(200)
	p := configured(t, f)
	ctx := context.Background()
	ens, err := p.EnsureTargets(ctx, []adapter.Target{{Key: "s", Kind: adapter.TargetProperty, Name: "segments"}})
	if err != nil {
		t.Fatal(err)
	}
	items := make([]adapter.PushItem, len(ps))
	for i, r := range refsOf(ps) {
		items[i] = adapter.PushItem{ID: r.ID, Ref: r, Properties: map[string]string{"s": "x"}}
	}
	f.ExpireTokens()
	res, err := p.Push(ctx, adapter.PushRequest{Items: items, Targets: map[string]string{"s": ens[0].PlatformID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != adapter.PushOK {
			t.Fatalf("item %s: %+v", r.ID, r)
		}
	}
	if _, tokens := f.Calls(); tokens != 2 {
		t.Fatalf("%d token requests, want 2 (the first and one renewal)", tokens)
	}
}

// A pull that meets code 122 part-way stops with the pages it
// delivered; after the quota renews (a new day; a restarted plugin) it
// resumes from the cursor and delivers each remaining prospect once.
func TestDailyQuotaResumes(t *testing.T) {
	t.Parallel()
	f := pardotfake.Start(t.Cleanup)
	f.Seed(30)
	p := configured(t, f)
	f.SetDailyQuota(2, 0) // the activities page and one prospect page
	seen := map[string]int{}
	cursor := ""
	sink := func(_ context.Context, pg adapter.Page) error {
		for _, c := range pg.Changes {
			seen[c.Ref.ID]++
		}
		cursor = pg.Cursor
		return nil
	}
	err := p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, PageSize: 10}, sink)
	if adapter.KindOf(err) != adapter.KindRateLimited || len(seen) != 10 {
		t.Fatalf("pull into the quota: %v with %d prospects; want rate_limited after 10", err, len(seen))
	}
	f.SetDailyQuota(1000, 0)
	p = configured(t, f)
	if err := p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, PageSize: 10, Cursor: cursor}, sink); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 30 {
		t.Fatalf("after the resume %d prospects, want 30", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("prospect %s delivered %d times", id, n)
		}
	}
}

// A 50,000-prospect first pull reads 1000 prospects a call: 50 prospect
// pages and one of visitor activities, within the concurrent limit.
func TestInitialPull50000(t *testing.T) {
	if testing.Short() {
		t.Skip("50,000 prospects")
	}
	t.Parallel()
	const n = 50000
	f := pardotfake.Start(t.Cleanup)
	f.Seed(n)
	f.AddActivity(1001, pardotfake.TypeOpen)
	p := configured(t, f)
	got := map[string]bool{}
	err := p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact}, func(_ context.Context, pg adapter.Page) error {
		for _, c := range pg.Changes {
			got[c.Ref.ID] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	calls, tokens := f.Calls()
	if len(got) != n || calls["GET /prospects"] != n/1000 || calls["GET /visitor-activities"] != 1 || total(calls) != n/1000+1 || tokens != 1 {
		t.Fatalf("%d prospects with calls %v and %d token requests; want %d, %d prospect pages, 1 activity page, 1 token",
			len(got), calls, tokens, n, n/1000)
	}
	t.Logf("50,000-prospect pull: %d API calls (minimum %d)", total(calls), n/1000+1)
}
