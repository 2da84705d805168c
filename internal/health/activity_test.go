package health

import (
	"fmt"
	"testing"
	"time"
)

// TestActivity: the last successful pull and push, the requests counted
// since midnight UTC (reset on the next day) and the newest failures,
// newest first and bounded.
func TestActivity(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)}
	tr := New(Options{Now: c.now}, "hubspot")
	obs := tr.Observer("hubspot", nil)
	for range 3 {
		obs.HTTPRequest("GET", 200, time.Millisecond)
	}
	tr.Done("hubspot", "pull")
	pulled := c.t
	c.t = c.t.Add(30 * time.Minute)
	for i := range RecentErrors + 2 {
		obs.HTTPRequest("POST", 500+i%2, time.Millisecond)
	}
	tr.Done("hubspot", "push")
	s := state(t, tr, "hubspot")
	if !s.LastPull.Equal(pulled) || !s.LastPush.Equal(c.t) {
		t.Errorf("last pull %v, last push %v; want %v and %v", s.LastPull, s.LastPush, pulled, c.t)
	}
	if s.RequestsToday != 3+RecentErrors+2 {
		t.Errorf("requests today %d, want %d", s.RequestsToday, 3+RecentErrors+2)
	}
	if len(s.Recent) != RecentErrors || s.Recent[0].Message != fmt.Sprintf("POST: %d %s", 501, "Not Implemented") {
		t.Errorf("recent errors %+v", s.Recent)
	}
	c.t = c.t.Add(time.Hour) // past midnight UTC
	if s := state(t, tr, "hubspot"); s.RequestsToday != 0 {
		t.Errorf("after midnight, requests today %d, want 0", s.RequestsToday)
	}
	obs.HTTPRequest("GET", 200, time.Millisecond)
	if s := state(t, tr, "hubspot"); s.RequestsToday != 1 {
		t.Errorf("one request into the new day counts %d", s.RequestsToday)
	}
}
