package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// ---- rate budget ----

type priorityKey struct{}

// withPriority marks calls made for webhook work: they go before pulls and
// pushes waiting for the same budget.
func withPriority(ctx context.Context) context.Context {
	return context.WithValue(ctx, priorityKey{}, true)
}

type backgroundKey struct{}

// inBackground marks calls that may wait (list membership changes, which
// the daemon holds for seconds anyway): they take a slot only while the
// bucket keeps a reserve for priority calls, so that a burst of them
// never makes a property write or a webhook fetch wait for a slot.
func inBackground(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// backgroundReserve is the share of the bucket's burst that background
// calls leave untouched.
const backgroundReserve = 0.5

// limiterFor sizes a token bucket so that no rolling window of length
// window ever sees more than max requests, while spending as much of it as
// possible: burst + rate·window + slack ≤ max. The burst (5%) lets a pull
// catch up after a slow response; the slack (2%, at least one request)
// absorbs jitter between our clock and the server's.
func limiterFor(limit int, window time.Duration) *rate.Limiter {
	burst := max(1, limit*5/100)
	slack := max(1, limit*2/100)
	spend := float64(limit - burst - slack)
	if limit < 20 {
		burst, spend = 1, float64(limit-1)*0.9
	}
	if spend <= 0 {
		spend = 0.5
	}
	return rate.NewLimiter(rate.Limit(spend/window.Seconds()), burst)
}

// governor is the transport that spends the account's budget: it lets
// priority work go first, waits on the token bucket, honours the
// X-HubSpot-RateLimit-* headers (pausing when other apps of the portal have
// drained the window) and turns a daily-limit 429 into a long Retry-After
// so that the HTTP client hands it to the scheduler instead of retrying.
type governor struct {
	base    http.RoundTripper
	limiter *rate.Limiter
	search  bool
	shared  *sharedBudget
	now     func() time.Time
	obs     adapter.HTTPObserver // hears of waits for the budget; may be nil
}

// sharedBudget is state both governors (API and search) share.
type sharedBudget struct {
	waitingHigh atomic.Int64
	// admit makes a background call's check of the reserve and its taking
	// of a token one step, so callers woken together cannot all see the
	// same free tokens and overdraw the reserve.
	admit      sync.Mutex
	mu         sync.Mutex
	pauseUntil time.Time
	dailyUntil time.Time // daily budget exhausted until then
	requests   atomic.Int64
	// dailyMax and dailyLeft are the X-HubSpot-RateLimit-Daily headers
	// last seen (0 before any).
	dailyMax, dailyLeft atomic.Int64
	// skew is HubSpot's clock minus ours (from the Date header), kept only
	// when it exceeds maxSkew: cursors are in HubSpot's time.
	skew atomic.Int64
}

// maxSkew is the clock difference tolerated before cursors switch to
// HubSpot's clock. The Date header has one-second precision, so smaller
// differences cannot be measured reliably; search_lag absorbs them.
const maxSkew = 2 * time.Second

func (g *governor) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	b := g.shared
	start := time.Now()
	tokenTaken := false
	if ctx.Value(priorityKey{}) != nil {
		b.waitingHigh.Add(1)
		defer b.waitingHigh.Add(-1)
	} else {
		background := ctx.Value(backgroundKey{}) != nil
		reserve := float64(g.limiter.Burst()) * backgroundReserve
		for b.waitingHigh.Load() > 0 || (background && !g.takeAboveReserve(reserve)) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(2 * time.Millisecond):
			}
		}
		tokenTaken = background
	}
	b.mu.Lock()
	pause, daily := b.pauseUntil, b.dailyUntil
	b.mu.Unlock()
	now := g.now()
	if now.Before(daily) {
		return nil, adapter.RateLimited(daily.Sub(now), errors.New("hubspot daily request limit reached"))
	}
	if !g.search && now.Before(pause) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause.Sub(now)):
		}
	}
	if !tokenTaken {
		if err := g.limiter.Wait(ctx); err != nil {
			return nil, fmt.Errorf("waiting for hubspot rate budget: %w", err)
		}
	}
	if d := time.Since(start); g.obs != nil && d > time.Millisecond {
		g.obs.RateWait(d) // everything before the send is waiting for budget
	}
	b.requests.Add(1)
	resp, err := g.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	g.observe(resp)
	return resp, nil
}

// takeAboveReserve takes a token for a background call if at least
// reserve tokens are free, and reports whether it did.
func (g *governor) takeAboveReserve(reserve float64) bool {
	g.shared.admit.Lock()
	defer g.shared.admit.Unlock()
	return g.limiter.Tokens() >= reserve && g.limiter.Allow()
}

func (g *governor) observe(resp *http.Response) {
	h := resp.Header
	b := g.shared
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		skew := d.Add(500 * time.Millisecond).Sub(g.now())
		if skew < maxSkew && skew > -maxSkew {
			skew = 0
		}
		b.skew.Store(int64(skew))
	}
	if daily, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Daily")); err == nil && daily > 0 {
		if left, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Daily-Remaining")); err == nil {
			b.dailyMax.Store(int64(daily))
			b.dailyLeft.Store(int64(left))
		}
	}
	if rem, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Remaining")); err == nil {
		maxN, _ := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Max"))
		ms, _ := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))
		// Our own bucket keeps a slack of max·2% in every window; when the
		// server reports less than half of it left, someone else is
		// spending this portal's window too: wait for a share to free up.
		if low := max(1, maxN/100); maxN > 0 && ms > 0 && rem < low {
			wait := time.Duration(ms) * time.Millisecond * time.Duration(low-rem) / time.Duration(maxN)
			b.mu.Lock()
			if until := g.now().Add(wait); until.After(b.pauseUntil) {
				b.pauseUntil = until
			}
			b.mu.Unlock()
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		var e struct {
			PolicyName string `json:"policyName"`
		}
		_ = json.Unmarshal(body, &e)
		ms, _ := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))
		if e.PolicyName == "TEN_SECONDLY_ROLLING" && ms > 0 {
			// The portal's window is full (someone else is spending it, or
			// the configured limit is too high): hold every request for a
			// quarter of the window rather than retry into it.
			b.mu.Lock()
			if until := g.now().Add(time.Duration(ms) * time.Millisecond / 4); until.After(b.pauseUntil) {
				b.pauseUntil = until
			}
			b.mu.Unlock()
		}
		if e.PolicyName == "DAILY" {
			now := g.now().UTC()
			midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
			b.mu.Lock()
			b.dailyUntil = midnight
			b.mu.Unlock()
			resp.Header.Set("Retry-After", strconv.Itoa(int(midnight.Sub(now).Seconds())+1))
		}
	}
}

// ---- authentication ----

type bearer struct{ token string }

func (b bearer) Apply(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+b.token)
	return nil
}

// oauth refreshes access tokens before they expire (HubSpot says a 401 is
// not a reliable signal) and once more after a 401.
type oauth struct {
	cfg    OAuthConfig
	url    string
	client *httpkit.Client
	now    func() time.Time

	mu      sync.Mutex
	access  string
	expires time.Time
	refresh string
	count   atomic.Int64
}

func (o *oauth) Apply(ctx context.Context, req *http.Request) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.access == "" || o.now().After(o.expires.Add(-60*time.Second)) {
		if err := o.refreshLocked(ctx); err != nil {
			return err
		}
	}
	req.Header.Set("Authorization", "Bearer "+o.access)
	return nil
}

func (o *oauth) Refresh(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.refreshLocked(ctx)
}

func (o *oauth) refreshLocked(ctx context.Context) error {
	if o.refresh == "" {
		o.refresh = o.cfg.RefreshToken
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {o.cfg.ClientID},
		"client_secret": {o.cfg.ClientSecret},
		"refresh_token": {o.refresh},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("building hubspot token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := o.client.Do(ctx, req)
	if err != nil {
		var se *httpkit.StatusError
		if errors.As(err, &se) {
			var e struct {
				Status  string `json:"status"`
				Message string `json:"message"`
			}
			_ = json.Unmarshal(se.Body, &e)
			return adapter.Auth(fmt.Errorf("refreshing hubspot access token: %s: %s", e.Status, e.Message))
		}
		return fmt.Errorf("refreshing hubspot access token: %w", err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		return adapter.Auth(errors.New("refreshing hubspot access token: the token endpoint answered without an access token"))
	}
	o.access = tr.AccessToken
	o.expires = o.now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	if tr.RefreshToken != "" {
		o.refresh = tr.RefreshToken
	}
	o.count.Add(1)
	return nil
}

// ---- error classification ----

// hubspotError is HubSpot's error body (every field optional).
type hubspotError struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	Category      string `json:"category"`
	SubCategory   string `json:"subCategory"`
	ErrorType     string `json:"errorType"`
	PolicyName    string `json:"policyName"`
	CorrelationID string `json:"correlationId"`
}

func classify(status int, h http.Header, body []byte) (adapter.Kind, time.Duration) {
	var e hubspotError
	_ = json.Unmarshal(body, &e)
	switch {
	case status == http.StatusTooManyRequests:
		switch e.PolicyName {
		case "DAILY":
			d, _ := strconv.Atoi(h.Get("Retry-After"))
			return adapter.KindRateLimited, time.Duration(d) * time.Second
		case "SECONDLY":
			return adapter.KindRateLimited, time.Second
		}
		return adapter.KindRateLimited, 10 * time.Second
	case status == http.StatusUnauthorized:
		return adapter.KindAuth, 0
	case status == http.StatusLocked: // 423: wait at least 2s
		return adapter.KindRetryable, 2 * time.Second
	case status == 477: // migration in progress
		d, _ := strconv.Atoi(h.Get("Retry-After"))
		return adapter.KindRetryable, time.Duration(max(d, 1)) * time.Second
	case status >= 521 && status <= 524:
		return adapter.KindRetryable, time.Second
	}
	return adapter.KindUnknown, 0
}

// apiErrorOf returns HubSpot's error body carried by err, if any.
func apiErrorOf(err error) (hubspotError, int, bool) {
	var se *httpkit.StatusError
	if !errors.As(err, &se) {
		return hubspotError{}, 0, false
	}
	var e hubspotError
	_ = json.Unmarshal(se.Body, &e)
	return e, se.StatusCode, true
}

// call sends a JSON request and puts HubSpot's own error category and
// message in front of a failure, keeping the classified error underneath.
func call(ctx context.Context, c *httpkit.Client, method, url string, body, out any) error {
	return explain(c.DoJSON(ctx, method, url, body, out))
}

type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg + " (" + e.err.Error() + ")" }
func (e *explained) Unwrap() error { return e.err }

func explain(err error) error {
	if e, code, ok := apiErrorOf(err); ok && (e.Category != "" || e.Message != "") {
		cat := e.Category
		if cat == "" {
			cat = e.PolicyName
		}
		return &explained{msg: fmt.Sprintf("HubSpot answered %d %s: %s", code, cat, e.Message), err: err}
	}
	return err
}
