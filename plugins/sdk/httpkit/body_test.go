package httpkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// A broken answer, as a real connection delivers it.
type breakage int

const (
	resetMidBody  breakage = iota // headers and part of the body, then RST
	cutShort                      // Content-Length promises more than arrives, then FIN
	chunkedCut                    // chunked body without its last chunk, then FIN
	truncatedJSON                 // honest framing around half a JSON document
	htmlPage                      // a gateway's HTML page under 200 in place of the JSON
	whole                         // the full answer
)

const page = `{"items":[{"id":1,"email":"a@example.com"},{"id":2,"email":"b@example.com"}],"next":"abc"}`

// breakingServer answers attempt n with plan[n] (the last entry repeats),
// writing raw HTTP on the hijacked connection.
func breakingServer(t *testing.T, plan ...breakage) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1)) - 1
		_, _ = io.Copy(io.Discard, r.Body)
		b := plan[min(n, len(plan)-1)]
		if b == whole {
			w.Header().Set("Content-Type", "application/json; charset=UTF-8")
			_, _ = io.WriteString(w, page)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		half := page[:len(page)/2]
		switch b {
		case resetMidBody:
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(page), half)
			_ = buf.Flush()
			_ = conn.(*net.TCPConn).SetLinger(0) // close sends RST
		case cutShort:
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(page), half)
		case chunkedCut:
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(half), half)
		case htmlPage:
			html := "<html><body><h1>504 Gateway Time-out</h1></body></html>"
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(html), html)
		case truncatedJSON:
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(half), half)
		}
		_ = buf.Flush()
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestReadsRetryBrokenBodies(t *testing.T) {
	srv, calls := breakingServer(t, resetMidBody, cutShort, chunkedCut, truncatedJSON, htmlPage, whole)
	c := httpkit.New(fastOpts(func(o *httpkit.Options) { o.RetryMax = 5 }))
	var out struct {
		Items []struct{ ID int }
		Next  string
	}
	if err := c.DoJSON(context.Background(), http.MethodGet, srv.URL, nil, &out); err != nil {
		t.Fatalf("GET after a reset, two short bodies, a truncated JSON and an HTML page: %v", err)
	}
	if len(out.Items) != 2 || out.Next != "abc" || calls.Load() != 6 {
		t.Fatalf("got %+v after %d attempts, want the whole page after 6", out, calls.Load())
	}

	// Callers that read the body themselves get it whole too.
	srv, calls = breakingServer(t, resetMidBody, whole)
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(data) != page || calls.Load() != 2 {
		t.Fatalf("body %q err %v after %d attempts", data, err, calls.Load())
	}
}

func TestReadBodyRetriesAreBounded(t *testing.T) {
	srv, calls := breakingServer(t, resetMidBody)
	c := httpkit.New(fastOpts(func(o *httpkit.Options) { o.RetryMax = 3 }))
	err := c.DoJSON(context.Background(), http.MethodGet, srv.URL, nil, &json.RawMessage{})
	if !adapter.IsRetryable(err) || calls.Load() != 4 {
		t.Fatalf("err %v (retryable %v) after %d attempts, want a retryable error after 4", err, adapter.IsRetryable(err), calls.Load())
	}
	if !strings.Contains(err.Error(), "reading the answer body") {
		t.Fatalf("error does not say the body broke: %v", err)
	}
	// A body that stays unparsable is handed to the caller after the
	// retries, whose decoder names the problem as before.
	srv, calls = breakingServer(t, truncatedJSON)
	err = c.DoJSON(context.Background(), http.MethodGet, srv.URL, nil, &json.RawMessage{})
	if err == nil || !strings.Contains(err.Error(), "decoding test") || calls.Load() != 4 {
		t.Fatalf("err %v after %d attempts, want a decoding error after 4", err, calls.Load())
	}
}

// TestBrokenAnswersToWritesAreUnknownNotRefused: a write whose 2xx answer
// cannot be read may have been applied; it is not sent again by the
// client, but its error is retryable and says the outcome is unknown, so
// the write-back does not park it as refused.
func TestBrokenAnswersToWritesAreUnknownNotRefused(t *testing.T) {
	for name, b := range map[string]breakage{"reset mid-body": resetMidBody, "cut short": cutShort, "chunked cut": chunkedCut, "truncated JSON": truncatedJSON} {
		t.Run(name, func(t *testing.T) {
			srv, calls := breakingServer(t, b, whole)
			c := httpkit.New(fastOpts(nil))
			err := c.DoJSON(context.Background(), http.MethodPost, srv.URL, map[string]int{"x": 1}, &json.RawMessage{})
			if err == nil || calls.Load() != 1 {
				t.Fatalf("err %v after %d attempts, want an error after 1", err, calls.Load())
			}
			if k := adapter.KindOf(err); k != adapter.KindRetryable || !errors.Is(err, httpkit.ErrAnswerUnread) {
				t.Fatalf("kind %s, unread %v (%v); want a retryable ErrAnswerUnread", k, errors.Is(err, httpkit.ErrAnswerUnread), err)
			}
		})
	}
}

func TestWritesAreNotResentOnBrokenBodies(t *testing.T) {
	srv, calls := breakingServer(t, resetMidBody, whole)
	c := httpkit.New(fastOpts(nil))
	err := c.DoJSON(context.Background(), http.MethodPost, srv.URL, map[string]int{"x": 1}, &json.RawMessage{})
	if err == nil || calls.Load() != 1 {
		t.Fatalf("a write whose answer broke: err %v after %d attempts, want an error after 1", err, calls.Load())
	}
	// A search sent as POST is a read when the caller says so.
	srv, calls = breakingServer(t, cutShort, whole)
	var out json.RawMessage
	if err := c.DoJSON(httpkit.AsRead(context.Background()), http.MethodPost, srv.URL, map[string]int{"x": 1}, &out); err != nil || calls.Load() != 2 {
		t.Fatalf("a POST read: err %v after %d attempts, want success after 2", err, calls.Load())
	}
}

type failingRefresher struct{ refreshes atomic.Int32 }

func (r *failingRefresher) Apply(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer revoked")
	return nil
}

func (r *failingRefresher) Refresh(context.Context) error {
	r.refreshes.Add(1)
	return errors.New("BAD_REFRESH_TOKEN")
}

// Reading a read's body must not make the retry policy judge an answer
// twice: a failed credential refresh after a 401 stays the error.
func TestFailedRefreshOnAReadIsReported(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	defer srv.Close()
	auth := &failingRefresher{}
	err := httpkit.New(fastOpts(func(o *httpkit.Options) { o.Auth = auth })).DoJSON(context.Background(), http.MethodGet, srv.URL, nil, nil)
	if !errors.Is(err, adapter.ErrAuth) || !strings.Contains(err.Error(), "BAD_REFRESH_TOKEN") || auth.refreshes.Load() != 1 {
		t.Fatalf("err %v after %d refreshes, want the refresh failure after 1", err, auth.refreshes.Load())
	}
}
