package sdktest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
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

// ensure creates the kit's targets and returns key → platform id.
func (e env) ensure(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	var want []adapter.Target
	for _, k := range e.desc.Capabilities.Targets {
		switch k {
		case adapter.TargetProperty:
			want = append(want, kitProperty)
		case adapter.TargetList:
			want = append(want, kitList)
		}
	}
	got, err := e.a.EnsureTargets(ctx, want)
	if err != nil {
		t.Fatalf("EnsureTargets: %v", err)
	}
	out := map[string]string{}
	for _, g := range got {
		if g.PlatformID == "" {
			t.Errorf("EnsureTargets: %q has no platform id", g.Key)
		}
		out[g.Key] = g.PlatformID
	}
	for _, w := range want {
		if _, ok := out[w.Key]; !ok {
			t.Fatalf("EnsureTargets did not report target %q", w.Key)
		}
	}
	return out
}

// items builds push items putting refs into the kit's segment.
func (e env) items(refs []domain.ExternalRef, prefix string) []adapter.PushItem {
	out := make([]adapter.PushItem, len(refs))
	for i, r := range refs {
		it := adapter.PushItem{ID: fmt.Sprintf("%s-%d", prefix, i), Ref: r}
		for _, k := range e.desc.Capabilities.Targets {
			switch k {
			case adapter.TargetProperty:
				it.Properties = map[string]string{kitProperty.Key: "alpha"}
			case adapter.TargetList:
				it.Add = []string{kitList.Key}
			}
		}
		out[i] = it
	}
	return out
}

func checkResults(t *testing.T, items []adapter.PushItem, res []adapter.PushResult) map[string]adapter.PushResult {
	t.Helper()
	byID := map[string]adapter.PushResult{}
	for _, r := range res {
		if _, dup := byID[r.ID]; dup {
			t.Errorf("push result for %q reported twice", r.ID)
		}
		byID[r.ID] = r
	}
	for _, it := range items {
		if _, ok := byID[it.ID]; !ok {
			t.Errorf("no push result for item %q", it.ID)
		}
	}
	if len(res) != len(items) {
		t.Errorf("push returned %d results for %d items", len(res), len(items))
	}
	return byID
}

func (e env) needTargets(t *testing.T) {
	if len(e.desc.Capabilities.Targets) == 0 {
		t.Skip("the adapter offers no write-back targets")
	}
}

func (s suite) partialPush(t *testing.T) {
	e := s.setup(t)
	e.needTargets(t)
	if e.f.RejectPush == nil {
		t.Skip("the fake has no push-rejection hook")
	}
	refs := e.seedPushable(t, 3)
	ctx := ctxFor(t)
	targets := e.ensure(t, ctx)
	e.f.RejectPush(refs[1])
	items := e.items(refs, "partial")
	res, err := e.a.Push(ctx, adapter.PushRequest{Items: items, Targets: targets})
	if err != nil {
		t.Fatalf("push with one rejected record failed as a whole: %v", err)
	}
	byID := checkResults(t, items, res)
	for i, it := range items {
		r := byID[it.ID]
		if i == 1 {
			if r.Status == adapter.PushOK || r.Reason == "" {
				t.Errorf("rejected record %s: result %+v, want a failure with a reason", refs[1].ID, r)
			}
			continue
		}
		if r.Status != adapter.PushOK {
			t.Errorf("record %s: result %+v, want ok", refs[i].ID, r)
		}
	}
	if e.f.Membership != nil {
		e.checkMember(t, refs[0], targets)
	}
}

func (e env) checkMember(t *testing.T, ref domain.ExternalRef, targets map[string]string) (map[string]string, []string) {
	t.Helper()
	props, lists, err := e.f.Membership(ref)
	if err != nil {
		t.Fatalf("reading back membership of %s: %v", ref.ID, err)
	}
	if id, ok := targets[kitProperty.Key]; ok && !strings.Contains(props[id], "alpha") {
		t.Errorf("after push, %s property %s = %q, want alpha", ref.ID, id, props[id])
	}
	if id, ok := targets[kitList.Key]; ok && !slices.Contains(lists, id) {
		t.Errorf("after push, %s lists %v lack %s", ref.ID, lists, id)
	}
	return props, lists
}

func (s suite) idempotentPush(t *testing.T) {
	e := s.setup(t)
	e.needTargets(t)
	refs := e.seedPushable(t, 2)
	ctx := ctxFor(t)
	first := e.ensure(t, ctx)
	again, err := e.a.EnsureTargets(ctx, nil)
	if err != nil {
		t.Fatalf("EnsureTargets(none): %v", err)
	}
	if len(again) != 0 {
		t.Errorf("EnsureTargets(none) reported %d targets", len(again))
	}
	second := e.ensure(t, ctx)
	for k, id := range first {
		if second[k] != id {
			t.Errorf("EnsureTargets twice: %q is %q then %q", k, id, second[k])
		}
	}
	items := e.items(refs, "idem")
	var before [][]string
	for round := 1; round <= 2; round++ {
		res, err := e.a.Push(ctx, adapter.PushRequest{Items: items, Targets: second})
		if err != nil {
			t.Fatalf("push round %d: %v", round, err)
		}
		for _, r := range checkResults(t, items, res) {
			if r.Status != adapter.PushOK {
				t.Errorf("push round %d: %+v, want ok", round, r)
			}
		}
		if e.f.Membership == nil {
			continue
		}
		var state []string
		for _, r := range refs {
			props, lists := e.checkMember(t, r, second)
			state = append(state, fmt.Sprint(props, lists))
		}
		if round == 1 {
			before = [][]string{state}
		} else if !slices.Equal(before[0], state) {
			t.Errorf("the same push twice changed platform state:\n first  %v\n second %v", before[0], state)
		}
	}
}

func (s suite) webhookNegatives(t *testing.T) {
	e := s.setup(t)
	if !e.desc.Capabilities.Webhooks {
		t.Skip("the adapter has no webhooks")
	}
	if e.f.Webhook == nil {
		t.Skip("the fake has no webhook hook")
	}
	refs := e.seed(t, 1)
	ctx := ctxFor(t)
	good := e.f.Webhook(refs[0])
	res, err := e.a.VerifyWebhook(ctx, good)
	if err != nil {
		t.Fatalf("VerifyWebhook of a correctly signed webhook: %v", err)
	}
	if len(res.Events) == 0 {
		t.Errorf("VerifyWebhook of a correctly signed webhook returned no events")
	}

	wantBad := func(name string, req adapter.WebhookRequest, needSentinel bool) {
		t.Helper()
		_, err := e.a.VerifyWebhook(ctx, req)
		if err == nil {
			t.Errorf("%s: verified", name)
			return
		}
		if k := adapter.KindOf(err); k != adapter.KindAuth {
			t.Errorf("%s: kind %v (%v), want auth", name, k, err)
		}
		if needSentinel && !errors.Is(err, adapter.ErrBadSignature) {
			t.Errorf("%s: %v does not wrap ErrBadSignature", name, err)
		}
	}
	if !e.f.UnsignedBody {
		tampered := good
		tampered.Body = append(append([]byte{}, good.Body...), ' ')
		if len(good.Body) > 0 {
			b := append([]byte{}, good.Body...)
			b[len(b)/2] ^= 0x01
			tampered.Body = b
		}
		wantBad("tampered body", tampered, true)
	}
	if e.f.ForgedWebhook != nil {
		wantBad("forged webhook", e.f.ForgedWebhook(refs[0]), false)
	}

	unsigned := good
	unsigned.Headers = map[string][]string{}
	for k, v := range good.Headers {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "signature") || strings.Contains(lk, "hmac") || strings.Contains(lk, "authorization") {
			continue
		}
		unsigned.Headers[k] = v
	}
	if len(unsigned.Headers) < len(good.Headers) {
		wantBad("missing signature", unsigned, false)
	}
}
