package hubspot

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

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

const webhookSecret = "wh-secret-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

// receiver is a webhook endpoint that verifies through the connector and
// answers 401 on a bad signature, as the host does.
type receiver struct {
	t      *testing.T
	conn   *Connector
	mu     sync.Mutex
	events []adapter.WebhookEvent
	errs   []error
	url    string // the public URL HubSpot is configured with
	host   string // scheme and host the request arrived at
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	res, err := r.conn.VerifyWebhook(req.Context(), adapter.WebhookRequest{Method: req.Method, URL: r.host + req.RequestURI,
		Headers: req.Header, Body: body, ReceivedAt: time.Now()})
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errs = append(r.errs, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	r.events = append(r.events, res.Events...)
	w.WriteHeader(http.StatusNoContent)
}

func newReceiver(t *testing.T, versions []string, path string) (*env, *receiver, *httptest.Server) {
	e := newEnv(t, hubspotfake.Options{}, adapter.Config{"webhooks": map[string]any{"client_secret": webhookSecret, "versions": versions}})
	r := &receiver{t: t, conn: e.conn}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	r.url, r.host = srv.URL+path, srv.URL
	return e, r, srv
}

func TestWebhookSignatures(t *testing.T) {
	t.Parallel()
	e, r, _ := newReceiver(t, []string{"v3"}, "/hooks/hubspot")
	ids := seedContacts(e.fake, 2, nil)
	e.fake.TakeEvents()
	e.fake.Update("contacts", ids[0], map[string]string{"firstname": "New"})
	events := e.fake.TakeEvents()
	if len(events) != 1 {
		t.Fatalf("fake recorded %d events", len(events))
	}
	deliver := func(s hubspotfake.Signing, url string, evs []hubspotfake.Event) hubspotfake.DeliveryReport {
		rep, err := e.fake.Deliver(context.Background(), hubspotfake.Delivery{URL: url, Signing: s}, evs)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	good := hubspotfake.Signing{ClientSecret: webhookSecret}
	if rep := deliver(good, r.url, events); rep.Statuses[0] != 204 {
		t.Fatalf("valid v3 delivery answered %v (errors %v)", rep.Statuses, r.errs)
	}
	if len(r.events) != 1 || r.events[0].Kind != adapter.ChangeUpsert || r.events[0].Ref.ID != ids[0] || r.events[0].Ref.ObjectType != domain.ObjectContact {
		t.Fatalf("events %+v", r.events)
	}

	cases := []struct {
		name string
		s    hubspotfake.Signing
		want string
	}{
		{"wrong secret", hubspotfake.Signing{ClientSecret: "not-the-secret"}, "does not match"},
		{"forged signature", hubspotfake.Signing{ClientSecret: webhookSecret, Corrupt: true}, "does not match"},
		{"stale timestamp", hubspotfake.Signing{ClientSecret: webhookSecret, TimestampSkew: -6 * time.Minute}, "outside"},
		{"future timestamp", hubspotfake.Signing{ClientSecret: webhookSecret, TimestampSkew: 6 * time.Minute}, "outside"},
		{"v1 not accepted", hubspotfake.Signing{ClientSecret: webhookSecret, Version: "v1"}, "not accepted"},
	}
	for _, c := range cases {
		r.errs = nil
		if rep := deliver(c.s, r.url, events); rep.Statuses[0] != 401 {
			t.Fatalf("%s: answered %v", c.name, rep.Statuses)
		}
		if len(r.errs) != 1 || !errors.Is(r.errs[0], adapter.ErrBadSignature) || adapter.KindOf(r.errs[0]) != adapter.KindAuth || !strings.Contains(r.errs[0].Error(), c.want) {
			t.Fatalf("%s: error %v", c.name, r.errs)
		}
		if strings.Contains(r.errs[0].Error(), webhookSecret) {
			t.Fatalf("%s: secret in error", c.name)
		}
	}

	// Tampered body: sign one body, send another.
	body := `[{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":1700000000000,"subscriptionType":"contact.deletion","attemptNumber":0,"objectId":` + ids[1] + `}]`
	h := hubspotfake.Sign(good, http.MethodPost, r.url, []byte(body), time.Now())
	_, err := e.conn.VerifyWebhook(context.Background(), adapter.WebhookRequest{Method: "POST", URL: r.url, Headers: h,
		Body: []byte(strings.Replace(body, "deletion", "creation", 1)), ReceivedAt: time.Now()})
	if !errors.Is(err, adapter.ErrBadSignature) {
		t.Fatalf("tampered body: %v", err)
	}
	// Header names in another case still verify.
	lower := map[string][]string{}
	for k, v := range h {
		lower[strings.ToLower(k)] = v
	}
	res, err := e.conn.VerifyWebhook(context.Background(), adapter.WebhookRequest{Method: "POST", URL: r.url, Headers: lower, Body: []byte(body), ReceivedAt: time.Now()})
	if err != nil || len(res.Events) != 1 || res.Events[0].Kind != adapter.ChangeDelete {
		t.Fatalf("lower-case headers: %+v %v", res, err)
	}
	if s := e.conn.Stats(); s.WebhooksRejected < 6 {
		t.Fatalf("rejections not counted: %+v", s)
	}
}

func TestWebhookURLEncodedURIAndReplays(t *testing.T) {
	t.Parallel()
	e, r, srv := newReceiver(t, []string{"v3"}, "")
	ids := seedContacts(e.fake, 3, nil)
	e.fake.TakeEvents()
	e.fake.Update("contacts", ids[0], map[string]string{"firstname": "A"})
	e.fake.Merge("contacts", ids[1], ids[2])
	e.fake.PrivacyDelete(ids[0])
	events := e.fake.TakeEvents()
	// A target URL with percent-encoded characters that HubSpot decodes before signing.
	url := srv.URL + "/hooks/hubspot?account=a%3Ab&list=x%2Cy"
	rep, err := e.fake.Deliver(context.Background(), hubspotfake.Delivery{URL: url, Signing: hubspotfake.Signing{ClientSecret: webhookSecret},
		BatchSize: 2, Duplicate: true, Shuffle: true, Seed: 3}, events)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Statuses {
		if s != 204 {
			t.Fatalf("statuses %v, errors %v", rep.Statuses, r.errs)
		}
	}
	byID := map[string][]adapter.WebhookEvent{}
	for _, ev := range r.events {
		byID[ev.ID] = append(byID[ev.ID], ev)
	}
	// Every event arrived twice with the same id, so the host can drop the replay.
	for id, evs := range byID {
		if len(evs) != 2 {
			t.Fatalf("event %s seen %d times", id, len(evs))
		}
	}
	var merged, privacy, deleted bool
	for _, ev := range r.events {
		switch {
		case ev.Kind == adapter.ChangeMerge && ev.Ref.ID == ids[2] && ev.MergedInto.ID == ids[1]:
			merged = true
		case ev.Kind == adapter.ChangeDelete && ev.Privacy && ev.Ref.ID == ids[0]:
			privacy = true
		case ev.Kind == adapter.ChangeDelete && !ev.Privacy && ev.Ref.ID == ids[0]:
			deleted = true
		}
	}
	if !merged || !privacy || !deleted {
		t.Fatalf("merge %v privacy %v deletion %v in %+v", merged, privacy, deleted, r.events)
	}
}

func TestWebhookV1AndV2WhenConfigured(t *testing.T) {
	t.Parallel()
	e, r, _ := newReceiver(t, []string{"v1", "v2", "v3"}, "/hook")
	ids := seedContacts(e.fake, 1, nil)
	e.fake.Archive("contacts", ids[0])
	events := e.fake.TakeEvents()
	for _, v := range []string{"v1", "v2", "v3"} {
		r.events = nil
		rep, err := e.fake.Deliver(context.Background(), hubspotfake.Delivery{URL: r.url, Signing: hubspotfake.Signing{ClientSecret: webhookSecret, Version: v}}, events)
		if err != nil || rep.Statuses[0] != 204 || len(r.events) != 1 || r.events[0].Kind != adapter.ChangeDelete {
			t.Fatalf("%s: %+v %v %+v %v", v, rep, err, r.events, r.errs)
		}
	}
	// HubSpot's documented v1 test vector.
	body := `[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]`
	h := hubspotfake.Sign(hubspotfake.Signing{ClientSecret: "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", Version: "v1"}, "POST", "", []byte(body), time.Now())
	if got := h.Get("X-HubSpot-Signature"); got != "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de" {
		t.Fatalf("v1 test vector from HubSpot's docs: got %s", got)
	}
}
