package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// pgSchema names a fresh schema of the test database and drops it when
// the test ends.
func pgSchema(t testing.TB, dsn string) string {
	t.Helper()
	return testenv.PostgresSchema(t, dsn, "daemontest")
}

// pgCounts runs a grouping query in the schema and returns count by key.
func pgCounts(t *testing.T, conn *pgx.Conn, query string) map[string]int {
	t.Helper()
	out, err := pgCountsErr(conn, query)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// pgCountsErr is pgCounts returning its error.
func pgCountsErr(conn *pgx.Conn, query string) (map[string]int, error) {
	rows, err := conn.Query(context.Background(), query)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", query, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("%s: %w", query, err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", query, err)
	}
	return out, nil
}

// wooSender posts signed WooCommerce order webhooks, made by the fake's
// own signer, to whichever daemon the caller names: one order, one
// delivery, one daemon.
type wooSender struct {
	sb        *sandbox.Sandbox
	secret    string
	mu        sync.Mutex
	customers []int
	client    *http.Client
}

func newWooSender(sb *sandbox.Sandbox) *wooSender {
	return &wooSender{sb: sb, secret: sb.Endpoints()[2].Credentials["webhook_secret"], customers: sb.WooFake.CustomerIDs(),
		client: &http.Client{Timeout: 10 * time.Second}}
}

// send adds an order for a customer no earlier webhook was about and
// delivers its order.created webhook to base; it returns the order id
// and whether the daemon acknowledged it.
func (s *wooSender) send(ctx context.Context, base string) (string, bool, error) {
	s.mu.Lock()
	if len(s.customers) == 0 {
		s.mu.Unlock()
		return "", false, fmt.Errorf("out of WooCommerce customers")
	}
	id := s.customers[0]
	s.customers = s.customers[1:]
	s.mu.Unlock()
	oid := s.sb.NewWooOrder(id, "", []domain.LineItem{{SKU: "REPLICA-1", Name: "replica test", Category: "garden", Quantity: 1,
		UnitPrice: domain.Money{Amount: 80_00, Currency: "USD"}}}, "desktop")
	h, body := s.sb.WooFake.SignedDelivery("order.created", oid, s.secret)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/woocommerce", bytes.NewReader(body))
	if err != nil {
		return "", false, err
	}
	req.Header = h
	resp, err := s.client.Do(req)
	if err != nil {
		return strconv.Itoa(oid), false, nil // not acknowledged
	}
	resp.Body.Close()
	return strconv.Itoa(oid), resp.StatusCode/100 == 2, nil
}

// allWorked waits until every webhook event in the store was processed,
// there being at least acked of them (each acknowledged one was stored),
// and no write-back item waits or is being pushed. Marking events
// processed and queueing the write-back they cause is one transaction, so
// when both hold, the write-back of every event has been pushed. The
// schedule may queue new write-back afterwards; the checks that follow
// allow for it. logs adds the replicas' logs to a failure.
func allWorked(t *testing.T, logs func() string, conn *pgx.Conn, acked int) {
	t.Helper()
	// On failure: the history of each record whose write-back is held for
	// later than the wait (store times are microseconds).
	detail := func() string {
		hist, err := pgCountsErr(conn, `SELECT o.item_key || ' #' || o.id::text || ' ' || o.status || ' updated ' ||
			((o.updated_at - EXTRACT(EPOCH FROM now())*1e6)/1e6)::bigint::text || 's ' || left(o.last_error, 40) || ' want ' ||
			COALESCE(convert_from(o.payload, 'UTF8')::jsonb->>'want', ''), 1
			FROM outbox o WHERE (o.platform, o.item_key) IN (SELECT platform, item_key FROM outbox WHERE status = 'pending' AND not_before > (EXTRACT(EPOCH FROM now())*1e6 + 600e6))`)
		return fmt.Sprintf("history of held records: %v %v\n%s", hist, err, logs())
	}
	// Generous: the two replicas take seconds; a replica that stopped
	// working never gets there.
	testenv.Await(withDetail{t, detail}, 3*time.Minute, "every acknowledged webhook event processed and its write-back pushed", func() error {
		if err := releaseHeld(t, conn); err != nil {
			return err
		}
		inbox, err := pgCountsErr(conn, `SELECT CASE WHEN processed_at = 0 THEN 'unprocessed' ELSE 'processed' END, COUNT(*) FROM inbox GROUP BY 1`)
		if err != nil {
			return err
		}
		// What waits, and when it is due.
		outbox, err := pgCountsErr(conn, `SELECT platform || ' ' || status || ' deferred ' || deferred::text || ' attempts ' || attempts::text ||
			' due in ' || ((not_before - EXTRACT(EPOCH FROM now())*1e6)/1e6)::bigint::text || 's ' || left(last_error, 200), COUNT(*)
			FROM outbox WHERE status IN ('pending', 'leased') GROUP BY 1`)
		if err != nil {
			return err
		}
		if inbox["unprocessed"] > 0 || inbox["processed"] < acked || len(outbox) > 0 {
			return fmt.Errorf("inbox %v (%d acknowledged), outbox waiting %v", inbox, acked, outbox)
		}
		return nil
	})
}

// releaseHeld makes write-back the flap guard held for an hour due now.
// The webhooks' random orders move RFM cut points, and a customer on a
// boundary can swing between two segments often enough for the guard to
// hold its write-back, as it should (TestFlappingRecordIsHeld covers
// that). Here the hour passes at once: the held item, which keeps the
// newest state, is written.
func releaseHeld(t *testing.T, conn *pgx.Conn) error {
	tag, err := conn.Exec(context.Background(), `UPDATE outbox SET not_before = (EXTRACT(EPOCH FROM now())*1e6)::bigint
		WHERE status = 'pending' AND attempts = 0 AND not_before > (EXTRACT(EPOCH FROM now())*1e6 + 600e6)`)
	if err != nil {
		return err
	}
	if n := tag.RowsAffected(); n > 0 {
		t.Logf("released %d write-back items the flap guard held for an hour", n)
	}
	return nil
}

// TestTwoReplicasShareTheWorkAndSurviveAKill runs two daemons as child
// processes on one PostgreSQL schema with their schedules on, sends
// webhooks to both, and checks that every job, inbox event and outbox item
// was worked once, that each periodic pull fired once per period, and
// after one replica is SIGKILLed, that the other finishes everything
// exactly.
func TestTwoReplicasShareTheWorkAndSurviveAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("two child daemons on PostgreSQL against three fake platforms")
	}
	dsn := testenv.PostgresDSN(t)
	schema := pgSchema(t, dsn)
	ctx := context.Background()
	now := time.Now().UTC()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 31, Customers: 250, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	l := sb.ConnectorConfig(t.TempDir())
	l.Store.Driver, l.Store.DSN, l.Store.Schema = "postgres", dsn, schema
	const pullEvery = 2 * time.Second
	l.Schedule.PullInterval = pullEvery
	l.Server.ShutdownTimeout = 10 * time.Second
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	spec := func(listen string) childSpec {
		cfg := l.Config
		cfg.Server.Listen = listen
		return childSpec{Config: cfg, Secrets: l.SecretValues, DrainInterval: 100 * time.Millisecond}
	}
	started := time.Now()
	a := startChild(t, "replica-a", spec(freeAddr(t)))
	b := startChild(t, "replica-b", spec(freeAddr(t)))

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET search_path TO "+schema); err != nil {
		t.Fatal(err)
	}
	logs := func() string { return "replica A:\n" + a.logTail() + "\nreplica B:\n" + b.logTail() }

	// Phase 1: both up; the schedule pulls every platform, webhooks go to
	// both replicas in turn.
	ws := newWooSender(sb)
	var acked []string
	sendTo := func(n int, bases ...string) {
		t.Helper()
		for i := 0; i < n; i++ {
			id, ok, err := ws.send(ctx, bases[i%len(bases)])
			if err != nil {
				t.Error(err) // not Fatal: it runs in a goroutine too
				return
			}
			if ok {
				acked = append(acked, id)
			}
		}
	}
	// The webhooks arrive after the first pulls and resegmentation.
	testenv.Await(withDetail{t, logs}, 3*time.Minute, "every platform's first pull and a resegmentation", func() error {
		done, err := pgCountsErr(conn, `SELECT kind || ' ' || COALESCE(args->>'platform', ''), COUNT(*) FROM river_job WHERE state = 'completed' GROUP BY 1`)
		if err != nil {
			return err
		}
		for _, p := range sandbox.Platforms {
			if done["sync "+p] == 0 {
				return fmt.Errorf("no pull of %s completed yet (completed jobs: %v)", p, done)
			}
		}
		if done["resegment "] == 0 {
			return fmt.Errorf("no resegmentation completed yet (completed jobs: %v)", done)
		}
		return nil
	})
	sendTo(40, a.base, b.base)
	allWorked(t, logs, conn, len(acked))
	elapsed := time.Since(started)

	jobs := pgCounts(t, conn, `SELECT kind || ' ' || state || ' attempt ' || attempt::text || ' ' || COALESCE(args->>'platform', '') || CASE WHEN (args->>'full')::boolean THEN ' full' ELSE '' END, COUNT(*) FROM river_job GROUP BY 1`)
	t.Logf("after %v with both replicas: river jobs %v", elapsed.Round(time.Second), jobs)
	by := pgCounts(t, conn, `SELECT COALESCE(attempted_by[1], '') , COUNT(*) FROM river_job GROUP BY 1`)
	t.Logf("jobs by replica: %v", by)
	for k, n := range jobs {
		inFlight := strings.Contains(k, " running attempt 1") || strings.Contains(k, " available attempt 0")
		// A resegmentation that gave way to a later one is cancelled.
		gaveWay := strings.HasPrefix(k, "resegment cancelled attempt 1")
		if !strings.Contains(k, " completed attempt 1") && !inFlight && !gaveWay {
			t.Errorf("%d river jobs %q: every job should complete at its first attempt", n, k)
		}
	}
	pulls := pgCounts(t, conn, `SELECT args->>'platform', COUNT(*) FROM river_job WHERE kind = 'sync' AND NOT COALESCE((args->>'full')::boolean, false) GROUP BY 1`)
	for _, p := range sandbox.Platforms {
		n := pulls[p]
		// RunOnStart plus one per period, however many replicas run.
		max := 2 + int(elapsed/pullEvery)
		if n < max/2 || n > max {
			t.Errorf("%s: %d periodic pulls in %v at one per %v (want between %d and %d)", p, n, elapsed.Round(time.Second), pullEvery, max/2, max)
		}
	}
	inbox := pgCounts(t, conn, `SELECT 'attempts ' || attempts::text || CASE WHEN processed_at = 0 THEN ' unprocessed' ELSE '' END, COUNT(*) FROM inbox GROUP BY 1`)
	if len(inbox) != 1 || inbox["attempts 1"] != len(acked) {
		t.Errorf("inbox: %v; want all %d events processed at their first attempt", inbox, len(acked))
	}
	outbox := pgCounts(t, conn, `SELECT platform || ' ' || status || ' attempts ' || attempts::text, COUNT(*) FROM outbox GROUP BY 1`)
	t.Logf("outbox: %v", outbox)
	for k, n := range outbox {
		// The schedule keeps running: items queued after the wait and not
		// yet tried are new work, not work done twice.
		if !strings.Contains(k, " done attempts 1") && !strings.Contains(k, " pending attempts 0") {
			t.Errorf("%d outbox items %q: every write-back should be pushed once", n, k)
		}
	}
	pushed := 0
	for _, n := range sb.WooFake.BatchSizes() {
		pushed += n
	}
	// An item whose record already reached its desired state by the time
	// it was drained is closed without a call, so pushes ≤ items.
	if want := outbox["woocommerce done attempts 1"]; pushed > want || pushed == 0 {
		t.Errorf("the WooCommerce fake received %d customer updates for %d write-back items", pushed, want)
	}

	env, err := openApp(ctx, l, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close(ctx)
	// The platforms converge to exactly what the store says, with both
	// replicas up and after one is killed.
	converge := func(when string) {
		t.Helper()
		var checked int
		// Once a second, as each look plans write-back like the daemons do.
		testenv.AwaitEvery(t, 45*time.Second, time.Second, when+": every platform exact", func() error {
			if err := releaseHeld(t, conn); err != nil {
				return err
			}
			var probs []string
			probs, checked = apptest.PlatformState(t, env.App, sb)
			if len(probs) > 0 {
				return fmt.Errorf("%d of %d values differ, e.g.:\n%s", len(probs), checked, strings.Join(probs[:min(10, len(probs))], "\n"))
			}
			return nil
		})
		t.Logf("%s: every platform exact (%d values checked)", when, checked)
	}
	converge("with both replicas")

	// Phase 2: SIGKILL replica A in the middle of a burst sent to both;
	// B takes over A's leases once they lapse and finishes.
	done := make(chan struct{})
	burst := make(chan struct{})
	go func() {
		defer close(done)
		sendTo(10, a.base, b.base)
		close(burst)
		sendTo(20, a.base, b.base)
	}()
	<-burst // A has acknowledged webhooks of this burst and has more coming
	a.kill()
	<-done
	b.skipLeases()
	sendTo(10, b.base)
	allWorked(t, logs, conn, len(acked))
	converge("after replica A was killed")
	b.stop()

	inStore := wooOrdersInStore(t, env.Store)
	for _, id := range acked {
		if !inStore[id] {
			t.Errorf("acknowledged webhook for WooCommerce order %s: the order is not in the store", id)
		}
	}
	inbox = pgCounts(t, conn, `SELECT 'unprocessed', COUNT(*) FROM inbox WHERE processed_at = 0`)
	if inbox["unprocessed"] != 0 {
		t.Errorf("%d inbox events unprocessed after the survivor finished", inbox["unprocessed"])
	}
	// A job the killed replica was running stays "running" until River's
	// rescuer (job timeout + 5 min, see internal/jobs) hands it to a live
	// replica; pulls and resegmentation are idempotent, and the next
	// period's jobs are not blocked by it. A job queued just before the
	// survivor stopped is still "available", and a pull cut off by the
	// stop is discarded: pulls make one attempt, the schedule is the retry.
	stuck := pgCounts(t, conn, `SELECT kind || ' ' || state, COUNT(*) FROM river_job WHERE state <> 'completed' GROUP BY 1`)
	for k, n := range stuck {
		if !strings.HasSuffix(k, " running") && !strings.HasSuffix(k, " available") && k != "sync discarded" && k != "resegment cancelled" &&
			!strings.HasSuffix(k, " scheduled") {
			t.Errorf("%d river jobs %s after both replicas stopped", n, k)
		}
	}
	t.Logf("river jobs left running by the killed replica: %v", stuck)
	t.Logf("%d acknowledged webhooks stored", len(acked))
}
