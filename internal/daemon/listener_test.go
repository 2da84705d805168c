package daemon_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
)

// lockedBuffer is a log sink safe for concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// publicListener runs a daemon over a small sandbox with the given
// limits, logging into the returned buffer, and returns its address.
func publicListener(t *testing.T, limits daemon.ServerLimits) (*sandbox.Sandbox, string, *lockedBuffer) {
	t.Helper()
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 20, AsOf: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	logs := &lockedBuffer{}
	env, err := openApp(ctx, sb.ConnectorConfig(t.TempDir()), slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close(context.Background()) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := env.newDaemon(daemon.Options{Listener: ln, NoSchedule: true, Limits: limits})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("daemon: %v", err)
		}
	})
	return sb, d.Addr(), logs
}

// closedWithin reads c until the server closes it and reports how long
// that took, or false when it is still open after limit.
func closedWithin(c net.Conn, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return 0, false
	}
	return time.Since(start), true
}

// TestSlowBodiesAreCutOff: 40 clients send a webhook's headers and then
// trickle its body a byte at a time; the server closes every one of them
// within its read timeout.
func TestSlowBodiesAreCutOff(t *testing.T) {
	_, addr, _ := publicListener(t, daemon.ServerLimits{ReadTimeout: time.Second})
	const clients = 40
	var wg sync.WaitGroup
	took := make([]time.Duration, clients)
	open := make([]bool, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /webhooks/hubspot HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[", addr)
			stop := make(chan struct{})
			go func() { // the trickle: a byte every 100 ms
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						if _, err := c.Write([]byte(" ")); err != nil {
							return
						}
					}
				}
			}()
			d, closed := closedWithin(c, 5*time.Second)
			close(stop)
			took[i], open[i] = d, !closed
		}()
	}
	wg.Wait()
	for i := range clients {
		if open[i] {
			t.Fatalf("client %d trickling its body is still connected after 5s; the read timeout is 1s", i)
		}
		if took[i] > 3*time.Second {
			t.Errorf("client %d was cut off after %v; the read timeout is 1s", i, took[i])
		}
	}
}

// TestConnectionsPerAddressAreCapped: past the cap, a client's further
// connections are closed at once; when one of its connections closes, it
// may open another.
func TestConnectionsPerAddressAreCapped(t *testing.T) {
	_, addr, logs := publicListener(t, daemon.ServerLimits{MaxConnsPerIP: 4, ReadHeaderTimeout: 10 * time.Second})
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	var held []net.Conn
	for range 4 {
		held = append(held, dial())
	}
	for i := range 6 {
		if _, closed := closedWithin(dial(), 2*time.Second); !closed {
			t.Fatalf("connection %d past the cap of 4 was left open", 5+i)
		}
	}
	for i, c := range held {
		if _, closed := closedWithin(c, 200*time.Millisecond); closed {
			t.Fatalf("connection %d within the cap was closed", i+1)
		}
	}
	held[0].Close()
	// Once the server has seen the close, a request on a fresh connection
	// is served.
	testenv.Await(t, 5*time.Second, "a request served after a slot freed up", func() error {
		c := dial()
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", addr)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil
	})
	if n := strings.Count(logs.String(), "too many open from one address"); n != 1 {
		t.Errorf("the 6 refused connections logged %d lines, want 1 per window:\n%s", n, logs.String())
	}
}

// TestForgedWebhookFloodLogIsBounded: 3,000 forged HubSpot webhooks in a
// burst are all refused, and cost a line or two of log, not one each.
func TestForgedWebhookFloodLogIsBounded(t *testing.T) {
	sb, addr, logs := publicListener(t, daemon.ServerLimits{})
	hs, _ := sb.Endpoint(sandbox.HubSpot)
	url := "http://" + addr + "/webhooks/hubspot"
	body := []byte(`[{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":1700000000000,"subscriptionType":"contact.creation","objectId":4}]`)
	before := len(logs.String())
	started := time.Now()
	const requests, workers = 3000, 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{}
			for i := w; i < requests; i += workers {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				for k, v := range hubspotfake.Sign(hubspotfake.Signing{ClientSecret: hs.Credentials["client_secret"], Corrupt: true}, http.MethodPost, url, body, time.Now()) {
					req.Header[k] = v
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if statuses[http.StatusUnauthorized] != requests {
		t.Fatalf("statuses %v; want %d × 401", statuses, requests)
	}
	out := logs.String()[before:]
	rejected := strings.Count(out, "webhook rejected")
	t.Logf("%d forged requests wrote %d bytes of log (%d 'webhook rejected' lines)", requests, len(out), rejected)
	// One line per address per 10 s window (a slow machine may take more
	// than one window), and a line counting the rest for each window.
	windows := 1 + int(time.Since(started)/(10*time.Second))
	if rejected < 1 || rejected > windows || len(out) > windows<<10 {
		t.Fatalf("%d forged requests from one address in %d log windows wrote %d bytes of log, %d 'webhook rejected' lines; want at most one line and 1 KiB a window:\n%.2000s",
			requests, windows, len(out), rejected, out)
	}
}

// TestHubSpotWebhookOfMoreThan100EventsIsRefused: HubSpot sends at most
// 100 events in one request; a signed request with 101 is refused.
func TestHubSpotWebhookOfMoreThan100EventsIsRefused(t *testing.T) {
	sb, addr, _ := publicListener(t, daemon.ServerLimits{})
	hs, _ := sb.Endpoint(sandbox.HubSpot)
	portal := hs.Credentials["portal_id"]
	url := "http://" + addr + "/webhooks/hubspot"
	send := func(n int) (int, string) {
		t.Helper()
		var b strings.Builder
		b.WriteByte('[')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"eventId":%d,"subscriptionId":2,"portalId":%s,"occurredAt":%d,"subscriptionType":"contact.deletion","objectId":%d}`,
				i+1, portal, time.Now().UnixMilli(), 900000+i)
		}
		b.WriteByte(']')
		body := []byte(b.String())
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		for k, v := range hubspotfake.Sign(hubspotfake.Signing{ClientSecret: hs.Credentials["client_secret"]}, http.MethodPost, url, body, time.Now()) {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(msg)
	}
	if code, msg := send(101); code != http.StatusBadRequest || !strings.Contains(msg, "101 events") {
		t.Fatalf("101 events: HTTP %d %q; want 400 naming the count", code, msg)
	}
	if code, msg := send(100); code != http.StatusOK {
		t.Fatalf("100 events: HTTP %d %q; want 200", code, msg)
	}
}
