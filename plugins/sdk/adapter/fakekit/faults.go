package fakekit

import (
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is one injected failure. The zero Fault with only Latency set
// delays a request and then lets it through.
type Fault struct {
	// Status answers with this HTTP status and the platform's own error
	// body for it (the fake writes the body).
	Status int
	// RetryAfter, when set, is sent as the Retry-After header with Status
	// or Page.
	RetryAfter string
	// After serves the request first, so a write takes effect, and then
	// fails the answer as Status, Page or Reset say: the client cannot
	// tell whether its write landed.
	After bool
	// Reset closes the connection without an answer (a TCP reset).
	Reset bool
	// Body serves the request and sends its real status and headers, then
	// breaks the body as it says. Status, Page and Reset are ignored.
	Body BodyBreak
	// Page answers Status (200 when zero: garbage behind a success) with an
	// HTML page from a proxy or firewall in front of the platform instead
	// of the platform's body.
	Page bool
	// Latency delays the answer (or the pass-through) by this long.
	Latency time.Duration
	// Method and Path limit the fault to requests with that method and
	// whose URL path contains Path; empty matches every request.
	Method, Path string
}

// BodyBreak is how Fault.Body cuts an answer short.
type BodyBreak int

// Ways to break a body, as proxies and dying servers do.
const (
	// BodyIntact leaves the body alone (no body fault).
	BodyIntact BodyBreak = iota
	// BodyReset sends half the body, then resets the connection.
	BodyReset
	// BodyShort sends half the body under a Content-Length for all of it,
	// then closes the connection.
	BodyShort
	// BodyTruncated sends half the body with a Content-Length that matches
	// it: the framing is intact and the document is not.
	BodyTruncated
)

// Kind names a fault for the counters of Served: "429", "503-after",
// "reset", "reset-after", "page-503", "body-reset", "body-short",
// "body-truncated" or "latency".
func (f Fault) Kind() string {
	after := ""
	if f.After {
		after = "-after"
	}
	switch {
	case f.Body == BodyReset:
		return "body-reset"
	case f.Body == BodyShort:
		return "body-short"
	case f.Body == BodyTruncated:
		return "body-truncated"
	case f.Reset:
		return "reset" + after
	case f.Page:
		return "page-" + strconv.Itoa(f.pageStatus()) + after
	case f.Status != 0:
		return strconv.Itoa(f.Status) + after
	}
	return "latency"
}

func (f Fault) pageStatus() int {
	if f.Status == 0 {
		return http.StatusOK
	}
	return f.Status
}

func (f Fault) passes() bool {
	return f.Body == BodyIntact && !f.Reset && !f.Page && f.Status == 0
}

func (f Fault) matches(r *http.Request) bool {
	return (f.Method == "" || f.Method == r.Method) && strings.Contains(r.URL.Path, f.Path)
}

// ErrorWriter writes a platform's own error answer for status (its body,
// its headers) to w.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, status int)

// Faults decides which requests fail: a one-shot schedule (Inject), a
// seeded rate (SetRate) and a latency for every request (SetLatency). It is
// safe for concurrent use.
type Faults struct {
	platformError ErrorWriter
	defaults      []Fault

	mu      sync.Mutex
	queue   []Fault
	rate    float64
	rng     *rand.Rand
	kinds   []Fault
	latency time.Duration
	served  map[string]int
}

// NewFaults returns a fault injector that writes platform errors with
// platformError; defaults are the faults SetRate picks from when given
// none (what the platform's clients meet in the wild).
func NewFaults(platformError ErrorWriter, defaults ...Fault) *Faults {
	return &Faults{platformError: platformError, defaults: defaults, served: map[string]int{}}
}

// Inject queues faults; each is consumed by the next request it matches,
// in order.
func (q *Faults) Inject(fs ...Fault) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queue = append(q.queue, fs...)
}

// SetRate makes each request fail with probability p, with a fault drawn
// from kinds (the fake's defaults when empty) by a generator seeded with
// seed, so a run repeats exactly. A drawn fault that does not match the
// request (Method, Path) lets it through. p <= 0 turns it off.
func (q *Faults) SetRate(p float64, seed uint64, kinds ...Fault) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if p <= 0 {
		q.rate, q.rng, q.kinds = 0, nil, nil
		return
	}
	if len(kinds) == 0 {
		kinds = q.defaults
	}
	q.rate, q.kinds = p, append([]Fault(nil), kinds...)
	q.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// SetLatency delays every request by d (0 turns it off).
func (q *Faults) SetLatency(d time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.latency = d
}

// Clear drops the queued faults, the rate and the latency; the counters
// of Served stay.
func (q *Faults) Clear() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queue, q.rate, q.rng, q.kinds, q.latency = nil, 0, nil, nil, 0
}

// Served returns how many faults were served, by Kind.
func (q *Faults) Served() map[string]int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return maps.Clone(q.served)
}

// ServedTotal returns how many faults were served in all.
func (q *Faults) ServedTotal() int {
	n := 0
	for _, v := range q.Served() {
		n += v
	}
	return n
}

// ResetServed zeroes the counters of Served.
func (q *Faults) ResetServed() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.served = map[string]int{}
}

// take picks the fault for r, if any, and the latency for every request.
func (q *Faults) take(r *http.Request) (Fault, bool, time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, ft := range q.queue {
		if ft.matches(r) {
			q.queue = append(q.queue[:i], q.queue[i+1:]...)
			q.served[ft.Kind()]++
			return ft, true, q.latency
		}
	}
	if q.rng != nil && q.rng.Float64() < q.rate {
		if ft := q.kinds[q.rng.IntN(len(q.kinds))]; ft.matches(r) {
			q.served[ft.Kind()]++
			return ft, true, q.latency
		}
	}
	return Fault{}, false, q.latency
}

// Handle is where a fake lets faults happen: it fails r as the next fault
// says, or passes it to next, the rest of the fake's pipeline (which also
// serves the request of an After or Body fault).
func (q *Faults) Handle(w http.ResponseWriter, r *http.Request, next http.Handler) {
	ft, faulted, latency := q.take(r)
	if d := latency + ft.Latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if !faulted || ft.passes() {
		next.ServeHTTP(w, r)
		return
	}
	if ft.Body != BodyIntact {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		writeBroken(w, rec, ft.Body)
		return
	}
	if ft.After {
		next.ServeHTTP(httptest.NewRecorder(), r)
	}
	switch {
	case ft.Reset:
		if !resetConn(w) {
			q.platformError(w, r, http.StatusBadGateway)
		}
	case ft.Page:
		if ft.RetryAfter != "" {
			w.Header().Set("Retry-After", ft.RetryAfter)
		}
		writePage(w, ft.pageStatus())
	default:
		if ft.RetryAfter != "" {
			w.Header().Set("Retry-After", ft.RetryAfter)
		}
		q.platformError(w, r, ft.Status)
	}
}
