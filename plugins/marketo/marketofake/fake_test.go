package marketofake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func token(t *testing.T, f *Fake) string {
	t.Helper()
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.ClientID}, "client_secret": {f.ClientSecret}}
	resp, err := http.Get(f.URL + "/identity/oauth/token?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" || body.ExpiresIn > TokenLifetime {
		t.Fatalf("token answer %+v (%v)", body, err)
	}
	return body.AccessToken
}

// call sends one REST call and returns the first error code ("" on
// success); Marketo answers errors with HTTP 200.
func call(t *testing.T, f *Fake, tok, method, path, body string) string {
	t.Helper()
	req, _ := http.NewRequest(method, f.URL+path, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return "transport"
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("%s %s: status %d (%v)", method, path, resp.StatusCode, err)
		return "decode"
	}
	if env.Success {
		return ""
	}
	return env.Errors[0].Code
}

// The fake answers as Marketo's "Error Codes" page says: 600/601/602 for
// a missing, unknown or expired token; 606 past 100 calls in 20 s; 607
// past the daily quota; 615 past 10 calls in flight; 1003 for a batch
// over 300; refused calls are not counted.
func TestErrorCodes(t *testing.T) {
	f := Start(t.Cleanup)
	f.Seed(3)
	describe := "/rest/v1/leads/describe2.json"
	if c := call(t, f, "", "GET", describe, ""); c != "600" {
		t.Errorf("no token: %q, want 600", c)
	}
	if c := call(t, f, "nope", "GET", describe, ""); c != "601" {
		t.Errorf("unknown token: %q, want 601", c)
	}
	tok := token(t, f)
	if again := token(t, f); again != tok {
		t.Errorf("asking again before expiry gave another token")
	}
	var big []string
	for i := range 301 {
		big = append(big, fmt.Sprintf(`{"email":"x%d@example.com"}`, i))
	}
	// A call refused for its batch size is a counted call (only 6xx
	// refusals are not counted).
	if c := call(t, f, tok, "POST", "/rest/v1/leads.json", `{"input":[`+strings.Join(big, ",")+`]}`); c != "1003" {
		t.Errorf("301 leads in one sync: %q, want 1003", c)
	}
	for i := 2; i <= WindowCalls; i++ {
		if c := call(t, f, tok, "GET", describe, ""); c != "" {
			t.Fatalf("counted call %d: %q", i, c)
		}
	}
	if c := call(t, f, tok, "GET", describe, ""); c != "606" {
		t.Errorf("the 101st call in 20 s: %q, want 606", c)
	}
	if s := f.Stats(); s.Counted != WindowCalls {
		t.Errorf("counted %d calls, want %d (refused ones are not)", s.Counted, WindowCalls)
	}
	f.mu.Lock()
	f.calls = nil // a new window
	f.mu.Unlock()
	f.SetQuotaUsed(DailyQuota)
	if c := call(t, f, tok, "GET", describe, ""); c != "607" {
		t.Errorf("past the daily quota: %q, want 607", c)
	}
	f.ResetDay()
	f.ExpireTokens()
	if c := call(t, f, tok, "GET", describe, ""); c != "602" {
		t.Errorf("expired token: %q, want 602", c)
	}
	tok = token(t, f)

	// Eleven calls at once: the lock holds them all in flight, so the
	// first to be answered sees 11 and gets 615.
	f.mu.Lock()
	codes := make(chan string, MaxConcurrent+1)
	var wg sync.WaitGroup
	for range MaxConcurrent + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- call(t, f, tok, "GET", describe, "")
		}()
	}
	for f.inflight.Load() < MaxConcurrent+1 {
		time.Sleep(time.Millisecond)
	}
	f.mu.Unlock()
	wg.Wait()
	close(codes)
	n := 0
	for c := range codes {
		if c == "615" {
			n++
		}
	}
	if n == 0 {
		t.Error("eleven calls in flight: none got 615")
	}
}
