package pipeline_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// recorder is a platform adapter that keeps every push it is sent and
// answers as answer says (every item ok when nil).
type recorder struct {
	mu     sync.Mutex
	pushes []adapter.PushRequest
	answer func(adapter.PushRequest) ([]adapter.PushResult, error)
}

func (r *recorder) Describe(context.Context) (adapter.Descriptor, error) {
	return adapter.Descriptor{Name: "rec"}, nil
}

func (r *recorder) ValidateConfig(context.Context, adapter.Config) ([]adapter.Diagnostic, error) {
	return nil, nil
}

func (r *recorder) Configure(context.Context, adapter.Config) error { return nil }

func (r *recorder) Pull(context.Context, adapter.PullRequest, adapter.PageSink) error { return nil }

func (r *recorder) Fetch(context.Context, adapter.FetchRequest) ([]adapter.Change, error) {
	return nil, nil
}

func (r *recorder) EnsureTargets(_ context.Context, ts []adapter.Target) ([]adapter.EnsuredTarget, error) {
	out := make([]adapter.EnsuredTarget, 0, len(ts))
	for _, t := range ts {
		out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: "id-" + t.Key})
	}
	return out, nil
}

func (r *recorder) Push(_ context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	r.mu.Lock()
	r.pushes = append(r.pushes, req)
	answer := r.answer
	r.mu.Unlock()
	if answer != nil {
		return answer(req)
	}
	out := make([]adapter.PushResult, 0, len(req.Items))
	for _, it := range req.Items {
		out = append(out, adapter.PushResult{ID: it.ID, Status: adapter.PushOK})
	}
	return out, nil
}

func (r *recorder) VerifyWebhook(context.Context, adapter.WebhookRequest) (adapter.WebhookResult, error) {
	return adapter.WebhookResult{}, errors.New("the recorder takes no webhooks")
}

func (r *recorder) Close(context.Context) error { return nil }

func (r *recorder) sent() []adapter.PushRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]adapter.PushRequest(nil), r.pushes...)
}

// roundFixture is a pipeline over a real SQLite store with one recorded
// platform, on a clock the test moves.
type roundFixture struct {
	t      *testing.T
	st     store.Store
	p      *pipeline.Pipeline
	rec    *recorder
	offset atomic.Int64
}

const platform = "rec"

var rfm = adapter.Target{Key: "prop:rfm", Kind: adapter.TargetProperty, Name: "rfm"}

func newRoundFixture(t *testing.T) *roundFixture {
	t.Helper()
	f := &roundFixture{t: t, rec: &recorder{}}
	now := func() time.Time { return time.Now().Add(time.Duration(f.offset.Load())) }
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	f.p = pipeline.New(pipeline.Options{Store: st, Now: now, Platforms: []*pipeline.Platform{{
		Name: platform, Adapter: f.rec,
		Desc: adapter.Descriptor{Name: platform, Capabilities: adapter.Capabilities{MaxPushBatch: 10}},
	}}})
	return f
}

func item(id, value string) adapter.PushItem {
	ref := domain.ExternalRef{Platform: platform, ObjectType: domain.ObjectContact, ID: id}
	return adapter.PushItem{ID: ref.Key(), Ref: ref, Properties: map[string]string{rfm.Key: value}}
}

// queue records write-back of the items, as applying a plan does.
func (f *roundFixture) queue(items ...adapter.PushItem) {
	f.t.Helper()
	plan := &pipeline.Plan{Platforms: []pipeline.PlatformPlan{{Platform: platform, Targets: []adapter.Target{rfm}, Items: items}}}
	if err := f.p.Apply(context.Background(), plan); err != nil {
		f.t.Fatal(err)
	}
}

func (f *roundFixture) stats() map[store.OutboxStatus]int {
	f.t.Helper()
	s, err := f.st.OutboxStats(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// TestRoundSettlesALapsedItemOfTheSameRecord: an item whose pusher died
// holding its lease, and a newer item of the same record. Once the lease
// lapses the claim sets the older aside as superseded; the round pushes
// the record once, with the newer state, and that whole write closes the
// superseded item too.
func TestRoundSettlesALapsedItemOfTheSameRecord(t *testing.T) {
	ctx := context.Background()
	f := newRoundFixture(t)
	f.queue(item("1", "Older"))
	if claimed, err := f.st.OutboxClaim(ctx, platform, "", 10, time.Minute); err != nil || len(claimed) != 1 {
		t.Fatalf("claiming the older item: %d claimed, %v", len(claimed), err)
	}
	f.queue(item("1", "Newer"))
	f.offset.Store(int64(5 * time.Minute)) // the lease lapses
	st, err := f.p.Drain(ctx, platform)
	if err != nil {
		t.Fatal(err)
	}
	sent := f.rec.sent()
	if len(sent) != 1 || len(sent[0].Items) != 1 || sent[0].Items[0].Properties[rfm.Key] != "Newer" {
		t.Fatalf("pushed %+v; want one call with the record once, holding the newer state", sent)
	}
	if st.Claimed != 1 || st.OK != 1 || st.Calls != 1 {
		t.Errorf("drain stats %+v; want the newer item claimed and written in 1 call", st)
	}
	if s := f.stats(); s[store.OutboxPending]+s[store.OutboxLeased]+s[store.OutboxFailed]+s[store.OutboxSuperseded] != 0 || s[store.OutboxDone] != 2 {
		t.Errorf("outbox after the round: %v; both items should be closed", s)
	}
}

// TestRoundRecordsEachItemsAnswer: per-item answers are kept apart. The
// item written is done and its value owned, the refused one is parked,
// and the one the adapter did not answer for is retried.
func TestRoundRecordsEachItemsAnswer(t *testing.T) {
	ctx := context.Background()
	f := newRoundFixture(t)
	ok, refused, silent := item("1", "A"), item("2", "B"), item("3", "C")
	f.rec.answer = func(adapter.PushRequest) ([]adapter.PushResult, error) {
		return []adapter.PushResult{
			{ID: ok.ID, Status: adapter.PushOK},
			{ID: refused.ID, Status: adapter.PushPermanent, Reason: "no such contact"},
		}, nil
	}
	f.queue(ok, refused, silent)
	st, err := f.p.Drain(ctx, platform)
	if err != nil {
		t.Fatal(err)
	}
	if st.OK != 1 || st.Permanent != 1 || st.Retryable != 1 {
		t.Errorf("drain stats %+v; want 1 ok, 1 permanent, 1 retryable", st)
	}
	if s := f.stats(); s[store.OutboxFailed] != 1 || s[store.OutboxPending] != 1 || s[store.OutboxDone] != 1 {
		t.Errorf("outbox %v; want 1 done, 1 failed, 1 pending", s)
	}
	owned, err := f.st.OwnershipMany(ctx, []domain.ExternalRef{ok.Ref, refused.Ref})
	if err != nil {
		t.Fatal(err)
	}
	if o := owned[ok.Ref.Key()]; len(o) != 1 || o[0].Target != rfm.Key || o[0].Value != "A" || o[0].Released {
		t.Errorf("ownership of the written record: %+v; want rfm = A", o)
	}
	if o := owned[refused.Ref.Key()]; len(o) != 0 {
		t.Errorf("ownership of the refused record: %+v; want none", o)
	}
}

// TestRoundFailedCallReschedulesEveryItem: when the whole call fails,
// every item of the round waits for its retry time (nothing is lost, and
// nothing is sent again before then), and then goes out.
func TestRoundFailedCallReschedulesEveryItem(t *testing.T) {
	ctx := context.Background()
	f := newRoundFixture(t)
	f.rec.answer = func(adapter.PushRequest) ([]adapter.PushResult, error) {
		return nil, adapter.Retryable(errors.New("HTTP 503"))
	}
	f.queue(item("1", "A"), item("2", "B"))
	st, err := f.p.Drain(ctx, platform)
	if err == nil || st.Retryable != 2 {
		t.Fatalf("drain: %+v, %v; want the call's error and 2 retryable", st, err)
	}
	if s := f.stats(); s[store.OutboxPending] != 2 {
		t.Fatalf("outbox %v; want both items pending", s)
	}
	if st, err := f.p.Drain(ctx, platform); err != nil || st.Claimed != 0 {
		t.Fatalf("drain right after the failure: %+v, %v; want nothing due yet", st, err)
	}
	f.rec.answer = nil
	f.offset.Store(int64(time.Hour))
	st, err = f.p.Drain(ctx, platform)
	if err != nil || st.OK != 2 {
		t.Fatalf("drain after the retry time: %+v, %v; want both written", st, err)
	}
	if n := len(f.rec.sent()); n != 2 {
		t.Errorf("%d calls; want the failed one and the retry", n)
	}
}
