package woocommerce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/connectors/woocommerce/woocommercefake/spec"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// specValidator checks every request the connector sends, and the first
// successful answers of the fake per operation, against the shared
// WooCommerce v3 OpenAPI file (see package spec for the gaps it corrects).
// A request the spec does not describe is a failure too: the connector
// must only call documented routes. Every test that starts the connector
// with start() goes through one.
type specValidator struct {
	spec *spec.Validator
	base http.RoundTripper

	mu         sync.Mutex
	violations []string
	validated  map[string]int
}

// answersChecked is how many successful answers per operation a
// validator checks against the spec's response schemas.
const answersChecked = 20

// specOnce loads the spec once per test binary (it is read-only once
// loaded; the file is large).
var specOnce struct {
	sync.Once
	v   *spec.Validator
	err error
}

func loadSpec(t testing.TB) *spec.Validator {
	t.Helper()
	path := testenv.SharedFile(t, "specs/woocommerce-v3/woocommerce-openapi-3.0.x.yml")
	specOnce.Do(func() { specOnce.v, specOnce.err = spec.Load(path) })
	if specOnce.err != nil {
		t.Fatal(specOnce.err)
	}
	return specOnce.v
}

// newSpecValidator wraps base (nil: a fresh default transport) and reports
// violations when t ends.
func newSpecValidator(t testing.TB, base http.RoundTripper) *specValidator {
	t.Helper()
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	v := &specValidator{spec: loadSpec(t), base: base, validated: map[string]int{}}
	t.Cleanup(func() { v.report(t) })
	return v
}

func (v *specValidator) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.Method + " " + req.URL.Path
	route, err := v.spec.Request(req.Context(), req)
	v.mu.Lock()
	checkAnswer := false
	switch {
	case errors.Is(err, spec.ErrNotDescribed):
		v.violations = append(v.violations, key+": no operation in the spec")
	case err != nil:
		v.violations = append(v.violations, fmt.Sprintf("%s?%s: %v", key, req.URL.RawQuery, err))
	default:
		v.validated[route.Key()]++
		// Answers are large; the first few per operation show the shape.
		checkAnswer = v.validated[route.Key()] <= answersChecked
	}
	v.mu.Unlock()
	resp, rerr := v.base.RoundTrip(req)
	if !checkAnswer || rerr != nil || resp.StatusCode >= 300 {
		return resp, rerr // error answers are checked by the fake's own tests
	}
	rb, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	if rerr != nil || !json.Valid(rb) {
		return resp, nil // a broken body (an injected fault) is the client's to handle
	}
	if verr := v.spec.Response(req.Context(), route, resp.StatusCode, resp.Header, rb); verr != nil {
		v.mu.Lock()
		v.violations = append(v.violations, fmt.Sprintf("answer to %s %d: %v", key, resp.StatusCode, verr))
		v.mu.Unlock()
	}
	return resp, nil
}

func (v *specValidator) report(t testing.TB) {
	v.mu.Lock()
	defer v.mu.Unlock()
	seen := map[string]bool{}
	for _, s := range v.violations {
		if !seen[s] {
			seen[s] = true
			t.Errorf("violates WooCommerce's v3 spec: %s", s)
		}
	}
	if len(v.validated) == 0 {
		return // another transport replaced this one
	}
	ops := make([]string, 0, len(v.validated))
	for k, n := range v.validated {
		ops = append(ops, fmt.Sprintf("%s ×%d", k, n))
	}
	sort.Strings(ops)
	t.Logf("requests validated against WooCommerce's v3 spec: %v", ops)
}

// TestEveryOperationMatchesTheSpec drives every kind of request the
// connector sends (pulls, fetches, write-back, webhook upkeep) through one
// spec validator and checks each operation was seen and valid.
func TestEveryOperationMatchesTheSpec(t *testing.T) {
	v := newSpecValidator(t, nil)
	clk := newClock(time.Now().Add(-time.Hour))
	f, c := start(t, woocommercefake.Options{Now: clk.Now}, func(cfg adapter.Config) {
		cfg["webhooks"] = map[string]any{"secret": hookSecret, "delivery_url": "http://127.0.0.1:1/hooks", "topics": []any{"order.updated", "customer.updated"}}
	}, WithTransport(v))
	ids := seedCustomers(f, 120)
	f.AddOrders(genOrders(150, 120, clk.Now().Add(-48*time.Hour))...)
	ctx := context.Background()
	s := newStore()
	for _, obj := range []string{domain.ObjectContact, domain.ObjectOrder} {
		if err := c.Pull(ctx, adapter.PullRequest{Object: obj}, s.sink); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(time.Minute)
	if err := c.Pull(ctx, adapter.PullRequest{Object: domain.ObjectOrder, Cursor: s.cursor}, s.sink); err != nil {
		t.Fatal(err)
	}
	for _, req := range []adapter.FetchRequest{{Object: domain.ObjectContact, IDs: []string{strconv.Itoa(ids[0]), "999999"}}, {Object: domain.ObjectOrder, IDs: []string{"1", "2", "999999"}}} {
		if _, err := c.Fetch(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	targets := ensure(t, c)
	var items []adapter.PushItem
	for i, id := range ids {
		items = append(items, adapter.PushItem{ID: strconv.Itoa(i), Ref: domain.ExternalRef{Platform: Name, ObjectType: domain.ObjectContact, ID: strconv.Itoa(id)},
			Properties: map[string]string{"segments": "vip", "clv": ""}, Add: []string{"list:vip"}, Remove: []string{"list:lapsing"}})
	}
	if _, err := c.Push(ctx, adapter.PushRequest{Items: items, Targets: targets}); err != nil {
		t.Fatal(err)
	}
	hook := f.AddWebhook("ours", "order.updated", "http://127.0.0.1:1/hooks", "old")
	f.SetWebhookStatus(hook, "disabled")
	rep, err := c.CheckWebhooks(ctx)
	if err != nil || len(rep.Reenabled) != 1 || len(rep.Created) != 1 {
		t.Fatalf("webhook upkeep %+v %v", rep, err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, op := range []string{"GET /customers", "GET /orders", "POST /customers/batch", "GET /webhooks", "POST /webhooks", "PUT /webhooks/{id}"} {
		if v.validated[op] == 0 {
			t.Errorf("%s was never sent (validated: %v)", op, v.validated)
		}
	}
}
