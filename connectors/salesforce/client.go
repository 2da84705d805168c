package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// apiErrorItem is one element of the data API's error array.
type apiErrorItem struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields"`
}

// errorCodes parses a Salesforce error body (an array of {message,
// errorCode}); it returns nil for anything else.
func errorCodes(body []byte) []apiErrorItem {
	var items []apiErrorItem
	if json.Unmarshal(body, &items) != nil {
		return nil
	}
	return items
}

// classify maps Salesforce's error codes to adapter kinds: the 403
// REQUEST_LIMIT_EXCEEDED is a rate limit, not an auth failure; a 401
// that survives httpkit's one refresh is a session that expired again and
// worth another try; lock contention is transient.
func (c *Connector) classify(status int, _ http.Header, body []byte) (adapter.Kind, time.Duration) {
	for _, e := range errorCodes(body) {
		switch e.ErrorCode {
		case "REQUEST_LIMIT_EXCEEDED":
			if status == http.StatusTooManyRequests {
				return adapter.KindUnknown, 0 // a burst limit: httpkit honours its Retry-After
			}
			return adapter.KindRateLimited, c.cfg.QuotaRecheck
		case "INVALID_SESSION_ID":
			return adapter.KindRetryable, 0
		case "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE":
			return adapter.KindRetryable, 0
		case "INSUFFICIENT_ACCESS", "API_DISABLED_FOR_ORG", "INVALID_AUTH_HEADER", "INSUFFICIENT_ACCESS_OR_READONLY":
			return adapter.KindAuth, 0
		}
	}
	return adapter.KindUnknown, 0
}

// ---- quota ----

type priorityKey struct{}

// withPullPriority marks calls that give way to write-back and webhooks
// once the pull share of the daily limit is spent.
func withPullPriority(ctx context.Context) context.Context {
	return context.WithValue(ctx, priorityKey{}, true)
}

func isPull(ctx context.Context) bool { v, _ := ctx.Value(priorityKey{}).(bool); return v }

// quotaError is returned by the quota transport instead of a request; it
// is carried out of httpkit as a non-retryable error and turned into
// adapter.RateLimited by the connector.
type quotaError struct {
	used, max int
	pull      bool
}

func (e *quotaError) Error() string {
	if e.pull {
		return fmt.Sprintf("salesforce daily API usage %d/%d reached the share reserved for pulls", e.used, e.max)
	}
	return fmt.Sprintf("salesforce daily API request limit exhausted (%d/%d)", e.used, e.max)
}

// quota tracks the org's daily API usage from Sforce-Limit-Info.
type quota struct {
	mu   sync.Mutex
	used int
	max  int
	seen time.Time
}

func (q *quota) observe(h http.Header, now time.Time) {
	v := h.Get("Sforce-Limit-Info")
	if v == "" {
		return
	}
	for _, part := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k != "api-usage" {
			continue
		}
		u, m, ok := strings.Cut(val, "/")
		if !ok {
			continue
		}
		used, err1 := strconv.Atoi(u)
		max, err2 := strconv.Atoi(m)
		if err1 != nil || err2 != nil || max <= 0 {
			continue
		}
		q.set(used, max, now)
	}
}

func (q *quota) set(used, max int, now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.used, q.max, q.seen = used, max, now
}

func (q *quota) snapshot() (used, max int, seen time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.used, q.max, q.seen
}

// quotaTransport refuses pull calls beyond the pull share and turns the
// platform's 403 REQUEST_LIMIT_EXCEEDED into a quotaError, so neither is
// retried by httpkit.
type quotaTransport struct {
	base  http.RoundTripper
	q     *quota
	share float64
	now   func() time.Time
}

func (t *quotaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if isPull(req.Context()) {
		used, max, _ := t.q.snapshot()
		if max > 0 && float64(used) >= t.share*float64(max) {
			return nil, adapter.Permanent(&quotaError{used: used, max: max, pull: true})
		}
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	t.q.observe(resp.Header, t.now())
	if resp.StatusCode == http.StatusForbidden {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		for _, e := range errorCodes(body) {
			if e.ErrorCode == "REQUEST_LIMIT_EXCEEDED" {
				_, max, _ := t.q.snapshot()
				if max > 0 {
					t.q.set(max, max, t.now())
				}
				return nil, adapter.Permanent(&quotaError{used: max, max: max})
			}
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}

// mapErr turns a quota refusal into adapter.RateLimited and adds context.
func (c *Connector) mapErr(err error, doing string) error {
	if err == nil {
		return nil
	}
	var qe *quotaError
	if errors.As(err, &qe) {
		return adapter.RateLimited(c.cfg.QuotaRecheck, fmt.Errorf("%s: %w", doing, qe))
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// ---- calls ----

// dataURL returns the absolute URL of a data API path such as "/query".
func (c *Connector) dataURL(ctx context.Context, path string) (string, error) {
	inst, _, _, err := c.ts.session(ctx)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(path, "/services/") {
		return inst + path, nil
	}
	return inst + "/services/data/" + c.cfg.APIVersion + path, nil
}

// getJSON GETs a data API path into out, decoding numbers exactly.
func (c *Connector) getJSON(ctx context.Context, path string, hdr http.Header, out any) error {
	u, err := c.dataURL(ctx, path)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("building salesforce request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.client.Do(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return adapter.Retryable(fmt.Errorf("reading salesforce response: %w", err))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return adapter.Retryable(fmt.Errorf("decoding salesforce response: %w", err))
	}
	return nil
}

// sendJSON sends a body and decodes the answer (out may be nil).
func (c *Connector) sendJSON(ctx context.Context, method, path string, body, out any) error {
	u, err := c.dataURL(ctx, path)
	if err != nil {
		return err
	}
	return c.client.DoJSON(ctx, method, u, body, out)
}

type queryResult struct {
	TotalSize      int              `json:"totalSize"`
	Done           bool             `json:"done"`
	NextRecordsURL string           `json:"nextRecordsUrl"`
	Records        []map[string]any `json:"records"`
}

// queryPages runs a SOQL query and calls fn with each batch of records
// (numbers kept as json.Number, so money stays exact); all selects
// queryAll (deleted and archived rows included).
func (c *Connector) queryPages(ctx context.Context, soql string, all bool, batch int, fn func(recs []map[string]any) error) error {
	kind := "/query"
	if all {
		kind = "/queryAll"
	}
	hdr := http.Header{}
	if batch > 0 {
		hdr.Set("Sforce-Query-Options", "batchSize="+strconv.Itoa(batch))
	}
	path := kind + "?q=" + queryEscape(soql)
	for {
		var res queryResult
		if err := c.getJSON(ctx, path, hdr, &res); err != nil {
			return err
		}
		if err := fn(res.Records); err != nil {
			return err
		}
		if res.Done || res.NextRecordsURL == "" {
			return nil
		}
		path = res.NextRecordsURL
	}
}

// count runs SELECT COUNT() and returns totalSize.
func (c *Connector) count(ctx context.Context, soql string) (int, error) {
	var res queryResult
	if err := c.getJSON(ctx, "/query?q="+queryEscape(soql), nil, &res); err != nil {
		return 0, err
	}
	return res.TotalSize, nil
}

// refreshQuota asks /limits for the daily usage.
func (c *Connector) refreshQuota(ctx context.Context) error {
	var lim struct {
		Daily struct {
			Max       int `json:"Max"`
			Remaining int `json:"Remaining"`
		} `json:"DailyApiRequests"`
	}
	// Asking for the usage must not be refused by the pull guard.
	ctx = context.WithValue(ctx, priorityKey{}, false)
	if err := c.getJSON(ctx, "/limits", nil, &lim); err != nil {
		return err
	}
	if lim.Daily.Max > 0 {
		c.quota.set(lim.Daily.Max-lim.Daily.Remaining, lim.Daily.Max, c.now())
	}
	return nil
}

// checkPullQuota stops a pull when the pull share of the daily limit is
// spent, asking /limits again once QuotaRecheck has passed so a pull
// resumes after the rolling window frees requests.
func (c *Connector) checkPullQuota(ctx context.Context) error {
	used, max, seen := c.quota.snapshot()
	if max == 0 || float64(used) < c.cfg.PullShare*float64(max) {
		return nil
	}
	if c.now().Sub(seen) >= c.cfg.QuotaRecheck {
		if err := c.refreshQuota(ctx); err != nil {
			return c.mapErr(err, "checking salesforce limits")
		}
		used, max, _ = c.quota.snapshot()
		if float64(used) < c.cfg.PullShare*float64(max) {
			return nil
		}
	}
	return adapter.RateLimited(c.cfg.QuotaRecheck, fmt.Errorf("pausing salesforce pull: %w", &quotaError{used: used, max: max, pull: true}))
}
