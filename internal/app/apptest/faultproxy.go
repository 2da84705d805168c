package apptest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Fault is one way a FaultProxy breaks a request.
type Fault string

// The faults a FaultProxy injects, as load balancers, rate limiters and
// dying servers produce them.
const (
	// FaultBefore answers 503 without forwarding: the platform never saw
	// the request.
	FaultBefore Fault = "5xx-before"
	// FaultAfter forwards the request (a write takes effect), then
	// answers 502 instead of the platform's answer.
	FaultAfter Fault = "5xx-after"
	// FaultThrottle answers 429 with Retry-After: 1 without forwarding.
	FaultThrottle Fault = "429"
	// FaultReset forwards the request, sends the platform's status,
	// headers and half its body, then resets the connection.
	FaultReset Fault = "reset-mid-body"
	// FaultTruncated forwards the request and, when the platform answered
	// 2xx, sends half its body under a Content-Length that matches: the
	// framing is intact, the JSON is not.
	FaultTruncated Fault = "truncated-2xx"
	// FaultGarbage forwards the request and, when the platform answered
	// 2xx, replaces the body with an HTML page under the same status.
	FaultGarbage Fault = "garbage-2xx"
)

// AllFaults lists every Fault, in a fixed order.
var AllFaults = []Fault{FaultBefore, FaultAfter, FaultThrottle, FaultReset, FaultTruncated, FaultGarbage}

// FaultProxy is a reverse proxy on loopback between the connector and one
// fake platform that breaks a share of the requests it forwards, picking
// which ones and how with a generator seeded by the test. It keeps the
// Host header the connector sent, so a platform that names its own
// address in an answer (Salesforce's instance_url) names the proxy.
type FaultProxy struct {
	URL string // the proxy's base URL

	target  *url.URL
	client  *http.Client
	srv     *http.Server
	ln      net.Listener
	rate    atomic.Uint64 // math.Float64bits of the share of requests to break
	mu      sync.Mutex
	rng     *rand.Rand
	counts  map[Fault]int
	total   int
	skipped func(*http.Request) bool
}

// StartFaultProxy starts a proxy to target that breaks requests with
// probability p, seeded by seed; it stops when the test ends.
func StartFaultProxy(t testing.TB, target string, p float64, seed uint64) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("fault proxy target %q: %v", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fp := &FaultProxy{
		URL: "http://" + ln.Addr().String(), target: u, ln: ln,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		rng:    rand.New(rand.NewPCG(seed, 0xfa017)), counts: map[Fault]int{},
	}
	fp.SetRate(p)
	fp.srv = &http.Server{Handler: fp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = fp.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = fp.srv.Shutdown(ctx)
		fp.client.CloseIdleConnections()
	})
	return fp
}

// SetRate changes the share of requests broken (0 turns faults off).
func (fp *FaultProxy) SetRate(p float64) { fp.rate.Store(uint64(p * 1e9)) }

// Spare makes the proxy forward requests fn matches untouched.
func (fp *FaultProxy) Spare(fn func(*http.Request) bool) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	fp.skipped = fn
}

// Counts returns how many requests went through and how many of them
// each fault broke.
func (fp *FaultProxy) Counts() (total int, faults map[Fault]int) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	out := map[Fault]int{}
	for k, v := range fp.counts {
		out[k] = v
	}
	return fp.total, out
}

// String sums up the counts, for test logs.
func (fp *FaultProxy) String() string {
	total, c := fp.Counts()
	var parts []string
	n := 0
	for _, f := range AllFaults {
		parts = append(parts, fmt.Sprintf("%s %d", f, c[f]))
		n += c[f]
	}
	return fmt.Sprintf("%d of %d requests broken (%s)", n, total, strings.Join(parts, ", "))
}

func (fp *FaultProxy) pick(r *http.Request) Fault {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	fp.total++
	if fp.skipped != nil && fp.skipped(r) {
		return ""
	}
	p := float64(fp.rate.Load()) / 1e9
	if p <= 0 || fp.rng.Float64() >= p {
		return ""
	}
	f := AllFaults[fp.rng.IntN(len(AllFaults))]
	fp.counts[f]++
	return f
}

// ServeHTTP forwards one request, breaking it as picked.
func (fp *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fault := fp.pick(r)
	switch fault {
	case FaultBefore:
		http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
		return
	case FaultThrottle:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	status, header, body, err := fp.forward(r)
	if err != nil {
		http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	ok := status >= 200 && status < 300
	switch {
	case fault == FaultAfter:
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	case fault == FaultReset && len(body) > 1:
		fp.reset(w, status, header, body)
		return
	case fault == FaultTruncated && ok && len(body) > 1:
		body = body[:len(body)/2]
	case fault == FaultGarbage && ok:
		body = []byte("<html><body><h1>504 Gateway Time-out</h1></body></html>")
		header.Set("Content-Type", "text/html")
	}
	for k, vs := range header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// forward sends r to the platform and reads its whole answer.
func (fp *FaultProxy) forward(r *http.Request) (int, http.Header, []byte, error) {
	in, err := io.ReadAll(r.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading request: %w", err)
	}
	u := *fp.target
	u.Path = strings.TrimRight(fp.target.Path, "/") + r.URL.Path
	u.RawPath = ""
	u.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(in))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("building request: %w", err)
	}
	out.Header = r.Header.Clone()
	out.Header.Del("Accept-Encoding") // keep bodies plain so they can be cut
	out.Host = r.Host
	resp, err := fp.client.Do(out)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("forwarding: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading answer: %w", err)
	}
	h := resp.Header.Clone()
	for _, k := range []string{"Content-Length", "Transfer-Encoding", "Connection"} {
		h.Del(k)
	}
	return resp.StatusCode, h, body, nil
}

// reset writes the answer's head and half its body on the raw
// connection, then closes it with a TCP reset.
func (fp *FaultProxy) reset(w http.ResponseWriter, status int, header http.Header, body []byte) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("fault proxy: connection cannot be hijacked") // HTTP/1 servers always can
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	keys := make([]string, 0, len(header))
	for k := range header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range header[k] {
			fmt.Fprintf(buf, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(buf, "Content-Length: %d\r\n\r\n", len(body))
	_, _ = buf.Write(body[:len(body)/2])
	_ = buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close with RST, not FIN
	}
}
