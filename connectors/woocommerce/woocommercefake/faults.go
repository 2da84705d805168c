package woocommercefake

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Fault is an injected failure answered instead of the real response.
type Fault struct {
	// Status is the HTTP status (429, 503, 500, 403…). Ignored with Reset.
	Status int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// HTML answers with an HTML page (a WAF or proxy) instead of JSON.
	HTML bool
	// Reset closes the connection without an answer.
	Reset bool
	// Body breaks the real answer mid-body instead: the request is
	// served (a write takes effect), the status and headers go out, then
	// half the body and the connection ends. Status, RetryAfter and HTML
	// are ignored.
	Body BodyBreak
	// Path limits the fault to requests whose API path starts with it
	// (e.g. "/orders"); empty matches all.
	Path string
}

// BodyBreak is how Fault.Body cuts an answer short.
type BodyBreak int

// Ways to break a body, as proxies and dying servers do.
const (
	// BodyIntact leaves the body alone (no body fault).
	BodyIntact BodyBreak = iota
	// BodyReset sends half the body, then resets the connection (RST).
	BodyReset
	// BodyShort sends half the body under a Content-Length for all of it,
	// then closes the connection.
	BodyShort
	// BodyTruncated sends half the body with a Content-Length that matches
	// it: the framing is intact and the JSON is not.
	BodyTruncated
)

// InjectFaults queues faults; each is consumed by the next matching request.
func (f *Fake) InjectFaults(fs ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, fs...)
}

// Fail429 queues n throttling answers (429 with Retry-After: 1).
func (f *Fake) Fail429(n int) {
	for i := 0; i < n; i++ {
		f.InjectFaults(Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"})
	}
}

type randomFaults struct {
	rate  float64
	rng   *rand.Rand
	kinds []Fault
	hits  int
}

// SetRandomFaults makes each request fail with probability p, picking one
// of kinds (default: 429, 503 with Retry-After, an HTML 503 page and a
// connection reset) with a deterministic generator seeded by seed. p = 0
// turns it off.
func (f *Fake) SetRandomFaults(p float64, seed uint64, kinds ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p <= 0 {
		f.random = nil
		return
	}
	if len(kinds) == 0 {
		kinds = []Fault{
			{Status: http.StatusTooManyRequests},
			{Status: http.StatusServiceUnavailable, RetryAfter: "0"},
			{Status: http.StatusServiceUnavailable, HTML: true},
			{Reset: true},
		}
	}
	f.random = &randomFaults{rate: p, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), kinds: kinds}
}

// RandomFaultsServed reports how many random faults were answered.
func (f *Fake) RandomFaultsServed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.random == nil {
		return 0
	}
	return f.random.hits
}

// SetThrottle makes the server answer 429 (Retry-After: 1) once more than
// r requests per second (burst b) arrive, as a host's rate limiter does.
// r = 0 turns it off.
func (f *Fake) SetThrottle(r rate.Limit, b int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r == 0 {
		f.limiter = nil
		return
	}
	f.limiter = rate.NewLimiter(r, b)
}

// Throttled reports how many requests the throttle refused.
func (f *Fake) Throttled() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.throttled
}

// SetLatency delays every answer by d.
func (f *Fake) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// FailCustomerUpdates makes batch and single updates of these customers
// fail with the given WooCommerce error code, message and status inside
// the batch response (a partial failure). An empty code clears them.
func (f *Fake) FailCustomerUpdates(code, message string, status int, ids ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if code == "" {
			delete(f.itemErrors, id)
			continue
		}
		f.itemErrors[id] = apiError{Code: code, Message: message, Data: map[string]any{"status": status}}
	}
}

// takeFault picks the fault for a request, if any. Called with f.mu held.
func (f *Fake) takeFaultLocked(path string) (Fault, bool) {
	for i, ft := range f.faults {
		if ft.Path == "" || strings.HasPrefix(path, ft.Path) {
			f.faults = append(f.faults[:i], f.faults[i+1:]...)
			return ft, true
		}
	}
	if f.random != nil && f.random.rng.Float64() < f.random.rate {
		f.random.hits++
		return f.random.kinds[f.random.rng.IntN(len(f.random.kinds))], true
	}
	if f.limiter != nil && !f.limiter.Allow() {
		f.throttled++
		return Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}, true
	}
	return Fault{}, false
}

const htmlPage = `<!DOCTYPE html>
<html><head><title>503 Service Temporarily Unavailable</title></head>
<body><h1>Service Temporarily Unavailable</h1>
<p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems.</p>
<hr><address>Web Application Firewall</address></body></html>
`

// writeBroken sends the recorded answer rec broken as b says.
func writeBroken(w http.ResponseWriter, rec *httptest.ResponseRecorder, b BodyBreak) {
	body := rec.Body.Bytes()
	half := body[:len(body)/2]
	if b == BodyTruncated {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(half)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(half)
		return
	}
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		http.Error(w, "cannot break the body: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	h := rec.Header().Clone()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Transfer-Encoding")
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	_ = h.Write(buf)
	_, _ = buf.WriteString("\r\n")
	_, _ = buf.Write(half)
	_ = buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok && b == BodyReset {
		_ = tc.SetLinger(0)
	}
}

func (f *Fake) writeFault(w http.ResponseWriter, ft Fault) {
	if ft.Reset {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				_ = conn.Close()
				return
			}
		}
		ft.Status = http.StatusBadGateway
	}
	if ft.RetryAfter != "" {
		w.Header().Set("Retry-After", ft.RetryAfter)
	}
	if ft.HTML {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(ft.Status)
		_, _ = w.Write([]byte(htmlPage))
		return
	}
	code, msg := "woocommerce_rest_too_many_requests", "Too many requests. Please wait and try again."
	if ft.Status != http.StatusTooManyRequests {
		code, msg = "internal_server_error", "The server is temporarily unavailable."
	}
	writeError(w, ft.Status, code, msg, nil)
}
