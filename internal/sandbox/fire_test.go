package sandbox

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// verifyingReceiver serves base/<platform>[/…] and authenticates every
// request with the real connector's VerifyWebhook.
type verifyingReceiver struct {
	mu       sync.Mutex
	events   map[string]int
	requests map[string]int
	rejected []string
}

func TestFireWebhooksVerifiedByConnectors(t *testing.T) {
	sb := startSandbox(t, 120)
	ctx := context.Background()
	conns := map[string]adapter.Adapter{}
	for _, p := range Platforms {
		ep, _ := sb.Endpoint(p)
		a := newConnector(p)
		if err := a.Configure(ctx, ep.Config); err != nil {
			t.Fatal(err)
		}
		defer a.Close(ctx)
		conns[p] = a
	}
	rcv := &verifyingReceiver{events: map[string]int{}, requests: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		platform := strings.Split(strings.TrimPrefix(r.URL.Path, "/hooks/"), "/")[0]
		a := conns[platform]
		if a == nil {
			http.NotFound(w, r)
			return
		}
		res, err := a.VerifyWebhook(r.Context(), adapter.WebhookRequest{Method: r.Method, URL: "http://" + r.Host + r.URL.RequestURI(),
			Headers: r.Header, Body: body, ReceivedAt: time.Now()})
		rcv.mu.Lock()
		rcv.requests[platform]++
		if err != nil {
			rcv.rejected = append(rcv.rejected, platform+": "+err.Error())
			rcv.mu.Unlock()
			http.Error(w, "rejected", http.StatusUnauthorized)
			return
		}
		rcv.events[platform] += len(res.Events)
		rcv.mu.Unlock()
		if res.ContentType != "" {
			w.Header().Set("Content-Type", res.ContentType)
		}
		if res.Status != 0 {
			w.WriteHeader(res.Status)
		}
		_, _ = w.Write(res.Body)
	}))
	defer srv.Close()

	rep, err := sb.FireWebhooks(ctx, sb.Targets(srv.URL+"/hooks"), 500, 30)
	if err != nil {
		t.Fatal(err)
	}
	rcv.mu.Lock()
	if len(rcv.rejected) > 0 {
		t.Fatalf("connectors rejected sandbox webhooks: %v", rcv.rejected)
	}
	for _, p := range Platforms {
		if rep.Changes[p] != 10 || rep.Delivered[p] != 10 || rep.Failed[p] != 0 {
			t.Errorf("%s: report %+v", p, rep)
		}
		if rcv.events[p] < 10 {
			t.Errorf("%s: %d events verified, want at least 10", p, rcv.events[p])
		}
	}
	t.Logf("report %+v, requests %v, events %v", rep, rcv.requests, rcv.events)

	rcv.mu.Unlock()

	// The connectors really check: a Salesforce message sent to a URL
	// without the path secret is refused, and the fake sees no Ack.
	ch, err := sb.Fire(ctx, Salesforce, srv.URL+"/hooks/salesforce/not-the-secret")
	if err != nil {
		t.Fatal(err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if ch.Delivered || ch.Status != http.StatusUnauthorized || len(rcv.rejected) == 0 {
		t.Fatalf("unauthenticated delivery: %+v, rejected %v", ch, rcv.rejected)
	}
}
