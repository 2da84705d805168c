package woocommercefake

import (
	"net/http"

	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
	"golang.org/x/time/rate"
)

// defaultFaults are what SetRate draws from when given no kinds: what a
// WooCommerce store's clients meet in the wild (a host's rate limiter, an
// overloaded PHP pool, a firewall page, a dropped connection).
func defaultFaults() []fakekit.Fault {
	return []fakekit.Fault{
		{Status: http.StatusTooManyRequests},
		{Status: http.StatusServiceUnavailable, RetryAfter: "0"},
		{Status: http.StatusServiceUnavailable, Page: true},
		{Reset: true},
	}
}

// platformError writes WordPress's REST error body for an injected status.
func platformError(w http.ResponseWriter, _ *http.Request, status int) {
	switch status {
	case http.StatusTooManyRequests:
		writeError(w, status, "woocommerce_rest_too_many_requests", "Too many requests. Please wait and try again.", nil)
	case http.StatusNotFound:
		writeError(w, status, "rest_no_route", "No route was found matching the URL and request method.", nil)
	default:
		writeError(w, status, "internal_server_error", "The server is temporarily unavailable.", nil)
	}
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

// throttle answers 429 when the host's rate limiter refuses r.
func (f *Fake) throttle(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	refused := f.limiter != nil && !f.limiter.Allow()
	if refused {
		f.throttled++
	}
	f.mu.Unlock()
	if refused {
		w.Header().Set("Retry-After", "1")
		platformError(w, r, http.StatusTooManyRequests)
	}
	return refused
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
