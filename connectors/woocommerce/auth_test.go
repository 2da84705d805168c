package woocommerce

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func pullOnce(c *Connector, object string) error {
	return c.Pull(context.Background(), adapter.PullRequest{Object: object}, func(context.Context, adapter.Page) error { return nil })
}

// rawCall sends one request signed by auth and returns status and body.
func rawCall(t *testing.T, auth interface {
	Apply(context.Context, *http.Request) error
}, u string, client *http.Client) (int, apiError) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if auth != nil {
		if err := auth.Apply(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	return send(t, req, client)
}

func send(t *testing.T, req *http.Request, client *http.Client) (int, apiError) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e apiError
	_ = json.Unmarshal(body, &e)
	return resp.StatusCode, e
}

func TestOAuth1OverPlainHTTP(t *testing.T) {
	clk := newClock(time.Now())
	f := woocommercefake.New(woocommercefake.Options{Now: clk.Now})
	base := f.Start()
	defer f.Close()
	f.AddOrders(genOrders(5, 2, clk.Now().Add(-time.Hour))...)
	u := base + "/wp-json/wc/v3/orders?per_page=5&modified_after=2020-01-01T00:00:00&dates_are_gmt=true&status=processing,completed"

	for _, method := range []string{"HMAC-SHA256", "HMAC-SHA1"} {
		good := oauth1Auth{key: "ck_test", secret: "cs_test", method: method, now: clk.Now}
		if st, e := rawCall(t, good, u, http.DefaultClient); st != 200 {
			t.Fatalf("%s: signed request refused: %d %+v", method, st, e)
		}
	}
	cases := []struct {
		name string
		auth oauth1Auth
		want string
	}{
		{"wrong secret", oauth1Auth{key: "ck_test", secret: "cs_wrong", method: "HMAC-SHA256", now: clk.Now}, "Invalid signature - provided signature does not match."},
		{"unknown key", oauth1Auth{key: "ck_nope", secret: "cs_test", method: "HMAC-SHA256", now: clk.Now}, "Consumer key is invalid."},
		{"stale timestamp", oauth1Auth{key: "ck_test", secret: "cs_test", method: "HMAC-SHA256", now: func() time.Time { return clk.Now().Add(-16 * time.Minute) }}, "Invalid timestamp."},
	}
	for _, tc := range cases {
		st, e := rawCall(t, tc.auth, u, http.DefaultClient)
		if st != 401 || e.Code != "woocommerce_rest_authentication_error" || e.Message != tc.want || e.Data.Status != 401 {
			t.Errorf("%s: %d %+v, want 401 %q", tc.name, st, e, tc.want)
		}
	}

	// A replayed request (same nonce) is refused.
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	_ = oauth1Auth{key: "ck_test", secret: "cs_test", method: "HMAC-SHA256", now: clk.Now}.Apply(context.Background(), req)
	replay := req.Clone(context.Background())
	if st, _ := send(t, req, http.DefaultClient); st != 200 {
		t.Fatalf("first use %d", st)
	}
	if st, e := send(t, replay, http.DefaultClient); st != 401 || e.Message != "Invalid nonce - nonce has already been used." {
		t.Fatalf("replay: %d %+v", st, e)
	}

	// Basic auth over plain HTTP is ignored by WooCommerce.
	if st, e := rawCall(t, basicAuth{"ck_test", "cs_test"}, u, http.DefaultClient); st != 401 || e.Code != "woocommerce_rest_cannot_view" {
		t.Fatalf("basic over http: %d %+v", st, e)
	}
}

func TestBasicAndQueryAuthOverHTTPS(t *testing.T) {
	for _, mode := range []string{"auto", "basic", "query"} {
		f := woocommercefake.New(woocommercefake.Options{})
		url := f.StartTLS()
		f.AddOrders(genOrders(3, 1, time.Now().Add(-time.Hour))...)
		cfg := baseConfig(url)
		cfg["auth"] = mode
		c := New(nil, WithTransport(f.Client().Transport))
		if err := c.Configure(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		s := newStore()
		if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectOrder}, s.sink); err != nil || len(s.upserts) != 3 {
			t.Fatalf("%s: %v, %d orders", mode, err, len(s.upserts))
		}
		f.Close()
	}
}

func TestAuthErrorsCarryNoSecrets(t *testing.T) {
	var logs syncBuffer
	f := woocommercefake.New(woocommercefake.Options{})
	base := f.StartTLS()
	defer f.Close()
	for _, mode := range []string{"query", "basic"} {
		cfg := baseConfig(base)
		cfg["auth"] = mode
		cfg["consumer_key"] = "ck_live_0123456789abcdef"
		cfg["consumer_secret"] = "cs_live_fedcba9876543210"
		c := New(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), WithTransport(f.Client().Transport))
		if err := c.Configure(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		err := pullOnce(c, domain.ObjectOrder)
		if !errors.Is(err, adapter.ErrAuth) || !strings.Contains(err.Error(), "Consumer key is invalid.") {
			t.Fatalf("%s: err = %v", mode, err)
		}
		for _, s := range []string{err.Error(), logs.String()} {
			if strings.Contains(s, "0123456789abcdef") || strings.Contains(s, "fedcba9876543210") {
				t.Fatalf("%s: a secret leaked: %s", mode, s)
			}
		}
	}
	if !strings.Contains(logs.String(), "platform error") {
		t.Fatal("expected debug logs to check for leaks")
	}
}

func TestRateBudgetHonouredAnd429Handled(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, func(cfg adapter.Config) {
		cfg["rate_limit"] = map[string]any{"requests_per_second": 40, "burst": 4}
	})
	f.AddOrders(genOrders(2000, 50, time.Now().Add(-time.Hour))...)
	f.SetThrottle(rate.Limit(45), 5)
	if err := pullOnce(c, domain.ObjectOrder); err != nil {
		t.Fatal(err)
	}
	if n := f.Throttled(); n != 0 {
		t.Fatalf("the store throttled %d requests: the budget was exceeded", n)
	}
	if n := f.Calls()["GET /orders"]; n < 20 {
		t.Fatalf("only %d calls", n)
	}
	f.SetThrottle(0, 0)
	f.Inject(fakekit.Fault{Status: 429}, fakekit.Fault{Status: 429, RetryAfter: "0"},
		fakekit.Fault{Status: 503}, fakekit.Fault{Status: 503, RetryAfter: "0", Page: true}, fakekit.Fault{Reset: true})
	if err := pullOnce(c, domain.ObjectOrder); err != nil {
		t.Fatalf("429s, 503s and a reset were not absorbed: %v", err)
	}
	// A Retry-After longer than the client sleeps on comes back as a
	// rate-limit error carrying the wait, for the host's scheduler.
	f.Inject(fakekit.Fault{Status: 429, RetryAfter: "1"})
	err := pullOnce(c, domain.ObjectOrder)
	if !errors.Is(err, adapter.ErrRateLimited) || adapter.RetryAfterOf(err) != time.Second {
		t.Fatalf("long Retry-After: %v (wait %v)", err, adapter.RetryAfterOf(err))
	}
}

func TestHTMLPagesReportedAsSuch(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, func(cfg adapter.Config) {
		cfg["retry"] = map[string]any{"max": -1}
	})
	f.AddOrders(genOrders(3, 1, time.Now().Add(-time.Hour))...)
	f.Inject(fakekit.Fault{Status: 503, Page: true})
	err := pullOnce(c, domain.ObjectOrder)
	if err == nil || !adapter.IsRetryable(err) || !strings.Contains(err.Error(), "HTML page") || strings.Contains(err.Error(), "invalid character") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "503 Service Temporarily Unavailable") {
		t.Fatalf("page title missing from %v", err)
	}
}

func TestPerPageLimitsEnforced(t *testing.T) {
	f := woocommercefake.New(woocommercefake.Options{AssumeHTTPS: true})
	base := f.Start()
	defer f.Close()
	for _, pp := range []string{"0", "101"} {
		q := url.Values{"per_page": {pp}}
		st, e := rawCall(t, basicAuth{"ck_test", "cs_test"}, base+"/wp-json/wc/v3/customers?"+q.Encode(), http.DefaultClient)
		if st != 400 || e.Code != "rest_invalid_param" || !strings.Contains(e.Data.Params["per_page"], "between 1 (inclusive) and 100 (inclusive)") {
			t.Fatalf("per_page=%s: %d %+v", pp, st, e)
		}
	}
	st, _ := rawCall(t, basicAuth{"ck_test", "cs_test"}, base+"/wp-json/wc/v3/orders?per_page=100&page=7", http.DefaultClient)
	if st != 200 {
		t.Fatalf("past the end: %d", st)
	}
	var c Connector
	ds, _ := c.ValidateConfig(context.Background(), adapter.Config{"base_url": base, "consumer_key": "k", "consumer_secret": "s", "per_page": 500})
	if len(ds) != 1 || ds[0].Path != "platforms.woocommerce.per_page" {
		t.Fatalf("diagnostics %v", ds)
	}
}

func TestRevokedKeyStopsPullAndCursorResumes(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, nil)
	f.AddOrders(genOrders(450, 20, time.Now().Add(-time.Hour))...)
	s := newStore()
	sink := func(ctx context.Context, p adapter.Page) error {
		if err := s.sink(ctx, p); err != nil {
			return err
		}
		if s.pages == 2 {
			f.SetKeys() // the key's WordPress user was deleted
		}
		return nil
	}
	err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectOrder}, sink)
	if !errors.Is(err, adapter.ErrAuth) || !strings.Contains(err.Error(), "Consumer key is invalid.") {
		t.Fatalf("err = %v", err)
	}
	if len(s.upserts) != 198 { // 100 + 98 (the second page re-reads 2)
		t.Fatalf("stored %d orders before the key went", len(s.upserts))
	}
	f.SetKeys(woocommercefake.Key{ConsumerKey: "ck_test", ConsumerSecret: "cs_test", Permission: woocommercefake.ReadWrite})
	if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectOrder, Cursor: s.cursor}, s.sink); err != nil {
		t.Fatal(err)
	}
	if len(s.upserts) != 450 || len(s.dups()) != 0 {
		t.Fatalf("after resuming: %d orders, duplicates %v", len(s.upserts), s.dups())
	}
}
