package sdktest

import (
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// callTimeout bounds every call the kit makes, so a broken adapter fails
// the test instead of hanging it.
const callTimeout = 60 * time.Second

// errStop is what the kit's sinks return to stop a pull early.
var errStop = errors.New("conformance kit stops the pull here")

// Kit targets: one multi-valued property and one list, used when the
// adapter offers that kind.
var (
	kitProperty = adapter.Target{Key: "segments", Kind: adapter.TargetProperty, Name: "conformance_segments", Options: []string{"alpha", "beta"}, Multi: true}
	kitList     = adapter.Target{Key: "list:alpha", Kind: adapter.TargetList, Name: "conformance alpha"}
)

// RunConformance runs the conformance suite against h. Every subtest
// starts its own fake and adapter.
func RunConformance(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil || h.Start == nil {
		t.Fatal("sdktest: Harness needs New and Start")
	}
	s := suite{h: h}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"Describe", s.describe},
		{"PagingAndResume", s.pagingAndResume},
		{"IncrementalResume", s.incrementalResume},
		{"EmptySource", s.emptySource},
		{"LargePages", s.largePages},
		{"Cancellation", s.cancellation},
		{"UnsupportedObject", s.unsupportedObject},
		{"Fetch", s.fetch},
		{"RateLimit", s.rateLimit},
		{"PartialPush", s.partialPush},
		{"IdempotentPush", s.idempotentPush},
		{"WebhookNegatives", s.webhookNegatives},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct{ h Harness }

type env struct {
	a    adapter.Adapter
	f    *Fake
	desc adapter.Descriptor
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// setup starts a fake and a configured adapter.
func (s suite) setup(t *testing.T) env {
	t.Helper()
	f := s.h.Start(t)
	a := s.h.New(t)
	ctx := ctxFor(t)
	desc, err := a.Describe(ctx)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if err := a.Configure(ctx, f.Config); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return env{a: a, f: f, desc: desc}
}

func (e env) seed(t *testing.T, n int) []domain.ExternalRef {
	t.Helper()
	return seedWith(t, e.f.Seed, n)
}

// seedPushable seeds records write-back can target.
func (e env) seedPushable(t *testing.T, n int) []domain.ExternalRef {
	t.Helper()
	if e.f.SeedPushable != nil {
		return seedWith(t, e.f.SeedPushable, n)
	}
	return seedWith(t, e.f.Seed, n)
}

func seedWith(t *testing.T, seed func(int) ([]domain.ExternalRef, error), n int) []domain.ExternalRef {
	t.Helper()
	if seed == nil {
		t.Fatal("sdktest: Fake.Seed is required")
	}
	refs, err := seed(n)
	if err != nil {
		t.Fatalf("seeding %d records: %v", n, err)
	}
	if len(refs) != n {
		t.Fatalf("Seed(%d) returned %d refs", n, len(refs))
	}
	return refs
}

// pull runs one pull, collecting pages, stopping after stopAfter pages
// when stopAfter > 0.
func pull(ctx context.Context, a adapter.Adapter, req adapter.PullRequest, stopAfter int) ([]adapter.Page, error) {
	var pages []adapter.Page
	err := a.Pull(ctx, req, func(_ context.Context, p adapter.Page) error {
		pages = append(pages, p)
		if stopAfter > 0 && len(pages) >= stopAfter {
			return errStop
		}
		return nil
	})
	return pages, err
}

// upserted returns the keys of the records upserted in pages.
func upserted(pages []adapter.Page) map[string]bool {
	out := map[string]bool{}
	for _, p := range pages {
		for _, c := range p.Changes {
			if c.Kind == adapter.ChangeUpsert {
				out[c.Ref.Key()] = true
			}
		}
	}
	return out
}

func countChanges(pages []adapter.Page) int {
	n := 0
	for _, p := range pages {
		n += len(p.Changes)
	}
	return n
}

func lastCursor(pages []adapter.Page) string {
	if len(pages) == 0 {
		return ""
	}
	return pages[len(pages)-1].Cursor
}

func missingKeys(want []domain.ExternalRef, got map[string]bool) []string {
	var out []string
	for _, r := range want {
		if !got[r.Key()] {
			out = append(out, r.Key())
		}
	}
	return out
}

func sameSet(a, b map[string]bool) (onlyA, onlyB []string) {
	for k := range a {
		if !b[k] {
			onlyA = append(onlyA, k)
		}
	}
	for k := range b {
		if !a[k] {
			onlyB = append(onlyB, k)
		}
	}
	sort.Strings(onlyA)
	sort.Strings(onlyB)
	return onlyA, onlyB
}

func (s suite) describe(t *testing.T) {
	f := s.h.Start(t)
	a := s.h.New(t)
	ctx := ctxFor(t)
	d, err := a.Describe(ctx)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if d.Name == "" || d.Version == "" {
		t.Errorf("Describe: name %q and version %q must both be set", d.Name, d.Version)
	}
	if !slices.Contains(d.Capabilities.Objects, f.object()) {
		t.Errorf("Capabilities.Objects %v lacks %q", d.Capabilities.Objects, f.object())
	}
	if len(d.Capabilities.Targets) > 0 && d.Capabilities.MaxPushBatch <= 0 {
		t.Errorf("Capabilities.MaxPushBatch = %d with write-back targets %v", d.Capabilities.MaxPushBatch, d.Capabilities.Targets)
	}
	diags, err := a.ValidateConfig(ctx, f.Config)
	if err != nil {
		t.Fatalf("ValidateConfig(fake config): %v", err)
	}
	for _, dg := range diags {
		if dg.Severity == adapter.SeverityError {
			t.Errorf("ValidateConfig(fake config) reports %s", dg)
		}
	}
	required := 0
	for _, fld := range d.ConfigSchema {
		if fld.Required {
			required++
		}
	}
	if required > 0 {
		diags, err := a.ValidateConfig(ctx, adapter.Config{})
		if err != nil {
			t.Fatalf("ValidateConfig(empty): %v", err)
		}
		errs := 0
		for _, dg := range diags {
			if dg.Severity == adapter.SeverityError {
				errs++
				if dg.Path == "" || dg.Summary == "" {
					t.Errorf("ValidateConfig(empty): diagnostic without path or summary: %+v", dg)
				}
			}
		}
		if errs == 0 {
			t.Errorf("ValidateConfig(empty) found no errors although %d fields are required", required)
		}
	}
}

func (s suite) pagingAndResume(t *testing.T) {
	e := s.setup(t)
	ps := e.f.pageSize()
	refs := e.seed(t, 2*ps+ps/2)
	ctx := ctxFor(t)
	req := adapter.PullRequest{Object: e.f.object(), PageSize: ps}

	full, err := pull(ctx, e.a, req, 0)
	if err != nil {
		t.Fatalf("full pull: %v", err)
	}
	all := upserted(full)
	if miss := missingKeys(refs, all); len(miss) > 0 {
		t.Fatalf("full pull misses %d seeded records, e.g. %s", len(miss), miss[0])
	}
	if len(full) < 2 {
		t.Fatalf("full pull of %d records with page size %d came in %d page(s); want paging", len(refs), ps, len(full))
	}
	for i, p := range full {
		if p.Cursor == "" {
			t.Errorf("page %d has no cursor", i)
		}
		if len(p.Changes) > ps {
			t.Errorf("page %d has %d changes, more than the %d asked for", i, len(p.Changes), ps)
		}
	}

	first, err := pull(ctx, e.a, req, 1)
	if !errors.Is(err, errStop) {
		t.Fatalf("pull stopped by its sink returned %v, want the sink's error", err)
	}
	if len(first) != 1 {
		t.Fatalf("sink saw %d pages after stopping at the first", len(first))
	}
	resumed, err := pull(ctx, e.a, adapter.PullRequest{Object: req.Object, PageSize: ps, Cursor: first[0].Cursor}, 0)
	if err != nil {
		t.Fatalf("resumed pull: %v", err)
	}
	union := upserted(append(first, resumed...))
	if onlyFull, onlyResumed := sameSet(all, union); len(onlyFull) > 0 || len(onlyResumed) > 0 {
		t.Fatalf("first page + resumed pull differ from the full pull: missing %v, extra %v", onlyFull, onlyResumed)
	}
}

func (s suite) incrementalResume(t *testing.T) {
	e := s.setup(t)
	if !slices.Contains(e.desc.Capabilities.Incremental, e.f.object()) {
		t.Skipf("%s is not incremental for this adapter", e.f.object())
	}
	ps := e.f.pageSize()
	e.seed(t, ps+1)
	ctx := ctxFor(t)
	full, err := pull(ctx, e.a, adapter.PullRequest{Object: e.f.object(), PageSize: ps}, 0)
	if err != nil {
		t.Fatalf("full pull: %v", err)
	}
	more := e.seed(t, 3)
	next, err := pull(ctx, e.a, adapter.PullRequest{Object: e.f.object(), PageSize: ps, Cursor: lastCursor(full)}, 0)
	if err != nil {
		t.Fatalf("incremental pull: %v", err)
	}
	if miss := missingKeys(more, upserted(next)); len(miss) > 0 {
		t.Fatalf("incremental pull from the last cursor misses new records %v", miss)
	}
	if n, total := countChanges(next), countChanges(full); n >= total+3 {
		// Re-delivery is allowed (the host is idempotent), but worth knowing.
		t.Logf("note: the incremental pull returned %d changes, as many as a full sweep (%d+3)", n, total)
	}
}

func (s suite) emptySource(t *testing.T) {
	e := s.setup(t)
	pages, err := pull(ctxFor(t), e.a, adapter.PullRequest{Object: e.f.object(), PageSize: e.f.pageSize()}, 0)
	if err != nil {
		t.Fatalf("pull of an empty source: %v", err)
	}
	if n := countChanges(pages); n != 0 {
		t.Fatalf("pull of an empty source returned %d changes", n)
	}
}

func (s suite) largePages(t *testing.T) {
	if testing.Short() {
		t.Skip("large pages: skipped in -short mode")
	}
	e := s.setup(t)
	refs := e.seed(t, e.f.largeCount())
	pages, err := pull(ctxFor(t), e.a, adapter.PullRequest{Object: e.f.object(), PageSize: 1 << 20}, 0)
	if err != nil {
		t.Fatalf("pull with a huge page size: %v", err)
	}
	if miss := missingKeys(refs, upserted(pages)); len(miss) > 0 {
		t.Fatalf("pull with a huge page size misses %d records, e.g. %s", len(miss), miss[0])
	}
	for i, p := range pages {
		if e.f.MaxPageSize > 0 && len(p.Changes) > e.f.MaxPageSize {
			t.Errorf("page %d has %d changes; the platform serves at most %d", i, len(p.Changes), e.f.MaxPageSize)
		}
	}
}

func (s suite) cancellation(t *testing.T) {
	e := s.setup(t)
	ps := e.f.pageSize()
	e.seed(t, 3*ps)

	ctx, cancel := context.WithCancel(ctxFor(t))
	pages := 0
	err := e.a.Pull(ctx, adapter.PullRequest{Object: e.f.object(), PageSize: ps}, func(context.Context, adapter.Page) error {
		pages++
		if pages == 1 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("pull cancelled after its first page returned %v (after %d pages), want context.Canceled", err, pages)
	}

	pre, cancelPre := context.WithCancel(ctxFor(t))
	cancelPre()
	got, err := pull(pre, e.a, adapter.PullRequest{Object: e.f.object(), PageSize: ps}, 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("pull with a cancelled context returned %v, want context.Canceled", err)
	}
	if len(got) != 0 {
		t.Fatalf("pull with a cancelled context delivered %d pages", len(got))
	}
}

func (s suite) unsupportedObject(t *testing.T) {
	e := s.setup(t)
	_, err := pull(ctxFor(t), e.a, adapter.PullRequest{Object: "conformance-no-such-object"}, 0)
	if err == nil {
		t.Fatal("pull of an unknown object type succeeded")
	}
	if k := adapter.KindOf(err); k != adapter.KindPermanent {
		t.Fatalf("pull of an unknown object type: kind %v (%v), want permanent", k, err)
	}
}

func (s suite) fetch(t *testing.T) {
	e := s.setup(t)
	refs := e.seed(t, 3)
	ids := []string{refs[0].ID, refs[2].ID}
	if e.f.MissingID != "" {
		ids = append(ids, e.f.MissingID)
	}
	changes, err := e.a.Fetch(ctxFor(t), adapter.FetchRequest{Object: e.f.object(), IDs: ids})
	if errors.Is(err, adapter.ErrUnsupported) {
		t.Skip("the adapter does not fetch records by id")
	}
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	byID := map[string]adapter.Change{}
	for _, c := range changes {
		byID[c.Ref.ID] = c
	}
	for _, r := range []domain.ExternalRef{refs[0], refs[2]} {
		c, ok := byID[r.ID]
		if !ok || c.Kind != adapter.ChangeUpsert {
			t.Errorf("Fetch(%s) = %+v, want an upsert", r.ID, c)
		}
	}
	if e.f.MissingID != "" {
		if c, ok := byID[e.f.MissingID]; !ok || c.Kind != adapter.ChangeDelete {
			t.Errorf("Fetch of missing id %s = %+v (present %v), want a delete", e.f.MissingID, c, ok)
		}
	}
}

func (s suite) rateLimit(t *testing.T) {
	e := s.setup(t)
	if e.f.RateLimit == nil {
		t.Skip("the fake has no rate-limit hook")
	}
	refs := e.seed(t, 3)
	ctx := ctxFor(t)
	req := adapter.PullRequest{Object: e.f.object(), PageSize: e.f.pageSize()}
	e.f.RateLimit(1)
	pages, err := pull(ctx, e.a, req, 0)
	if err != nil {
		if k := adapter.KindOf(err); k != adapter.KindRateLimited {
			t.Fatalf("pull over the rate limit: kind %v (%v), want rate_limited or a transparent retry", k, err)
		}
		if pages, err = pull(ctx, e.a, req, 0); err != nil {
			t.Fatalf("pull after the rate limit lifted: %v", err)
		}
	}
	if miss := missingKeys(refs, upserted(pages)); len(miss) > 0 {
		t.Fatalf("pull around a rate limit misses %v", miss)
	}
	if len(e.desc.Capabilities.Targets) == 0 {
		return
	}
	targets := e.ensure(t, ctx)
	pushRefs := e.seedPushable(t, 1)
	e.f.RateLimit(1)
	res, err := e.a.Push(ctx, adapter.PushRequest{Items: e.items(pushRefs, "rl"), Targets: targets})
	switch {
	case err != nil:
		if k := adapter.KindOf(err); k != adapter.KindRateLimited {
			t.Fatalf("push over the rate limit: kind %v (%v), want rate_limited", k, err)
		}
	case len(res) != 1:
		t.Fatalf("push over the rate limit returned %d results for 1 item", len(res))
	case res[0].Status == adapter.PushPermanent:
		t.Fatalf("push over the rate limit gave a permanent failure: %+v", res[0])
	}
}
