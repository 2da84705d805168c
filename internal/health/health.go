// Package health keeps each platform's connection state (ok, degraded,
// failing) from what its requests and operations answer, so a wrong token
// or an exhausted quota is visible in the status report, the dashboard
// and the alerts instead of hiding among retries.
//
// The rules, applied per platform:
//
//   - An authentication or permission failure (HTTP 401 or 403, or an
//     operation failing with adapter.KindAuth) makes it failing at once:
//     no retry will fix a revoked token.
//   - Rate limiting (429, adapter.KindRateLimited) makes it degraded: the
//     work goes on, slower.
//   - Other failures (5xx, no answer, retryable errors) make it degraded
//     after DegradedAfter in a row and failing after FailingAfter in a
//     row: a platform that is down.
//   - Any success makes it ok again.
//
// Each change of state is logged once (ERROR when it starts failing,
// WARN when degraded, INFO on recovery), never once per retry.
package health

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// States.
const (
	Unknown  = "unknown" // nothing heard yet
	OK       = "ok"
	Degraded = "degraded"
	Failing  = "failing"
)

// Status is one platform's health.
type Status struct {
	Platform string `json:"platform"` // the instance's name
	// Adapter is the adapter the instance runs (woocommerce for a shop
	// named shop-eu); set by the application, which knows the instances.
	Adapter     string         `json:"adapter,omitempty"`
	State       string         `json:"state"`
	Since       time.Time      `json:"since,omitzero"` // when it entered State
	LastSuccess time.Time      `json:"last_success,omitzero"`
	LastError   string         `json:"last_error,omitempty"` // redacted by the adapter's client
	LastErrorAt time.Time      `json:"last_error_at,omitzero"`
	ErrorKind   string         `json:"error_kind,omitempty"` // auth, rate_limited, retryable, …
	Errors      map[string]int `json:"errors,omitempty"`     // failures by kind since start
	// LastPull and LastPush are when a pull from the platform and a
	// write-back push to it last succeeded (zero: not since start).
	LastPull time.Time `json:"last_pull,omitzero"`
	LastPush time.Time `json:"last_push,omitzero"`
	// RequestsToday counts the requests made to the platform since
	// midnight UTC (by this process).
	RequestsToday int `json:"requests_today"`
	// Recent are the newest failures, newest first (at most RecentErrors).
	Recent []Event `json:"recent_errors,omitempty"`
	// Webhooks is what the last look at the platform's webhook
	// subscriptions found; nil when the platform's are not watched.
	Webhooks *Webhooks `json:"webhooks,omitempty"`
}

// Event is one failure of a platform.
type Event struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
}

// RecentErrors is how many failures a Status keeps.
const RecentErrors = 10

// Options tune a Tracker.
type Options struct {
	Logger        *slog.Logger
	Now           func() time.Time
	DegradedAfter int // consecutive failures; default 3
	FailingAfter  int // consecutive failures; default 10
}

// Tracker holds the health of every platform. It is safe for concurrent
// use.
type Tracker struct {
	opts Options
	mu   sync.Mutex
	p    map[string]*platform
}

type platform struct {
	Status
	streak int       // consecutive failures
	day    time.Time // the UTC day RequestsToday counts
}

// New returns a tracker knowing the given platforms (state unknown).
func New(opts Options, platforms ...string) *Tracker {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DegradedAfter <= 0 {
		opts.DegradedAfter = 3
	}
	if opts.FailingAfter <= opts.DegradedAfter {
		opts.FailingAfter = max(10, opts.DegradedAfter+1)
	}
	t := &Tracker{opts: opts, p: map[string]*platform{}}
	for _, name := range platforms {
		t.get(name)
	}
	return t
}

func (t *Tracker) get(name string) *platform {
	p := t.p[name]
	if p == nil {
		p = &platform{Status: Status{Platform: name, State: Unknown, Errors: map[string]int{}}}
		t.p[name] = p
	}
	return p
}

// Success records a successful request or operation.
func (t *Tracker) Success(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.get(name)
	now := t.opts.Now()
	p.LastSuccess, p.streak = now, 0
	t.move(p, OK, now, "")
}

// Failure records a failed operation; op names it (pull, push, fetch,
// webhook) in the message.
func (t *Tracker) Failure(name, op string, err error) {
	if err == nil {
		return
	}
	kind := adapter.KindOf(err)
	t.fail(name, kind, fmt.Sprintf("%s: %v", op, err))
}

func (t *Tracker) fail(name string, kind adapter.Kind, msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.get(name)
	now := t.opts.Now()
	p.streak++
	p.LastError, p.LastErrorAt, p.ErrorKind = msg, now, kind.String()
	p.Errors[kind.String()]++
	p.Recent = append([]Event{{At: now, Kind: kind.String(), Message: msg}}, p.Recent[:min(len(p.Recent), RecentErrors-1)]...)
	state := p.State
	switch {
	case kind == adapter.KindAuth:
		state = Failing
	case kind == adapter.KindRateLimited:
		if state != Failing {
			state = Degraded
		}
	case p.streak >= t.opts.FailingAfter:
		state = Failing
	case p.streak >= t.opts.DegradedAfter && state != Failing:
		state = Degraded
	}
	t.move(p, state, now, msg)
}

// move changes p's state and logs the change once.
func (t *Tracker) move(p *platform, state string, now time.Time, msg string) {
	if p.State == state {
		return
	}
	from := p.State
	p.State, p.Since = state, now
	log := t.opts.Logger.With("platform", p.Platform, "from", from, "to", state)
	switch state {
	case Failing:
		log.Error("platform is failing", "kind", p.ErrorKind, "err", msg)
	case Degraded:
		log.Warn("platform is degraded", "kind", p.ErrorKind, "err", msg)
	case OK:
		if from != Unknown {
			log.Info("platform recovered")
		}
	}
}

// Done records that an operation on platform succeeded: "pull" sets
// LastPull, "push" LastPush; other operations are not tracked.
func (t *Tracker) Done(name, op string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.get(name)
	switch op {
	case "pull":
		p.LastPull = t.opts.Now()
	case "push":
		p.LastPush = t.opts.Now()
	}
}

// request counts one request in today's count.
func (t *Tracker) request(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.get(name)
	day := t.opts.Now().UTC().Truncate(24 * time.Hour)
	if !day.Equal(p.day) {
		p.day, p.RequestsToday = day, 0
	}
	p.RequestsToday++
}

// Snapshot returns every platform's status, by name.
func (t *Tracker) Snapshot() []Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Status, 0, len(t.p))
	for _, p := range t.p {
		s := p.Status
		if !t.opts.Now().UTC().Truncate(24 * time.Hour).Equal(p.day) {
			s.RequestsToday = 0 // nothing yet today
		}
		s.Recent = append([]Event(nil), p.Recent...)
		s.Errors = make(map[string]int, len(p.Errors))
		for k, v := range p.Errors {
			s.Errors[k] = v
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Status) int { return cmp.Compare(a.Platform, b.Platform) })
	return out
}

// Observer returns an adapter.HTTPObserver that records each request's
// answer for platform name and passes it on to next (which may be nil).
func (t *Tracker) Observer(name string, next adapter.HTTPObserver) adapter.HTTPObserver {
	t.mu.Lock()
	t.get(name)
	t.mu.Unlock()
	return observer{t: t, name: name, next: next}
}

type observer struct {
	t    *Tracker
	name string
	next adapter.HTTPObserver
}

func (o observer) HTTPRequest(method string, status int, took time.Duration) {
	if o.next != nil {
		o.next.HTTPRequest(method, status, took)
	}
	o.t.request(o.name)
	switch {
	case status >= 200 && status < 400:
		o.t.Success(o.name)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		o.t.fail(o.name, adapter.KindAuth, fmt.Sprintf("%s answered %d %s", method, status, http.StatusText(status)))
	case status == http.StatusTooManyRequests:
		o.t.fail(o.name, adapter.KindRateLimited, fmt.Sprintf("%s answered 429 Too Many Requests", method))
	case status == 0 || status >= 500:
		what := "no answer"
		if status != 0 {
			what = fmt.Sprintf("%d %s", status, http.StatusText(status))
		}
		o.t.fail(o.name, adapter.KindRetryable, fmt.Sprintf("%s: %s", method, what))
	}
	// Other 4xx answers (404, 409, 422) are about one record, not the
	// connection: they say nothing of the platform's health.
}

func (o observer) RateWait(d time.Duration) {
	if o.next != nil {
		o.next.RateWait(d)
	}
}
