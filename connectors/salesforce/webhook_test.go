package salesforce

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// inbox is a minimal host: it verifies, stores events keyed by their id
// (dedup), and only then answers with the adapter's response.
type inbox struct {
	c        *Connector
	mu       sync.Mutex
	events   map[string]adapter.WebhookEvent
	received int
	// failFirst answers the first n deliveries with 503 before storing.
	failFirst int
}

func (in *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	in.mu.Lock()
	in.received++
	fail := in.received <= in.failFirst
	in.mu.Unlock()
	if fail {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	res, err := in.c.VerifyWebhook(r.Context(), adapter.WebhookRequest{Method: r.Method, URL: "http://" + r.Host + r.URL.String(),
		Headers: r.Header, Body: body, ReceivedAt: time.Now()})
	switch {
	case errors.Is(err, adapter.ErrBadSignature):
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	in.mu.Lock()
	for _, ev := range res.Events {
		in.events[ev.ID] = ev
	}
	in.mu.Unlock()
	w.Header().Set("Content-Type", res.ContentType)
	w.WriteHeader(res.Status)
	_, _ = w.Write(res.Body)
}

func TestOutboundMessageAckRetriesAndDuplicates(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	ids := f.SeedContacts(3, nil)
	c, _ := newConn(t, f, map[string]any{"webhook": map[string]any{"path_secret": "s3cret-path-segment"}})
	in := &inbox{c: c, events: map[string]adapter.WebhookEvent{}, failFirst: 2}
	srv := httptest.NewServer(in)
	defer srv.Close()
	notes := f.OutboundFor("Contact", ids...)
	d, err := f.SendOutbound(context.Background(), srv.URL+"/hooks/salesforce/s3cret-path-segment", notes,
		salesforcefake.OutboundOptions{Duplicate: true})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Acked || d.Attempts != 4 || d.Statuses[0] != 503 || d.Statuses[2] != 200 {
		t.Fatalf("delivery %+v: want two 503s, an acked 200 and a duplicate", d)
	}
	if len(in.events) != 3 {
		t.Fatalf("%d distinct events stored, want 3 (the duplicate deduped)", len(in.events))
	}
	ev := in.events[notes[0].ID]
	if ev.Record == nil || ev.Record.Contact == nil || ev.Record.Contact.Emails[0] != "person0@example.com" || ev.Ref.ID != ids[0] {
		t.Fatalf("event did not carry the record: %+v", ev)
	}
	if !salesforcefake.IsAck([]byte(AckBody)) {
		t.Fatal("AckBody is not what Salesforce accepts")
	}
}

func TestOutboundMessageRejections(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	ids := f.SeedContacts(1, nil)
	c, _ := newConn(t, f, map[string]any{"webhook": map[string]any{"path_secret": "s3cret-path-segment"}})
	in := &inbox{c: c, events: map[string]adapter.WebhookEvent{}}
	srv := httptest.NewServer(in)
	defer srv.Close()
	notes := f.OutboundFor("Contact", ids...)
	quick := salesforcefake.OutboundOptions{GiveUpAfter: 50 * time.Millisecond, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

	// Another org's message is never acknowledged, and dropped at last.
	other := quick
	other.OrgID = "00D0000000000ZZAAA"
	d, _ := f.SendOutbound(context.Background(), srv.URL+"/hooks/s3cret-path-segment", notes, other)
	if d.Acked || !d.Dropped || d.Statuses[0] != http.StatusForbidden {
		t.Fatalf("foreign org delivery %+v", d)
	}
	// A wrong secret path segment is refused.
	d, _ = f.SendOutbound(context.Background(), srv.URL+"/hooks/guess", notes, quick)
	if d.Acked || d.Statuses[0] != http.StatusForbidden {
		t.Fatalf("wrong path secret delivery %+v", d)
	}
	if len(in.events) != 0 {
		t.Fatalf("rejected messages stored %d events", len(in.events))
	}

	env := f.OutboundEnvelope(notes, salesforcefake.OutboundOptions{})
	verify := func(body []byte) error {
		_, err := c.VerifyWebhook(context.Background(), adapter.WebhookRequest{URL: "https://x/hooks/s3cret-path-segment", Body: body})
		return err
	}
	if err := verify(env); err != nil {
		t.Fatalf("genuine envelope refused: %v", err)
	}
	// Tampered: the org id changed in the body.
	tampered := strings.Replace(string(env), f.Options().OrgID, "00D000000000002AAA", 1)
	if err := verify([]byte(tampered)); !errors.Is(err, adapter.ErrBadSignature) || adapter.KindOf(err) != adapter.KindAuth {
		t.Fatalf("tampered org id: %v", err)
	}
	// Malformed XML: a permanent error, nothing to store.
	err := verify(env[:len(env)/2])
	if err == nil || errors.Is(err, adapter.ErrBadSignature) || adapter.KindOf(err) != adapter.KindPermanent {
		t.Fatalf("malformed XML: %v", err)
	}
	resp, _ := http.Post(srv.URL+"/hooks/s3cret-path-segment", "text/xml", strings.NewReader("<soapenv:Envelope"))
	if resp.StatusCode != http.StatusBadRequest || len(in.events) != 0 {
		t.Fatalf("malformed XML got %d and stored %d events", resp.StatusCode, len(in.events))
	}
	resp.Body.Close()
	// More than 100 notifications is not an Outbound Message.
	many := make([]salesforcefake.Notification, 101)
	for i := range many {
		many[i] = notes[0]
	}
	if err := verify(f.OutboundEnvelope(many, salesforcefake.OutboundOptions{})); err == nil {
		t.Fatal("101 notifications accepted")
	}
}
