package woocommerce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// apiError is WooCommerce's error body: {code, message, data:{status, params}}.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Status int               `json:"status"`
		Params map[string]string `json:"params"`
	} `json:"data"`
}

// wooError is a non-2xx answer explained: the platform's code and message
// when the body was WooCommerce JSON, or a note that an HTML page came
// back instead. It unwraps to the *httpkit.StatusError.
type wooError struct {
	op     string
	status int
	code   string
	msg    string
	html   string // page title when the body was HTML
	se     *httpkit.StatusError
}

func (e *wooError) Error() string {
	switch {
	case e.html != "" || e.code == "" && e.msg == "":
		what := "an HTML page"
		if e.html != "" && e.html != "-" {
			what += fmt.Sprintf(" (%q)", e.html)
		}
		if e.code == "" && e.html == "" {
			what = "a body that is not a WooCommerce error"
		}
		return fmt.Sprintf("%s: HTTP %d with %s instead of a JSON answer; a firewall, proxy or maintenance page answered", e.op, e.status, what)
	default:
		return fmt.Sprintf("%s: HTTP %d %s: %s", e.op, e.status, e.code, e.msg)
	}
}

func (e *wooError) Unwrap() error { return e.se }

var titleRE = regexp.MustCompile(`(?is)<title>\s*(.*?)\s*</title>`)

func looksHTML(contentType string, body []byte) (bool, string) {
	b := bytes.TrimSpace(body)
	if strings.Contains(strings.ToLower(contentType), "text/html") || (len(b) > 0 && b[0] == '<') {
		title := "-"
		if m := titleRE.FindSubmatch(b); m != nil {
			title = string(m[1])
		}
		return true, title
	}
	return false, ""
}

// classify maps WooCommerce answers to adapter kinds where the status
// alone misleads: an HTML page from a firewall (any status) is transient,
// 401/403 JSON errors are auth, a 413 batch refusal is permanent.
func classify(status int, h http.Header, body []byte) (adapter.Kind, time.Duration) {
	if html, _ := looksHTML(h.Get("Content-Type"), body); html {
		if status == http.StatusTooManyRequests {
			return adapter.KindRateLimited, retryAfterHeader(h, 10*time.Second)
		}
		if status == http.StatusForbidden || status >= 500 || status == http.StatusRequestTimeout {
			return adapter.KindRetryable, retryAfterHeader(h, 0)
		}
	}
	return adapter.KindUnknown, 0
}

func retryAfterHeader(h http.Header, def time.Duration) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return def
}

// api is the thin WooCommerce REST client over httpkit.
type api struct {
	hc   *httpkit.Client
	base string // store URL + /wp-json/wc/v3
}

// explain rewraps an httpkit error with WooCommerce's code and message (or
// the HTML note), keeping its adapter kind.
func explain(op string, err error) error {
	var ae *adapter.Error
	var se *httpkit.StatusError
	if !errors.As(err, &se) || !errors.As(err, &ae) {
		return fmt.Errorf("%s: %w", op, err)
	}
	we := &wooError{op: op, status: se.StatusCode, se: se}
	if html, title := looksHTML(se.Header.Get("Content-Type"), se.Body); html {
		we.html = title
	} else {
		var body apiError
		if json.Unmarshal(se.Body, &body) == nil {
			we.code, we.msg = body.Code, body.Message
			for p, m := range body.Data.Params {
				we.msg += fmt.Sprintf(" (%s: %s)", p, m)
			}
		}
	}
	return &adapter.Error{Kind: ae.Kind, RetryAfter: ae.RetryAfter, Err: we}
}

// do sends one request and decodes a JSON answer into out. It returns the
// response headers (for paging and Date).
func (a *api) do(ctx context.Context, op, method, path string, q url.Values, body, out any) (http.Header, error) {
	h, data, err := a.send(ctx, op, method, path, q, body)
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, adapter.Retryable(fmt.Errorf("%s: decoding answer: %w (body starts %q)", op, err, snippet(data)))
		}
	}
	return h, nil
}

// send sends one request and returns the headers and body of a 2xx answer
// that is not an HTML page.
func (a *api) send(ctx context.Context, op, method, path string, q url.Values, body any) (http.Header, []byte, error) {
	u := a.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: encoding body: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: building request: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(ctx, req)
	if err != nil {
		return nil, nil, explain(op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, adapter.Retryable(fmt.Errorf("%s: reading answer: %w", op, err))
	}
	if html, title := looksHTML(resp.Header.Get("Content-Type"), data); html {
		return nil, nil, adapter.Retryable(&wooError{op: op, status: resp.StatusCode, html: title})
	}
	return resp.Header, data, nil
}

// get sends a GET and returns the headers and the raw JSON body, left for
// the caller's decoder to validate (an HTML page is an error, as in do).
func (a *api) get(ctx context.Context, op, path string, q url.Values) (http.Header, []byte, error) {
	return a.send(ctx, op, http.MethodGet, path, q, nil)
}

func snippet(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}

// pageInfo is what a collection answer says about itself.
type pageInfo struct {
	total, totalPages int
	date              time.Time
}

func readPageInfo(h http.Header) pageInfo {
	p := pageInfo{total: -1, totalPages: -1}
	if n, err := strconv.Atoi(h.Get("X-WP-Total")); err == nil {
		p.total = n
	}
	if n, err := strconv.Atoi(h.Get("X-WP-TotalPages")); err == nil {
		p.totalPages = n
	}
	if t, err := http.ParseTime(h.Get("Date")); err == nil {
		p.date = t.UTC()
	}
	return p
}
