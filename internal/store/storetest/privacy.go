package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Leaks returns "table.column" for every value in the store's database
// that contains one of needles (case-insensitively): every column of
// every table, River's included, on SQLite and PostgreSQL.
func Leaks(t testing.TB, s store.Store, needles ...string) []string {
	t.Helper()
	ctx := context.Background()
	db := s.Database()
	var q string
	switch db.Driver {
	case "sqlite":
		q = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	default:
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := db.SQL.QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("listing tables: %v", err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("only %d tables found (%v): the search would prove nothing", len(tables), tables)
	}
	var out []string
	for _, table := range tables {
		rows, err := db.SQL.QueryContext(ctx, `SELECT * FROM `+table)
		if err != nil {
			t.Fatalf("reading %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("reading %s: %v", table, err)
			}
			for i, v := range vals {
				var text string
				switch v := v.(type) {
				case string:
					text = v
				case []byte:
					text = string(v)
				default:
					text = fmt.Sprint(v)
				}
				text = strings.ToLower(text)
				for _, n := range needles {
					if strings.Contains(text, strings.ToLower(n)) {
						out = append(out, fmt.Sprintf("%s.%s holds %q", table, cols[i], n))
					}
				}
			}
		}
		rows.Close()
	}
	return out
}

// testEraseEverywhere: an erasure on request leaves the person's email and
// names in no column of any table, records one deletion task per platform
// record and an audit entry, and suppresses the email so that neither a
// new record nor a guest order with it is imported again.
func testEraseEverywhere(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	const email, first, last = "Zelda.Quillfeather@Example.com", "Zeldabeth", "Quillfeather"
	for _, pl := range []struct{ platform, id string }{{"hubspot", "1"}, {"salesforce", "S1"}, {"woocommerce", "40"}} {
		c := contact(pl.platform, pl.id, email, first, t0)
		c.Contact.LastName = last
		c.Contact.Phones = []string{"+44 20 7946 0001"}
		apply(t, s, pl.platform, "contact", c)
	}
	apply(t, s, "woocommerce", "order", order("woocommerce", "w1", ref("woocommerce", domain.ObjectContact, "40"), email, t0, 1500))
	p := mustProfileByEmail(t, s, domain.NormalizeEmail(email))
	// The same person in a webhook payload, a quarantined record and an
	// outbound delivery.
	payload := fmt.Sprintf(`{"ref":{"platform":"woocommerce","id":"40"},"record":{"contact":{"emails":[%q],"first_name":%q,"last_name":%q}}}`, email, first, last)
	if _, _, err := s.InboxAdd(ctx, store.InboxItem{Platform: "woocommerce", EventID: "ev-1", Payload: []byte(payload)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPage(ctx, "woocommerce", "", "contact", nil, []adapter.Rejected{{Ref: ref("woocommerce", domain.ObjectContact, "41"), Reason: "bad date", Raw: []byte(payload)}}, "c-contact"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeliveriesEnqueue(ctx, []store.Delivery{{Endpoint: "http://127.0.0.1:1/x", EventID: "e1", EventType: "segment.entered",
		Payload: fmt.Appendf(nil, `{"profile_id":%q,"email":%q}`, p.ID, domain.NormalizeEmail(email)), CreatedAt: t0}}); err != nil {
		t.Fatal(err)
	}
	if leaks := Leaks(t, s, email, last); len(leaks) == 0 {
		t.Fatal("the person is nowhere in the database before the erasure: the search would prove nothing")
	}

	er, err := s.Erase(ctx, p.ID, store.ErasureRequest{RequestedBy: "operator", Source: "request"})
	if err != nil {
		t.Fatal(err)
	}
	if leaks := Leaks(t, s, email, domain.NormalizeEmail(email), first, last, "7946 0001"); len(leaks) > 0 {
		t.Errorf("after the erasure the database still holds the person:\n%s", strings.Join(leaks, "\n"))
	}
	subject, err := s.EmailHash(email)
	if err != nil {
		t.Fatal(err)
	}
	if plain := sha256.Sum256([]byte(domain.NormalizeEmail(email))); subject == hex.EncodeToString(plain[:]) {
		t.Error("the suppression key of an email is its plain SHA-256: anyone can match it against guessed emails")
	}
	if er.ProfileID != p.ID || er.RequestedBy != "operator" || er.SubjectHash != subject || !er.CompletedAt.IsZero() {
		t.Errorf("audit entry %+v", er)
	}
	got := map[string]store.ErasureStatus{}
	for _, tk := range er.Tasks {
		got[tk.Ref.Key()] = tk.Status
	}
	want := map[string]store.ErasureStatus{"hubspot//contact/1": store.ErasurePending, "salesforce//contact/S1": store.ErasurePending, "woocommerce//contact/40": store.ErasurePending}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tasks %v; want %v", got, want)
	}
	if ok, err := s.Suppressed(ctx, email); err != nil || !ok {
		t.Errorf("Suppressed = %v, %v; want the email suppressed", ok, err)
	}

	// Nothing brings them back: a new record, a guest order, the same
	// records again.
	fresh := contact("salesforce", "S2", strings.ToUpper(email), first, t0.Add(time.Hour))
	// The webhook announcing it was stored first, payload and all.
	if _, _, err := s.InboxAdd(ctx, store.InboxItem{Platform: "salesforce", EventID: "ev-2", Payload: []byte(payload)}); err != nil {
		t.Fatal(err)
	}
	apply(t, s, "salesforce", "contact", fresh)
	apply(t, s, "woocommerce", "order", order("woocommerce", "w2", domain.ExternalRef{}, email, t0.Add(time.Hour), 700))
	apply(t, s, "hubspot", "contact", contact("hubspot", "1", email, first, t0.Add(2*time.Hour)))
	if _, err := s.ProfileByEmail(ctx, domain.NormalizeEmail(email)); err == nil {
		t.Error("a later page brought the erased person back")
	}
	if leaks := Leaks(t, s, email, first); len(leaks) > 0 {
		t.Errorf("later pages stored the erased person again:\n%s", strings.Join(leaks, "\n"))
	}

	// Open until every platform answered.
	due, err := s.ErasureTasksDue(ctx, time.Now(), 10)
	if err != nil || len(due) != 3 {
		t.Fatalf("due tasks %v, %v; want 3", due, err)
	}
	for i, tk := range due {
		st := store.ErasureDone
		if i == 0 {
			if err := s.SettleErasureTask(ctx, tk.ErasureID, tk.Ref.Key(), store.ErasurePending, "HTTP 503", time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := s.SettleErasureTask(ctx, tk.ErasureID, tk.Ref.Key(), st, "HTTP 204", time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if open, _ := s.Erasures(ctx, true, 10); len(open) != 1 {
		t.Fatalf("open erasures %+v; want the one with a platform still to answer", open)
	}
	if due, _ := s.ErasureTasksDue(ctx, time.Now(), 10); len(due) != 0 {
		t.Errorf("a task waiting for its retry is due: %+v", due)
	}
	if err := s.SettleErasureTask(ctx, due0(t, s).ErasureID, due0(t, s).Ref.Key(), store.ErasureGone, "HTTP 404", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if open, _ := s.Erasures(ctx, true, 10); len(open) != 0 {
		t.Errorf("open erasures %+v after every platform answered", open)
	}
	if _, err := s.Erase(ctx, p.ID, store.ErasureRequest{RequestedBy: "operator"}); err == nil {
		t.Error("erasing an erased profile again succeeded")
	}
}

// due0 returns the one pending task, due or not.
func due0(t *testing.T, s store.Store) store.ErasureTask {
	t.Helper()
	ers, err := s.Erasures(context.Background(), true, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, er := range ers {
		for _, tk := range er.Tasks {
			if tk.Status == store.ErasurePending {
				return tk
			}
		}
	}
	t.Fatal("no pending task")
	return store.ErasureTask{}
}

// testPrivacyDeletionFansOut: a platform's privacy deletion erases the
// profile and records deletion tasks for the person's records on the
// other platforms, the sender's own marked done.
func testPrivacyDeletionFansOut(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	apply(t, s, "hubspot", "contact", contact("hubspot", "7", "yan@example.com", "Yannick", t0))
	apply(t, s, "salesforce", "contact", contact("salesforce", "S7", "yan@example.com", "Yannick", t0))
	apply(t, s, "hubspot", "contact", adapter.Change{Kind: adapter.ChangeDelete, Privacy: true, Ref: ref("hubspot", domain.ObjectContact, "7")})
	ers, err := s.Erasures(ctx, true, 10)
	if err != nil || len(ers) != 1 {
		t.Fatalf("open erasures %+v, %v; want one", ers, err)
	}
	er := ers[0]
	if er.Source != "hubspot privacy deletion" || er.RequestedBy != "platform:hubspot" {
		t.Errorf("audit entry %+v", er)
	}
	got := map[string]store.ErasureStatus{}
	for _, tk := range er.Tasks {
		got[tk.Ref.Key()] = tk.Status
	}
	if got["hubspot//contact/7"] != store.ErasureDone || got["salesforce//contact/S7"] != store.ErasurePending || len(got) != 2 {
		t.Errorf("tasks %v; want hubspot done and salesforce pending", got)
	}
	if leaks := Leaks(t, s, "yan@example.com", "Yannick"); len(leaks) > 0 {
		t.Errorf("after the privacy deletion the database still holds the person:\n%s", strings.Join(leaks, "\n"))
	}
}
