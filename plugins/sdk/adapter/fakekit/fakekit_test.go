package fakekit_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
)

// platform is a tiny fake: it counts the writes it served and answers
// its own JSON error body for injected statuses.
type platform struct {
	*fakekit.Server
	*fakekit.Faults
	writes atomic.Int64
}

func newPlatform(t *testing.T) *platform {
	t.Helper()
	p := &platform{}
	p.Faults = fakekit.NewFaults(func(w http.ResponseWriter, _ *http.Request, status int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":"platform"}`)
	}, fakekit.Fault{Status: http.StatusServiceUnavailable})
	p.Server = fakekit.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Faults.Handle(w, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				p.writes.Add(1)
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"items":["`+strings.Repeat("x", 64)+`"]}`)
		}))
	}))
	p.Start()
	t.Cleanup(p.Close)
	return p
}

type answer struct {
	status int
	ctype  string
	retry  string
	body   string
	err    error
}

func (p *platform) call(t *testing.T, method, path string) answer {
	t.Helper()
	req, err := http.NewRequest(method, p.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Client().Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), retry: resp.Header.Get("Retry-After"), body: string(b), err: err}
}

func TestInjectedFaultsAreOneShotAndMatchMethodAndPath(t *testing.T) {
	p := newPlatform(t)
	p.Inject(fakekit.Fault{Status: 429, RetryAfter: "2", Method: http.MethodPost, Path: "/orders"})
	if a := p.call(t, http.MethodGet, "/orders"); a.status != 200 {
		t.Fatalf("a GET met the POST fault: %+v", a)
	}
	if a := p.call(t, http.MethodPost, "/customers"); a.status != 200 {
		t.Fatalf("another path met the fault: %+v", a)
	}
	a := p.call(t, http.MethodPost, "/orders")
	if a.status != 429 || a.retry != "2" || a.body != `{"error":"platform"}` {
		t.Fatalf("the fault was not answered with the platform's body: %+v", a)
	}
	if p.writes.Load() != 1 {
		t.Fatalf("a fault before processing took effect: %d writes", p.writes.Load())
	}
	if a := p.call(t, http.MethodPost, "/orders"); a.status != 200 {
		t.Fatalf("the fault was served twice: %+v", a)
	}
	if got := p.Served(); got["429"] != 1 || len(got) != 1 {
		t.Fatalf("served %v", got)
	}
}

func TestAfterFaultsTakeEffectAndFailTheAnswer(t *testing.T) {
	p := newPlatform(t)
	p.Inject(fakekit.Fault{Status: 503, After: true}, fakekit.Fault{Reset: true, After: true}, fakekit.Fault{Reset: true})
	if a := p.call(t, http.MethodPost, "/w"); a.status != 503 {
		t.Fatalf("503 after: %+v", a)
	}
	if a := p.call(t, http.MethodPost, "/w"); a.err == nil {
		t.Fatalf("reset after: answered %+v", a)
	}
	if a := p.call(t, http.MethodPost, "/w"); a.err == nil {
		t.Fatalf("reset: answered %+v", a)
	}
	if n := p.writes.Load(); n != 2 {
		t.Fatalf("%d writes took effect, want 2 (the two After faults)", n)
	}
}

func TestBrokenBodiesAndProxyPages(t *testing.T) {
	p := newPlatform(t)
	p.Inject(fakekit.Fault{Body: fakekit.BodyShort}, fakekit.Fault{Body: fakekit.BodyReset},
		fakekit.Fault{Body: fakekit.BodyTruncated}, fakekit.Fault{Page: true}, fakekit.Fault{Page: true, Status: 503})
	for _, kind := range []string{"short", "reset"} {
		a := p.call(t, http.MethodGet, "/")
		if a.err == nil || a.status != 200 {
			t.Fatalf("body %s: want a 200 whose body fails, got %+v", kind, a)
		}
	}
	a := p.call(t, http.MethodGet, "/")
	if a.err != nil || a.status != 200 || strings.HasSuffix(a.body, "}") || !strings.HasPrefix(a.body, `{"items"`) {
		t.Fatalf("truncated: want half the JSON under intact framing, got %+v", a)
	}
	a = p.call(t, http.MethodGet, "/")
	if a.status != 200 || !strings.HasPrefix(a.ctype, "text/html") || !strings.Contains(a.body, "<html>") {
		t.Fatalf("garbage 2xx: %+v", a)
	}
	a = p.call(t, http.MethodGet, "/")
	if a.status != 503 || !strings.Contains(a.body, "503 Service Temporarily Unavailable") {
		t.Fatalf("proxy 503: %+v", a)
	}
	got := p.Served()
	for _, k := range []string{"body-short", "body-reset", "body-truncated", "page-200", "page-503"} {
		if got[k] != 1 {
			t.Errorf("served[%s] = %d (%v)", k, got[k], got)
		}
	}
}

func TestSeededRateRepeatsExactly(t *testing.T) {
	run := func(seed uint64) []int {
		p := newPlatform(t)
		p.SetRate(0.3, seed)
		var out []int
		for range 40 {
			out = append(out, p.call(t, http.MethodGet, "/").status)
		}
		p.SetRate(0, 0)
		if a := p.call(t, http.MethodGet, "/"); a.status != 200 {
			t.Fatalf("rate 0 still fails: %+v", a)
		}
		return out
	}
	a, b := run(9), run(9)
	failed := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 9 gave %v then %v", a, b)
		}
		if a[i] == 503 { // the defaults given to NewFaults
			failed++
		}
	}
	if failed == 0 || failed == len(a) {
		t.Fatalf("%d of %d failed at rate 0.3", failed, len(a))
	}
}

func TestWrapOnARunningServer(t *testing.T) {
	p := newPlatform(t)
	var seen atomic.Int64
	p.Wrap(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.Add(1)
			next.ServeHTTP(w, r)
		})
	})
	p.call(t, http.MethodGet, "/")
	p.Wrap(nil)
	p.call(t, http.MethodGet, "/")
	if seen.Load() != 1 {
		t.Fatalf("the wrapper saw %d requests, want 1", seen.Load())
	}
}

func TestCloseBeforeStartAndTwice(t *testing.T) {
	s := fakekit.NewServer(http.NotFoundHandler())
	s.Close()
	if s.URL() != "" || s.Client() != http.DefaultClient {
		t.Fatal("a stopped server has a URL")
	}
	s.Start()
	s.Close()
	s.Close()
	if _, err := http.Get(s.URL()); err == nil {
		t.Fatal("a closed server answered")
	}
}
