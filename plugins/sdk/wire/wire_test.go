package wire_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
	"github.com/segconn/connector/plugins/sdk/wire"
)

// stub answers every call with fixed data or a fixed error.
type stub struct {
	err      error
	changes  []adapter.Change
	pages    []adapter.Page
	gotCfg   adapter.Config
	gotPush  adapter.PushRequest
	gotHook  adapter.WebhookRequest
	blockCtx chan error
	started  chan struct{}
}

func (s *stub) Describe(context.Context) (adapter.Descriptor, error) {
	return adapter.Descriptor{Name: "stub", Version: "0.1", Capabilities: adapter.Capabilities{
		Objects: []string{"contact"}, Incremental: []string{"contact"}, Targets: []adapter.TargetKind{adapter.TargetList},
		Webhooks: true, MaxPushBatch: 7}, ConfigSchema: []adapter.ConfigField{{Name: "token", Type: adapter.FieldString, Required: true, Secret: true, Enum: []string{"a"}}}}, s.err
}
func (s *stub) ValidateConfig(_ context.Context, c adapter.Config) ([]adapter.Diagnostic, error) {
	s.gotCfg = c
	return []adapter.Diagnostic{{Severity: adapter.SeverityError, Path: "token", Summary: "is required", Detail: "d"}}, s.err
}
func (s *stub) Configure(_ context.Context, c adapter.Config) error { s.gotCfg = c; return s.err }
func (s *stub) Pull(ctx context.Context, _ adapter.PullRequest, sink adapter.PageSink) error {
	if s.blockCtx != nil {
		close(s.started)
		<-ctx.Done()
		s.blockCtx <- ctx.Err()
		return ctx.Err()
	}
	for _, p := range s.pages {
		if err := sink(ctx, p); err != nil {
			return err
		}
	}
	return s.err
}
func (s *stub) Fetch(context.Context, adapter.FetchRequest) ([]adapter.Change, error) {
	return s.changes, s.err
}
func (s *stub) EnsureTargets(_ context.Context, ts []adapter.Target) ([]adapter.EnsuredTarget, error) {
	out := make([]adapter.EnsuredTarget, len(ts))
	for i, t := range ts {
		out[i] = adapter.EnsuredTarget{Key: t.Key, PlatformID: "id-" + t.Name, Created: t.Multi}
	}
	return out, s.err
}
func (s *stub) Push(_ context.Context, r adapter.PushRequest) ([]adapter.PushResult, error) {
	s.gotPush = r
	return []adapter.PushResult{{ID: "a", Status: adapter.PushRetryable, Reason: "slow down", RetryAfter: 1500 * time.Millisecond}}, s.err
}
func (s *stub) VerifyWebhook(_ context.Context, r adapter.WebhookRequest) (adapter.WebhookResult, error) {
	s.gotHook = r
	rec := fullChange()
	return adapter.WebhookResult{Status: 202, ContentType: "text/xml", Body: []byte("<ack/>"), Events: []adapter.WebhookEvent{{
		ID: "e1", Kind: adapter.ChangeMerge, Ref: rec.Ref, MergedInto: rec.MergedInto, Privacy: true,
		OccurredAt: time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC), Record: &rec}}}, s.err
}
func (s *stub) Close(context.Context) error { return s.err }

func at(d int) time.Time { return time.Date(2024, 1, d, 10, 11, 12, 13, time.UTC) }

// fullChange sets every field of every type a Change can carry.
func fullChange() adapter.Change {
	ref := domain.ExternalRef{Platform: "p", Account: "acc", ObjectType: "contact", ID: "1", LastModified: at(1)}
	co := &domain.Company{Ref: domain.ExternalRef{Platform: "p", ObjectType: "company", ID: "9"}, Name: "Acme", Domain: "acme.test",
		Industry: "tools", Employees: 12, AnnualRevenue: domain.Money{Amount: 123456, Currency: "EUR"}, Country: "NL", UpdatedAt: at(2)}
	return adapter.Change{
		Kind: adapter.ChangeUpsert, Ref: ref, MergedInto: domain.ExternalRef{Platform: "p", ObjectType: "contact", ID: "2"}, Privacy: true,
		Company: co,
		Contact: &domain.Contact{Ref: ref, Emails: []string{"a@x.test", "b@x.test"}, Phones: []string{"+31"}, FirstName: "A", LastName: "B",
			Gender: "f", BirthDate: "1990-01-02", Address: domain.Address{Line1: "l1", Line2: "l2", City: "c", Region: "r", PostalCode: "pc", Country: "NL"},
			CompanyRef: co.Ref, Company: co, Attributes: map[string]string{"k": "v"},
			Consent:        domain.Consent{Email: domain.ConsentGranted, SMS: domain.ConsentDenied, Tracking: domain.ConsentRevoked, UpdatedAt: at(3)},
			LifecycleStage: "customer", MergedIDs: []string{"7", "8"}, CreatedAt: at(4), UpdatedAt: at(5)},
		Order: &domain.Order{Ref: domain.ExternalRef{Platform: "p", ObjectType: "order", ID: "o1"}, CustomerRef: ref, BillingEmail: "a@x.test",
			CreatedAt: at(6), UpdatedAt: at(7), Status: domain.StatusRefunded, RawStatus: "refunded", Currency: "JPY",
			Total: domain.Money{Amount: 1000, Currency: "JPY"}, Refunded: domain.Money{Amount: 1000, Currency: "JPY"},
			Items:   []domain.LineItem{{SKU: "s", Name: "n", Category: "c", Quantity: 3, UnitPrice: domain.Money{Amount: 333, Currency: "JPY"}}},
			Channel: "pos", Device: "mobile"},
	}
}

func TestEveryFieldCrossesTheBoundary(t *testing.T) {
	s := &stub{changes: []adapter.Change{fullChange(), {Kind: adapter.ChangeDelete, Ref: domain.ExternalRef{Platform: "p", ObjectType: "contact", ID: "gone"}}}}
	a := sdktest.OverGRPC(t, s)
	ctx := context.Background()

	d, err := a.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := s.Describe(ctx)
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Describe:\n got %+v\nwant %+v", d, want)
	}
	cfg := adapter.Config{"token": "x", "n": 3.5, "nested": map[string]any{"list": []any{"a", true}}}
	diags, err := a.ValidateConfig(ctx, cfg)
	if err != nil || len(diags) != 1 || diags[0].Detail != "d" || !reflect.DeepEqual(s.gotCfg, cfg) {
		t.Errorf("ValidateConfig: %v %+v, plugin saw %v", err, diags, s.gotCfg)
	}
	got, err := a.Fetch(ctx, adapter.FetchRequest{Object: "contact", IDs: []string{"1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s.changes) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(s.changes)
		t.Errorf("Fetch round trip differs:\n got %s\nwant %s", g, w)
	}
	preq := adapter.PushRequest{Targets: map[string]string{"list:a": "42"}, Items: []adapter.PushItem{{ID: "a", Ref: got[0].Ref,
		Properties: map[string]string{"segments": "x;y", "clear": ""}, Add: []string{"list:a"}, Remove: []string{"list:b"}}}}
	res, err := a.Push(ctx, preq)
	if err != nil || !reflect.DeepEqual(s.gotPush, preq) || len(res) != 1 || res[0].RetryAfter != 1500*time.Millisecond || res[0].Status != adapter.PushRetryable {
		t.Errorf("Push: %v, results %+v, plugin saw %+v", err, res, s.gotPush)
	}
	hook := adapter.WebhookRequest{Method: "POST", URL: "https://h/x?y=1", Headers: map[string][]string{"X-Sig": {"a", "b"}}, Body: []byte("{}"), ReceivedAt: at(9)}
	wr, err := a.VerifyWebhook(ctx, hook)
	wantWR, _ := s.VerifyWebhook(ctx, hook)
	if err != nil || !reflect.DeepEqual(wr, wantWR) || !reflect.DeepEqual(s.gotHook, hook) {
		t.Errorf("VerifyWebhook: %v\n got %+v\nwant %+v\nplugin saw %+v", err, wr, wantWR, s.gotHook)
	}
	es, err := a.EnsureTargets(ctx, []adapter.Target{{Key: "k", Kind: adapter.TargetProperty, Name: "n", Options: []string{"a"}, Multi: true}})
	if err != nil || len(es) != 1 || es[0] != (adapter.EnsuredTarget{Key: "k", PlatformID: "id-n", Created: true}) {
		t.Errorf("EnsureTargets: %v %+v", err, es)
	}
}

func TestLargePagesAreChunkedAndReassembled(t *testing.T) {
	big := make([]adapter.Change, 1000)
	for i := range big {
		c := fullChange()
		c.Ref.ID = fmt.Sprint(i)
		big[i] = c
	}
	s := &stub{pages: []adapter.Page{
		{Changes: big, Cursor: "c1", Quarantined: []adapter.Rejected{{Reason: "bad total", Raw: []byte("x")}}},
		{Cursor: "c2"}, // an empty page still moves the cursor
	}}
	var got []adapter.Page
	err := sdktest.OverGRPC(t, s).Pull(context.Background(), adapter.PullRequest{Object: "contact"}, func(_ context.Context, p adapter.Page) error {
		got = append(got, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0].Changes) != 1000 || got[0].Cursor != "c1" || len(got[0].Quarantined) != 1 || got[1].Cursor != "c2" || len(got[1].Changes) != 0 {
		t.Fatalf("pages: %d, first %d changes cursor %q", len(got), len(got[0].Changes), got[0].Cursor)
	}
	if !reflect.DeepEqual(got[0].Changes, big) {
		t.Fatal("chunked page differs from the page sent")
	}
}

func TestTypedErrorsCrossTheBoundary(t *testing.T) {
	base := errors.New("boom")
	cases := []struct {
		err      error
		kind     adapter.Kind
		sentinel error
		retry    time.Duration
	}{
		{adapter.Retryable(base), adapter.KindRetryable, adapter.ErrRetryable, 0},
		{adapter.Permanent(fmt.Errorf("object x: %w", adapter.ErrUnsupported)), adapter.KindPermanent, adapter.ErrUnsupported, 0},
		{adapter.Auth(fmt.Errorf("hmac: %w", adapter.ErrBadSignature)), adapter.KindAuth, adapter.ErrBadSignature, 0},
		{fmt.Errorf("listing: %w", adapter.RateLimited(7*time.Second, base)), adapter.KindRateLimited, adapter.ErrRateLimited, 7 * time.Second},
		{base, adapter.KindUnknown, nil, 0},
	}
	for _, c := range cases {
		a := sdktest.OverGRPC(t, &stub{err: c.err})
		_, err := a.Fetch(context.Background(), adapter.FetchRequest{Object: "contact"})
		if err == nil {
			t.Fatalf("%v: no error", c.err)
		}
		if k := adapter.KindOf(err); k != c.kind {
			t.Errorf("%v: kind %v, want %v", c.err, k, c.kind)
		}
		if c.sentinel != nil && !errors.Is(err, c.sentinel) {
			t.Errorf("%v: errors.Is(%v) = false for %v", c.err, c.sentinel, err)
		}
		if d := adapter.RetryAfterOf(err); d != c.retry {
			t.Errorf("%v: RetryAfter %v, want %v", c.err, d, c.retry)
		}
		if !strings.Contains(err.Error(), c.err.Error()) {
			t.Errorf("message %q lost %q", err, c.err)
		}
		if errors.Is(err, wire.ErrTransport) {
			t.Errorf("%v: an adapter error reads as a transport error", c.err)
		}
	}
}

func TestCancellationCrossesTheBoundary(t *testing.T) {
	s := &stub{blockCtx: make(chan error, 1), started: make(chan struct{})}
	a := sdktest.OverGRPC(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- a.Pull(ctx, adapter.PullRequest{Object: "contact"}, func(context.Context, adapter.Page) error { return nil })
	}()
	<-s.started // the plugin is inside Pull
	cancel()
	if err := <-s.blockCtx; !errors.Is(err, context.Canceled) {
		t.Fatalf("plugin side saw %v, want context.Canceled", err)
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("host side got %v, want context.Canceled", err)
	}
}

func TestSinkErrorStopsThePluginAndIsReturned(t *testing.T) {
	pages := make([]adapter.Page, 50)
	for i := range pages {
		pages[i] = adapter.Page{Cursor: fmt.Sprint(i)}
	}
	stop := errors.New("store is full")
	n := 0
	err := sdktest.OverGRPC(t, &stub{pages: pages}).Pull(context.Background(), adapter.PullRequest{Object: "contact"}, func(context.Context, adapter.Page) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Fatalf("Pull = %v after %d pages, want the sink's error after 3", err, n)
	}
}

func TestHandshakeIsStable(t *testing.T) {
	h := wire.Handshake()
	if h.MagicCookieKey != "SEGCONN_CONNECTOR_PLUGIN" || h.MagicCookieValue != "5f0c8a3e-segment-connector-adapter" || h.ProtocolVersion != 1 {
		t.Fatalf("the handshake changed: %+v; it must never change", h)
	}
	if vs := wire.VersionedPlugins(nil, 1, 2); len(vs) != 1 || vs[1] == nil {
		t.Fatalf("VersionedPlugins(1, 2) = %v, want only version 1", vs)
	}
}
