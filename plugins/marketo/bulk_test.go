package marketo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/marketo"
	"github.com/segconn/connector/plugins/marketo/marketofake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// bulkConfigured is a plugin whose first pull reads the leads by bulk
// extract, polling job status every millisecond (the fake's jobs move on
// per status call, not with time).
func bulkConfigured(t *testing.T, f *marketofake.Fake) *marketo.Plugin {
	t.Helper()
	c := config(f)
	c["bulk_extract"] = true
	c["bulk_poll"] = "1ms"
	p := marketo.New()
	if err := p.Configure(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return p
}

// A first pull of 50,000 leads by bulk extract reads every one with a
// job per 31 days of the year of history (ceil(365/31) = 12 jobs: create,
// enqueue, file, and about one status call each), two jobs at most in
// Marketo's queue, no job spanning more than 31 days; with the paging
// token, the engagement scan and one page of lead changes, that is at
// most 53 calls, against 337 through the lead changes, none refused for
// the rate limit, counted by the fake. A lead created afterwards comes
// with the next pull, through the lead changes, without a new job.
func TestInitialPullOf50000LeadsByBulkExtract(t *testing.T) {
	if testing.Short() {
		t.Skip("paced at Marketo's rate limit, about 12 s: skipped in -short mode")
	}
	t.Parallel()
	const n = 50_000
	f := marketofake.Start(t.Cleanup)
	leads := f.Seed(n)
	p := bulkConfigured(t, f)
	byID, _, cur := pullAll(t, p, "")
	if len(byID) != n {
		t.Fatalf("pulled %d leads, want %d", len(byID), n)
	}
	for _, l := range []*marketofake.Lead{leads[0], leads[31_415], leads[n-1]} {
		c := byID[refsOf([]*marketofake.Lead{l})[0].ID]
		if c == nil || len(c.Emails) != 1 || c.Emails[0] != l.Email || c.LastName != l.LastName || !c.CreatedAt.Equal(l.CreatedAt) {
			t.Errorf("lead %d pulled as %+v", l.ID, c)
		}
	}
	const jobs = 12
	s, x := f.Stats(), f.Exports()
	op := func(path string) int { return s.ByOp[path] }
	create, enqueue := op("POST /bulk/v1/leads/export/create.json"), op("POST /bulk/v1/leads/export/{exportId}/enqueue.json")
	status, file := op("GET /bulk/v1/leads/export/{exportId}/status.json"), op("GET /bulk/v1/leads/export/{exportId}/file.json")
	if create != jobs || enqueue != jobs || file != jobs || x.ByStatus[marketofake.ExportCompleted] != jobs {
		t.Errorf("%d creates, %d enqueues, %d files, %d jobs completed; want %d each", create, enqueue, file, x.ByStatus[marketofake.ExportCompleted], jobs)
	}
	if status > jobs+1 {
		t.Errorf("%d status calls for %d jobs, want at most %d", status, jobs, jobs+1)
	}
	if op("GET /rest/v1/leads.json") != 0 || op("GET /rest/v1/activities/leadchanges.json") != 1 {
		t.Errorf("besides the extract: %v", s.ByOp)
	}
	if s.Counted > 4*jobs+5 {
		t.Errorf("%d calls, want at most %d: %v", s.Counted, 4*jobs+5, s.ByOp)
	}
	if x.MaxProcessing > marketofake.MaxExportsProcessing || x.MaxInQueue > 2 || x.LongestSpan > marketofake.MaxExportSpan {
		t.Errorf("export queue: %d processing and %d queued at once, a job over %v; want at most 2, 2 and 31 days", x.MaxProcessing, x.MaxInQueue, x.LongestSpan)
	}
	if s.Throttled != 0 || f.MaxWindowCalls() > marketofake.WindowCalls {
		t.Errorf("%d calls refused for the rate limit; at most %d calls in a window", s.Throttled, f.MaxWindowCalls())
	}
	t.Logf("50,000 leads by bulk extract in %d calls (%d jobs, %d status calls, %d bytes exported); the lead changes take %d",
		s.Counted, jobs, status, x.Bytes, 2*((n+299)/300)+3)

	later := f.AddLead("late@example.com", "Late", "Comer", time.Now())
	byID, _, _ = pullAll(t, p, cur)
	if len(byID) != 1 || byID[refsOf([]*marketofake.Lead{later})[0].ID] == nil {
		t.Errorf("the next pull brought %d leads, want only the new one", len(byID))
	}
	if got := f.Exports().Jobs; got != jobs {
		t.Errorf("%d export jobs after the next pull, want still %d", got, jobs)
	}
}

// A bulk extract job that fails in Marketo stops the pull with an error
// that names the job, its window and Marketo's reason, after the leads
// of the windows before it were delivered; the job queued behind it is
// cancelled, and a pull from the last cursor makes new jobs for the
// windows after the last one delivered only, and brings the rest.
func TestFailedBulkExtractJob(t *testing.T) {
	if testing.Short() {
		t.Skip("paced at Marketo's rate limit, about 6 s: skipped in -short mode")
	}
	t.Parallel()
	now := time.Now()
	f := marketofake.Start(t.Cleanup)
	// history 2400h makes four windows: [-100 d, -69 d] holding 300
	// leads, [-69 d, -38 d], [-38 d, -7 d] holding 400, [-7 d, now]. The
	// fake completes the first two jobs together; the third fails.
	f.SetClock(now.AddDate(0, 0, -80))
	f.Seed(300)
	f.SetClock(now.AddDate(0, 0, -20))
	f.Seed(400)
	c := config(f)
	c["bulk_extract"], c["bulk_poll"], c["history"] = true, "1ms", "2400h"
	p := marketo.New()
	ctx := context.Background()
	if err := p.Configure(ctx, c); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	cur, pages := "", 0
	err := p.Pull(ctx, adapter.PullRequest{Object: domain.ObjectContact}, func(_ context.Context, pg adapter.Page) error {
		if pages == 0 {
			// The next job to finish, the third window's, fails.
			f.FailExports(1, "Internal error while writing the file")
		}
		pages++
		for _, c := range pg.Changes {
			got[c.Ref.ID] = true
		}
		cur = pg.Cursor
		return nil
	})
	if err == nil {
		t.Fatal("the pull succeeded over a failed job")
	}
	for _, want := range []string{"bulk lead extract job", "failed", "Internal error while writing the file", "leads created"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if k := adapter.KindOf(err); k != adapter.KindRetryable {
		t.Errorf("error kind %v, want retryable (the job is created again)", k)
	}
	x := f.Exports()
	if x.ByStatus[marketofake.ExportFailed] != 1 || x.ByStatus[marketofake.ExportCancelled] != 1 || x.Jobs != 4 {
		t.Fatalf("%d jobs, by status %v; want 4: two completed, one failed, one cancelled", x.Jobs, x.ByStatus)
	}
	if len(got) != 300 {
		t.Fatalf("%d leads delivered before the failure, want the first window's 300", len(got))
	}
	byID, _, _ := pullAll(t, p, cur)
	// The second window was empty, so no page moved the cursor past it.
	if jobs := f.Exports().Jobs - x.Jobs; jobs != 3 {
		t.Errorf("%d jobs for the resumed pull, want 3 (the windows after the first)", jobs)
	}
	for id := range byID {
		if got[id] {
			t.Errorf("lead %s delivered again", id)
		}
	}
	if len(byID) != 400 {
		t.Errorf("the resumed pull brought %d leads, want the other 400", len(byID))
	}
}

// With the day's export allocation spent, Marketo refuses new jobs with
// 1029 "Export daily quota exceeded": the pull stops as rate-limited
// until midnight Central time, not as a failure.
func TestBulkExportAllocationSpent(t *testing.T) {
	t.Parallel()
	f := marketofake.Start(t.Cleanup)
	f.Seed(10)
	f.SetExportQuota(marketofake.ExportDailyBytes, marketofake.ExportDailyBytes)
	p := bulkConfigured(t, f)
	err := p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact}, func(context.Context, adapter.Page) error { return nil })
	var ae *adapter.Error
	if !errors.As(err, &ae) || ae.Kind != adapter.KindRateLimited || ae.RetryAfter <= 0 || ae.RetryAfter > 25*time.Hour {
		t.Fatalf("pull with the export allocation spent: %v; want rate-limited until midnight Central time", err)
	}
	if !strings.Contains(err.Error(), "1029") {
		t.Errorf("error %q does not carry Marketo's code", err)
	}
}

// The conformance kit passes with first pulls by bulk extract: paging,
// cursors, incremental pulls after them, cancellation, rate limits.
func TestConformanceWithBulkExtract(t *testing.T) {
	t.Parallel()
	h := harness()
	start := h.Start
	h.Start = func(t testing.TB) *sdktest.Fake {
		fk := start(t)
		// A month of history: one job a first pull (the fake's leads
		// are created within the last 30 days).
		fk.Config["bulk_extract"], fk.Config["bulk_poll"], fk.Config["history"] = true, "1ms", "744h"
		return fk
	}
	sdktest.RunConformance(t, h)
}

// A lead changed while the extract runs (after the job wrote its file)
// comes again, changed, from the lead changes read after the extract in
// the same pull.
func TestLeadChangedDuringBulkExtract(t *testing.T) {
	t.Parallel()
	f := marketofake.Start(t.Cleanup)
	ls := f.Seed(20)
	c := config(f)
	c["bulk_extract"], c["bulk_poll"], c["history"] = true, "1ms", "744h"
	p := marketo.New()
	ctx := context.Background()
	if err := p.Configure(ctx, c); err != nil {
		t.Fatal(err)
	}
	last := map[string]string{}
	pages := 0
	err := p.Pull(ctx, adapter.PullRequest{Object: domain.ObjectContact, PageSize: 5}, func(_ context.Context, pg adapter.Page) error {
		if pages == 0 {
			f.SetClock(time.Now())
			f.SetField(ls[0].ID, "firstName", "Changed")
		}
		pages++
		for _, ch := range pg.Changes {
			last[ch.Ref.ID] = ch.Contact.FirstName
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 20 {
		t.Errorf("%d leads pulled, want 20", len(last))
	}
	if got := last[refsOf(ls[:1])[0].ID]; got != "Changed" {
		t.Errorf("lead %d ends the pull with first name %q, want the change made during the extract", ls[0].ID, got)
	}
}
