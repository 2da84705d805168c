package health

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func state(t *testing.T, tr *Tracker, name string) Status {
	t.Helper()
	for _, s := range tr.Snapshot() {
		if s.Platform == name {
			return s
		}
	}
	t.Fatalf("no status for %s", name)
	return Status{}
}

func TestAuthFailureFailsAtOnceAndIsLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	tr := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: c.now}, "hubspot", "woocommerce")
	if s := state(t, tr, "hubspot"); s.State != Unknown {
		t.Fatalf("before anything: %s", s.State)
	}
	obs := tr.Observer("hubspot", nil)
	obs.HTTPRequest("GET", 200, time.Millisecond)
	start := c.t.Add(time.Minute)
	c.t = start
	for range 50 { // a wrong token: every retry and every loop answers 401
		obs.HTTPRequest("GET", 401, time.Millisecond)
		c.t = c.t.Add(time.Second)
	}
	s := state(t, tr, "hubspot")
	if s.State != Failing || !s.Since.Equal(start) || s.ErrorKind != "auth" || s.Errors["auth"] != 50 ||
		!strings.Contains(s.LastError, "401 Unauthorized") {
		t.Fatalf("after 401s: %+v", s)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines for one state change:\n%s", n, logs.String())
	}
	obs.HTTPRequest("GET", 404, time.Millisecond) // about one record: no news
	if state(t, tr, "hubspot").State != Failing {
		t.Error("a 404 changed the state")
	}
	obs.HTTPRequest("GET", 200, time.Millisecond)
	if s := state(t, tr, "hubspot"); s.State != OK || !strings.Contains(logs.String(), "platform recovered") {
		t.Errorf("after a success: %+v\n%s", s, logs.String())
	}
	if state(t, tr, "woocommerce").State != Unknown {
		t.Error("another platform moved")
	}
}

func TestOutagesDegradeThenFail(t *testing.T) {
	tr := New(Options{DegradedAfter: 3, FailingAfter: 5}, "salesforce")
	err := adapter.Retryable(errors.New("503 Service Unavailable"))
	want := []string{Unknown, Unknown, Unknown, Degraded, Degraded, Failing} // after 0…5 failures
	for i, w := range want {
		if i > 0 {
			tr.Failure("salesforce", "pull", err)
		}
		if got := state(t, tr, "salesforce").State; got != w {
			t.Fatalf("after %d failures: %s, want %s", i, got, w)
		}
	}
	tr.Failure("salesforce", "pull", adapter.RateLimited(time.Second, errors.New("429")))
	if got := state(t, tr, "salesforce").State; got != Failing {
		t.Errorf("a 429 lifted a failing platform to %s", got)
	}
	tr.Success("salesforce")
	tr.Failure("salesforce", "push", adapter.RateLimited(time.Second, errors.New("429")))
	if s := state(t, tr, "salesforce"); s.State != Degraded || !strings.HasPrefix(s.LastError, "push: ") {
		t.Errorf("rate limited: %+v", s)
	}
}
