package httpkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Auth puts credentials on a request. It is called before every attempt.
type Auth interface {
	Apply(ctx context.Context, req *http.Request) error
}

// Refresher is an Auth that can renew its credentials after a 401.
type Refresher interface {
	Auth
	Refresh(ctx context.Context) error
}

// Classifier maps a non-2xx response to an adapter error kind; platforms
// with quirks (Salesforce's 403 REQUEST_LIMIT_EXCEEDED) supply one. It
// returns KindUnknown to fall back to the default classification.
type Classifier func(status int, header http.Header, body []byte) (adapter.Kind, time.Duration)

// Hooks observe calls for metrics. Any field may be nil.
type Hooks struct {
	// OnResponse is called after every attempt with its status (0 on a
	// network error) and duration.
	OnResponse func(method string, status int, d time.Duration)
	// OnLimiterWait is called when the rate limiter delayed an attempt.
	OnLimiterWait func(d time.Duration)
}

// ObserverHooks reports a client's attempts and rate-limiter waits to o,
// and to also (when set) first. A nil o reports nothing.
func ObserverHooks(o adapter.HTTPObserver, also Hooks) Hooks {
	if o == nil {
		return also
	}
	return Hooks{
		OnResponse: func(method string, status int, d time.Duration) {
			if also.OnResponse != nil {
				also.OnResponse(method, status, d)
			}
			o.HTTPRequest(method, status, d)
		},
		OnLimiterWait: func(d time.Duration) {
			if also.OnLimiterWait != nil {
				also.OnLimiterWait(d)
			}
			o.RateWait(d)
		},
	}
}

// Options configure a Client. The zero value of every field has a default.
type Options struct {
	Platform      string        // names the platform in logs and errors
	Logger        *slog.Logger  // default: discard
	RetryMax      int           // attempts after the first; default 4, -1 for none
	RetryWaitMin  time.Duration // default 200ms
	RetryWaitMax  time.Duration // default 10s
	MaxRetryAfter time.Duration // longest Retry-After slept on; default 30s
	Timeout       time.Duration // per attempt; default 60s
	Limiter       *rate.Limiter // shared per account; nil means unlimited
	Auth          Auth
	Classify      Classifier
	Secrets       []string // values to redact wherever they appear
	Transport     http.RoundTripper
	Hooks         Hooks
}

// Client sends platform requests with retries, limits, auth and redaction.
type Client struct {
	opts     Options
	rc       *retryablehttp.Client
	redactor *Redactor
	log      *slog.Logger
}

// New builds a Client.
func New(opts Options) *Client {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RetryMax == 0 {
		opts.RetryMax = 4
	} else if opts.RetryMax < 0 {
		opts.RetryMax = 0
	}
	if opts.RetryWaitMin == 0 {
		opts.RetryWaitMin = 200 * time.Millisecond
	}
	if opts.RetryWaitMax == 0 {
		opts.RetryWaitMax = 10 * time.Second
	}
	if opts.MaxRetryAfter == 0 {
		opts.MaxRetryAfter = 30 * time.Second
	}
	if opts.Timeout == 0 {
		opts.Timeout = 60 * time.Second
	}
	base := opts.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	c := &Client{opts: opts, redactor: NewRedactor(opts.Secrets...)}
	c.log = opts.Logger.With("platform", opts.Platform)

	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{
		Timeout:   opts.Timeout,
		Transport: &limitedTransport{base: base, limiter: opts.Limiter, hooks: opts.Hooks},
	}
	rc.RetryMax = opts.RetryMax
	rc.RetryWaitMin = opts.RetryWaitMin
	rc.RetryWaitMax = opts.RetryWaitMax
	rc.Logger = &slogAdapter{log: c.log, r: c.redactor}
	rc.CheckRetry = c.checkRetry
	rc.Backoff = c.backoff
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.PrepareRetry = c.prepare
	rc.RequestLogHook = func(_ retryablehttp.Logger, req *http.Request, attempt int) {
		if attempt > 0 {
			c.log.DebugContext(req.Context(), "retrying request",
				"method", req.Method, "url", c.redactor.URL(req.URL), "attempt", attempt)
		}
	}
	c.rc = rc
	return c
}

// Redactor returns the client's redactor, for callers that log on their own.
func (c *Client) Redactor() *Redactor { return c.redactor }

type callState struct {
	mu        sync.Mutex
	refreshed bool
	start     time.Time
	// The last response checkRetry judged, and its verdict's error (see
	// checkRetry).
	checked  *http.Response
	checkErr error
}

type callKey struct{}

// Do sends req, retrying per policy, and returns the final response when its
// status is 2xx or 3xx; a read's body is then already read whole (see
// AsRead). Any other outcome is an error: a *StatusError
// (carrying the body) wrapped in an adapter.Error of the right kind, or a
// network error classified as retryable. The caller closes the body.
func (c *Client) Do(ctx context.Context, req *http.Request) (*http.Response, error) {
	st := &callState{start: time.Now()}
	ctx = context.WithValue(ctx, callKey{}, st)
	rreq, err := retryablehttp.FromRequest(req.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("preparing %s request: %w", c.opts.Platform, err)
	}
	if err := c.prepare(rreq.Request); err != nil {
		return nil, err
	}
	if isRead(req) {
		rreq.SetResponseHandler(bufferBody)
	}
	resp, err := c.rc.Do(rreq)
	if err != nil {
		if errors.Is(err, errNotJSON) && resp != nil {
			// Still not JSON after every retry: the caller decodes it and
			// says what is wrong.
			return resp, nil
		}
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ae *adapter.Error
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, adapter.Retryable(fmt.Errorf("calling %s %s %s: %s", c.opts.Platform, req.Method,
			c.redactor.URL(req.URL), c.redactor.String(err.Error())))
	}
	if resp.StatusCode < 400 {
		return resp, nil
	}
	return nil, c.statusError(resp)
}

type readKey struct{}

// AsRead marks the requests sent with the returned context as reads even
// when their method is not GET, HEAD or OPTIONS (a search sent as POST):
// sending them again is harmless, so a broken answer body is retried.
func AsRead(ctx context.Context) context.Context {
	return context.WithValue(ctx, readKey{}, true)
}

func isRead(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	v, _ := req.Context().Value(readKey{}).(bool)
	return v
}

// errNotJSON marks a 2xx answer that says it is JSON and is not, or an
// HTML page where JSON was asked for.
var errNotJSON = errors.New("the answer body is not valid JSON")

// bufferBody reads a read's successful answer within the attempt, so that
// a connection reset mid-body, a body cut short of its framing, or a JSON
// answer that does not parse (a proxy that truncated it) is an error of
// the attempt, which checkRetry retries like a network error or a 5xx.
// The body is handed on from memory.
func bufferBody(resp *http.Response) error {
	if resp.StatusCode >= 400 || resp.Body == nil {
		return nil // statusError reads error answers
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("reading the answer body (%d bytes read): %w", len(data), err)
	}
	ct := resp.Header.Get("Content-Type")
	if len(data) > 0 && (isJSON(ct) || asksJSON(resp.Request) && isHTML(ct)) && !json.Valid(data) {
		return fmt.Errorf("%w (%d bytes)", errNotJSON, len(data))
	}
	return nil
}

// asksJSON reports whether the request asked for a JSON answer: an HTML
// page in its place is a proxy's, a firewall's or a gateway's, not the
// platform's answer, and worth asking again.
func asksJSON(req *http.Request) bool {
	return req != nil && isJSON(req.Header.Get("Accept"))
}

func isHTML(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "text/html" || mt == "application/xhtml+xml")
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// DoJSON sends body (when non-nil) as JSON and decodes a 2xx answer into out
// (when non-nil).
func (c *Client) DoJSON(ctx context.Context, method, url string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding %s request body: %w", c.opts.Platform, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return fmt.Errorf("building %s request: %s", c.opts.Platform, c.redactor.String(err.Error()))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		if !isRead(req) {
			return adapter.Retryable(fmt.Errorf("%w: reading %s %s %s response: %w", ErrAnswerUnread, c.opts.Platform, method, c.redactor.URL(req.URL), err))
		}
		return adapter.Retryable(fmt.Errorf("reading %s %s response: %w", c.opts.Platform, c.redactor.URL(req.URL), err))
	}
	if err := json.Unmarshal(data, out); err != nil {
		if !isRead(req) {
			// The platform answered 2xx: it may well have applied the
			// write. What it did is unknown, not refused.
			return adapter.Retryable(fmt.Errorf("%w: decoding %s %s %s response: %w (body starts %q)", ErrAnswerUnread,
				c.opts.Platform, method, c.redactor.URL(req.URL), err, c.redactor.String(snippet(data))))
		}
		return adapter.Permanent(fmt.Errorf("decoding %s %s response: %w (body starts %q)",
			c.opts.Platform, c.redactor.URL(req.URL), err, c.redactor.String(snippet(data))))
	}
	return nil
}

// ErrAnswerUnread is wrapped by the error of a write whose 2xx answer
// could not be read or decoded (a connection reset mid-body, a body cut
// short, garbage in place of JSON). The platform may have applied the
// write in whole or in part: the error is retryable, so the caller sends
// the state again and records the attempt's effect as unknown rather than
// refused.
var ErrAnswerUnread = errors.New("the answer to a write could not be read, so whether the platform applied it is unknown")

func (c *Client) prepare(req *http.Request) error {
	if c.opts.Auth == nil {
		return nil
	}
	if err := c.opts.Auth.Apply(req.Context(), req); err != nil {
		return adapter.Auth(fmt.Errorf("authenticating %s request: %w", c.opts.Platform, err))
	}
	return nil
}

// checkRetry is the retry policy per failure class. retryablehttp asks
// it a second time about a response it did not retry once the response
// handler (bufferBody) has run; when the handler found nothing wrong, the
// first verdict stands (asking again would lose its error, or refresh
// credentials twice).
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st, _ := ctx.Value(callKey{}).(*callState)
	if st != nil && err == nil && resp != nil && st.checked == resp {
		return false, st.checkErr
	}
	retry, cerr := c.decide(ctx, resp, err)
	if st != nil {
		st.checked, st.checkErr = resp, cerr
	}
	return retry, cerr
}

// decide is checkRetry's policy.
func (c *Client) decide(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		var ae *adapter.Error
		if errors.As(err, &ae) && !adapter.IsRetryable(err) {
			return false, err
		}
		// Network errors (refused, reset, timeout) are worth another try.
		return true, nil
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		r, ok := c.opts.Auth.(Refresher)
		st, _ := ctx.Value(callKey{}).(*callState)
		if !ok || st == nil {
			return false, nil
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.refreshed {
			return false, nil
		}
		st.refreshed = true
		if rerr := r.Refresh(ctx); rerr != nil {
			return false, adapter.Auth(fmt.Errorf("refreshing %s credentials: %s", c.opts.Platform, c.redactor.String(rerr.Error())))
		}
		return true, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		if d, ok := retryAfter(resp.Header); ok && d > c.opts.MaxRetryAfter {
			return false, nil // the caller's scheduler waits, not this goroutine
		}
		return true, nil
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return true, nil
	default:
		if c.opts.Classify != nil && resp.StatusCode >= 400 {
			body := peekBody(resp)
			if k, _ := c.opts.Classify(resp.StatusCode, resp.Header, body); k == adapter.KindRetryable || k == adapter.KindRateLimited {
				return true, nil
			}
		}
		return false, nil
	}
}

// backoff honours Retry-After up to MaxRetryAfter and otherwise waits
// exponentially with full jitter.
func (c *Client) backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp.Header); ok {
			return min2(d, c.opts.MaxRetryAfter)
		}
	}
	exp := min << min2(attempt, 20)
	if exp > max || exp <= 0 {
		exp = max
	}
	return min + time.Duration(rand.Int64N(int64(exp-min)+1))
}

func min2[T int | time.Duration](a, b T) T {
	if a < b {
		return a
	}
	return b
}

// retryAfter parses a Retry-After header given in seconds or as an HTTP date.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := time.Until(t)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// peekBody reads the body and puts it back so it can be read again.
func peekBody(resp *http.Response) []byte {
	if resp.Body == nil {
		return nil
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return data
}

func snippet(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// limitedTransport waits on the account's limiter before every attempt.
type limitedTransport struct {
	base    http.RoundTripper
	limiter *rate.Limiter
	hooks   Hooks
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.limiter != nil {
		start := time.Now()
		if err := t.limiter.Wait(req.Context()); err != nil {
			return nil, fmt.Errorf("waiting for rate budget: %w", err)
		}
		if d := time.Since(start); d > time.Millisecond && t.hooks.OnLimiterWait != nil {
			t.hooks.OnLimiterWait(d)
		}
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if t.hooks.OnResponse != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.hooks.OnResponse(req.Method, status, time.Since(start))
	}
	return resp, err
}
