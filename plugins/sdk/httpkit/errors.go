package httpkit

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// StatusError is a non-2xx answer from a platform. Body holds up to 64 KiB of
// the response, redacted, for the connector to parse platform error codes.
type StatusError struct {
	Platform   string
	Method     string
	URL        string // redacted
	StatusCode int
	Header     http.Header
	Body       []byte
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s %s: HTTP %d: %s", e.Platform, e.Method, e.URL, e.StatusCode, snippet(e.Body))
}

// statusError reads and closes resp and classifies it.
func (c *Client) statusError(resp *http.Response) error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	body = []byte(c.redactor.String(string(body)))
	se := &StatusError{
		Platform:   c.opts.Platform,
		Method:     resp.Request.Method,
		URL:        c.redactor.URL(resp.Request.URL),
		StatusCode: resp.StatusCode,
		Header:     resp.Header.Clone(),
		Body:       body,
	}
	kind, wait := adapter.KindUnknown, time.Duration(0)
	if c.opts.Classify != nil {
		kind, wait = c.opts.Classify(resp.StatusCode, resp.Header, body)
	}
	if kind == adapter.KindUnknown {
		kind, wait = DefaultClassify(resp.StatusCode, resp.Header)
	}
	c.log.Debug("platform error", "method", se.Method, "url", se.URL, "status", se.StatusCode, "kind", kind.String())
	return &adapter.Error{Kind: kind, RetryAfter: wait, Err: se}
}

// DefaultClassify maps HTTP statuses to error kinds: 401 and 403 are auth,
// 429 is rate-limited (with its Retry-After), 408 and 5xx are retryable,
// any other 4xx is permanent.
func DefaultClassify(status int, h http.Header) (adapter.Kind, time.Duration) {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return adapter.KindAuth, 0
	case status == http.StatusTooManyRequests:
		d, ok := retryAfter(h)
		if !ok {
			d = 10 * time.Second
		}
		return adapter.KindRateLimited, d
	case status == http.StatusRequestTimeout || status >= 500:
		d, _ := retryAfter(h)
		return adapter.KindRetryable, d
	default:
		return adapter.KindPermanent, 0
	}
}
