package httpkit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

func fastOpts(extra func(*httpkit.Options)) httpkit.Options {
	o := httpkit.Options{Platform: "test", RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond}
	if extra != nil {
		extra(&o)
	}
	return o
}

func TestRetriesServerErrorsThenSucceeds(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	c := httpkit.New(fastOpts(nil))
	var out struct{ OK bool }
	if err := c.DoJSON(context.Background(), http.MethodGet, srv.URL, nil, &out); err != nil {
		t.Fatal(err)
	}
	if !out.OK || calls.Load() != 3 {
		t.Fatalf("ok=%v calls=%d, want true and 3", out.OK, calls.Load())
	}
}

func TestNeverRetriesValidationOrAuth(t *testing.T) {
	for _, tc := range []struct {
		status int
		kind   adapter.Kind
	}{{400, adapter.KindPermanent}, {404, adapter.KindPermanent}, {401, adapter.KindAuth}, {403, adapter.KindAuth}} {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(`{"message":"bad"}`))
		}))
		err := httpkit.New(fastOpts(nil)).DoJSON(context.Background(), http.MethodGet, srv.URL, nil, nil)
		srv.Close()
		if adapter.KindOf(err) != tc.kind {
			t.Errorf("status %d: kind %v, want %v (%v)", tc.status, adapter.KindOf(err), tc.kind, err)
		}
		var se *httpkit.StatusError
		if !errors.As(err, &se) || se.StatusCode != tc.status || !strings.Contains(string(se.Body), "bad") {
			t.Errorf("status %d: StatusError missing or wrong: %v", tc.status, err)
		}
		if calls.Load() != 1 {
			t.Errorf("status %d: %d calls, want 1", tc.status, calls.Load())
		}
	}
}

type refresher struct {
	token     atomic.Value
	refreshes atomic.Int32
}

func (r *refresher) Apply(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+r.token.Load().(string))
	return nil
}

func (r *refresher) Refresh(context.Context) error {
	r.refreshes.Add(1)
	r.token.Store("fresh-token")
	return nil
}

func TestRefreshesTokenOnceOn401(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer fresh-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	auth := &refresher{}
	auth.token.Store("stale-token")
	c := httpkit.New(fastOpts(func(o *httpkit.Options) { o.Auth = auth }))
	if err := c.DoJSON(context.Background(), http.MethodGet, srv.URL, nil, nil); err != nil {
		t.Fatal(err)
	}
	if auth.refreshes.Load() != 1 {
		t.Fatalf("refreshes = %d, want 1", auth.refreshes.Load())
	}
	// A server that rejects every token: one refresh, then an auth error.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	defer bad.Close()
	auth2 := &refresher{}
	auth2.token.Store("x")
	err := httpkit.New(fastOpts(func(o *httpkit.Options) { o.Auth = auth2 })).DoJSON(context.Background(), http.MethodGet, bad.URL, nil, nil)
	if !errors.Is(err, adapter.ErrAuth) || auth2.refreshes.Load() != 1 {
		t.Fatalf("err=%v refreshes=%d, want auth error after one refresh", err, auth2.refreshes.Load())
	}
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.URL.Path == "/long" {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if n == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c := httpkit.New(fastOpts(nil))
	if err := c.DoJSON(context.Background(), http.MethodGet, srv.URL+"/short", nil, nil); err != nil {
		t.Fatalf("short Retry-After should be retried: %v", err)
	}
	calls.Store(0)
	err := c.DoJSON(context.Background(), http.MethodGet, srv.URL+"/long", nil, nil)
	if !errors.Is(err, adapter.ErrRateLimited) || adapter.RetryAfterOf(err) != time.Hour {
		t.Fatalf("long Retry-After: err=%v retryAfter=%v, want rate limited for 1h", err, adapter.RetryAfterOf(err))
	}
	if calls.Load() != 1 {
		t.Fatalf("a Retry-After above the cap was slept on: %d calls", calls.Load())
	}
}

func TestSecretsRedactedInErrorsAndLogs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`echo: ` + r.URL.RawQuery + ` hunter2-secret`))
	}))
	defer srv.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := httpkit.New(fastOpts(func(o *httpkit.Options) {
		o.Logger = log
		o.Secrets = []string{"hunter2-secret"}
		o.RetryMax = 1
	}))
	err := c.DoJSON(context.Background(), http.MethodGet, srv.URL+"/wp-json/wc/v3/orders?consumer_key=ck_abc123&consumer_secret=cs_def456&page=2", nil, nil)
	if err == nil {
		t.Fatal("want error")
	}
	for _, leak := range []string{"ck_abc123", "cs_def456", "hunter2-secret"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("error leaks %q: %v", leak, err)
		}
		if strings.Contains(logs.String(), leak) {
			t.Errorf("logs leak %q:\n%s", leak, logs.String())
		}
	}
	if !strings.Contains(err.Error(), "page=2") {
		t.Errorf("redaction removed ordinary parameters: %v", err)
	}
}

func TestLimiterSpendsBudgetOnEveryAttempt(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1)%2 == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	lim := rate.NewLimiter(rate.Every(time.Hour), 4)
	var waits atomic.Int32
	c := httpkit.New(fastOpts(func(o *httpkit.Options) {
		o.Limiter = lim
		o.Hooks.OnLimiterWait = func(time.Duration) { waits.Add(1) }
	}))
	for i := 0; i < 2; i++ {
		if err := c.DoJSON(context.Background(), http.MethodGet, srv.URL, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := lim.Tokens(); got > 0.01 {
		t.Fatalf("4 attempts should have spent the 4-token burst, %.2f left", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := c.DoJSON(ctx, http.MethodGet, srv.URL, nil, nil); err == nil {
		t.Fatal("an exhausted budget must block until the context ends")
	}
}
