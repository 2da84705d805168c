package alert

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/segconn/connector/internal/alert/alerttest"
	"github.com/segconn/connector/internal/outbound"
)

type webhookReceiver struct {
	mu     sync.Mutex
	secret string
	got    []Alert
	bad    int
}

func (h *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := outbound.Verify(h.secret, r.Header, body, time.Now(), outbound.DefaultTolerance); err != nil {
		h.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var a Alert
	if err := json.Unmarshal(body, &a); err != nil {
		h.bad++
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.got = append(h.got, a)
}

func TestPlatformFailingAlertsOnceAndRecovers(t *testing.T) {
	ctx := context.Background()
	slack := &alerttest.SlackReceiver{}
	slackSrv := httptest.NewServer(slack)
	defer slackSrv.Close()
	box := &alerttest.Mailbox{}
	addr, tlsCfg := alerttest.StartSMTP(t, box)
	hook := &webhookReceiver{secret: "alert-signing-secret-0123456789"}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()

	email := &Email{Addr: addr, From: "connector@shop.example", To: []string{"owner@shop.example"},
		Username: alerttest.User, Password: alerttest.Password, TLS: tlsCfg}
	m := NewMonitor(Rules{PlatformFailingFor: 5 * time.Minute}, nil,
		&Slack{URL: slackSrv.URL + "/services/T000/B000/XXXX"}, email,
		&Webhook{URL: hookSrv.URL, Secret: hook.secret})

	since := time.Now().Add(-9 * time.Minute) // the recovery below lands at now
	failing := func(at time.Time) Snapshot {
		return Snapshot{At: at, Platforms: []Platform{
			{Name: "hubspot", State: StateFailing, Since: since, LastError: "401 Unauthorized: the token is invalid"},
			{Name: "woocommerce", State: StateOK, Since: since}}}
	}
	// Within the grace period: nothing.
	if err := m.Observe(ctx, failing(since.Add(2*time.Minute))); err != nil {
		t.Fatal(err)
	}
	if n := len(slack.Messages()) + len(box.All()); n != 0 {
		t.Fatalf("%d messages inside the grace period", n)
	}
	// Past it: one alert per destination; Slack is down at first.
	slack.SetDown(true)
	err := m.Observe(ctx, failing(since.Add(6*time.Minute)))
	if err == nil || !strings.Contains(err.Error(), "slack answered 500") {
		t.Fatalf("Slack down: %v", err)
	}
	if strings.Contains(err.Error(), "XXXX") {
		t.Fatalf("the error shows the webhook URL's secret: %v", err)
	}
	slack.SetDown(false)
	for range 3 { // Slack gets it on the retry; nobody gets it twice
		if err := m.Observe(ctx, failing(since.Add(7*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	if got := slack.Messages(); len(got) != 1 || !strings.Contains(got[0]["text"].(string), "Alert: hubspot has been failing") {
		t.Fatalf("slack got %v", got)
	}
	blocks := slack.Messages()[0]["blocks"].([]any)
	if len(blocks) != 3 || blocks[0].(map[string]any)["type"] != "header" ||
		!strings.Contains(blocks[1].(map[string]any)["text"].(map[string]any)["text"].(string), "401 Unauthorized") {
		t.Errorf("slack blocks %v", blocks)
	}
	mails := box.All()
	if len(mails) != 1 || !mails[0].TLS || mails[0].User != alerttest.User || mails[0].To[0] != "owner@shop.example" ||
		!strings.Contains(mails[0].Data, "Subject: [connector] Alert: hubspot has been failing") ||
		!strings.Contains(mails[0].Data, "401 Unauthorized") {
		t.Fatalf("mail: %+v", mails)
	}
	if len(hook.got) != 1 || hook.got[0].Status != Firing || hook.got[0].Key != "platform_failing/hubspot" || hook.bad != 0 {
		t.Fatalf("webhook got %+v (bad %d)", hook.got, hook.bad)
	}
	if act := m.Active(); len(act) != 1 || act[0].Subject != "hubspot" {
		t.Fatalf("active %+v", act)
	}

	// Recovery: one resolved message each, then silence.
	for range 2 {
		ok := Snapshot{At: since.Add(9 * time.Minute), Platforms: []Platform{{Name: "hubspot", State: StateOK, Since: since.Add(8 * time.Minute)}}}
		if err := m.Observe(ctx, ok); err != nil {
			t.Fatal(err)
		}
	}
	if got := slack.Messages(); len(got) != 2 || !strings.HasPrefix(got[1]["text"].(string), "Resolved: hubspot") {
		t.Fatalf("slack after recovery: %v", got)
	}
	if mails := box.All(); len(mails) != 2 || !strings.Contains(mails[1].Data, "Resolved: hubspot") {
		t.Fatalf("mail after recovery: %d", len(mails))
	}
	if len(hook.got) != 2 || hook.got[1].Status != Resolved {
		t.Fatalf("webhook after recovery: %+v", hook.got)
	}
	if act := m.Active(); len(act) != 0 {
		t.Fatalf("still active: %+v", act)
	}
}

func TestEmailRefusesPlaintextUnlessAllowed(t *testing.T) {
	// A server without STARTTLS: the notifier must not send credentials
	// or data in the clear unless told the relay is local.
	box := &alerttest.Mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "127.0.0.1"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	a := Alert{Condition: Condition{Key: "k", Summary: "s"}, Status: Firing, At: time.Now()}
	e := &Email{Addr: ln.Addr().String(), From: "a@b.example", To: []string{"c@d.example"}}
	err = e.Notify(context.Background(), a)
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if len(box.All()) != 0 {
		t.Fatal("a message went out in the clear")
	}
	e.Insecure = true
	if err := e.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if m := box.All(); len(m) != 1 || m[0].TLS {
		t.Fatalf("insecure relay: %+v", m)
	}
}

func TestRules(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	r := DefaultRules()
	cases := []struct {
		name string
		snap Snapshot
		want []string // condition keys
	}{
		{"all well", Snapshot{At: at,
			Platforms: []Platform{{Name: "hubspot", State: StateOK}},
			WriteBack: []WriteBack{{Platform: "hubspot", Done: 100, Failed: 5}},
			Segments:  []Segment{{Name: "Champions", Size: 140, Before: 100, Period: 24 * time.Hour}},
			Runs:      []Run{{Kind: "sync", At: at}}, DeadLetters: 9}, nil},
		{"degraded is not failing", Snapshot{At: at, Platforms: []Platform{{Name: "hubspot", State: StateDegraded, Since: at.Add(-time.Hour)}}}, nil},
		{"failing past the grace period", Snapshot{At: at, Platforms: []Platform{{Name: "hubspot", State: StateFailing, Since: at.Add(-11 * time.Minute)}}},
			[]string{"platform_failing/hubspot"}},
		{"write-back failures above the share", Snapshot{At: at, WriteBack: []WriteBack{{Platform: "salesforce", Done: 90, Failed: 10}}},
			[]string{"writeback_failures/salesforce"}},
		{"too few write-backs to judge", Snapshot{At: at, WriteBack: []WriteBack{{Platform: "salesforce", Done: 5, Failed: 5}}}, nil},
		{"segment halved", Snapshot{At: at, Segments: []Segment{{Name: "Loyal", Size: 40, Before: 100, Period: 24 * time.Hour}}},
			[]string{"segment_size/Loyal"}},
		{"small segment doubled", Snapshot{At: at, Segments: []Segment{{Name: "Tiny", Size: 12, Before: 6}}}, nil},
		{"run failed", Snapshot{At: at, Runs: []Run{{Kind: "apply", At: at, Err: "hubspot: 403"}}}, []string{"run_failed/apply"}},
		{"dead letters grew", Snapshot{At: at, DeadLetters: 130, DeadLettersBefore: 100}, []string{"dead_letters"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, cond := range r.Evaluate(c.snap) {
				got = append(got, cond.Key)
				if cond.Summary == "" {
					t.Errorf("%s has no summary", cond.Key)
				}
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	if got := r.Evaluate(Snapshot{At: at, Segments: []Segment{{Name: "Loyal", Size: 40, Before: 100, Period: 24 * time.Hour}}}); got[0].Summary != "Loyal shrank by 60% (100 → 40 people) in 24h0m0s" {
		t.Errorf("summary %q", got[0].Summary)
	}
}
