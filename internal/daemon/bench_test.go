package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// The ingestion benchmark's load comes from a second process: the test
// binary re-executed with loadEnvVar naming a loadSpec file, which posts
// signed WooCommerce webhooks as fast as its connections allow and writes
// a loadResult next to the spec.

const loadEnvVar = "CONNECTOR_DAEMON_TEST_LOADGEN"

type loadSpec struct {
	URL     string
	Headers http.Header
	Body    []byte
	N       int
	Conns   int
	// Prefix makes every request's delivery id unique; Secret signs a body
	// made distinct per request, since the event id comes from the signed
	// content and a repeated body is (rightly) a duplicate.
	Prefix string
	Secret string
	Result string
}

type loadResult struct {
	OK, Failed int
	Seconds    float64
	FirstError string
}

// TestHelperLoadGenerator is not a test: it is the load generator.
func TestHelperLoadGenerator(t *testing.T) {
	path := os.Getenv(loadEnvVar)
	if path == "" {
		t.Skip("the load generator of the ingestion benchmark; runs only when re-executed by it")
	}
	if err := runLoad(path); err != nil {
		fmt.Fprintln(os.Stderr, "load generator:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runLoad(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var spec loadSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return err
	}
	tr := &http.Transport{MaxIdleConns: spec.Conns, MaxIdleConnsPerHost: spec.Conns, MaxConnsPerHost: spec.Conns}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next atomic.Int64
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range spec.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(spec.N) {
					return
				}
				body := spec.Body
				if spec.Secret != "" && len(body) > 1 && body[0] == '{' {
					body = append([]byte(`{"_bench_seq":`+strconv.FormatInt(i, 10)+`,`), body[1:]...)
				}
				req, err := http.NewRequest(http.MethodPost, spec.URL, bytes.NewReader(body))
				if err != nil {
					firstErr.CompareAndSwap(nil, err.Error())
					failed.Add(1)
					continue
				}
				req.Header = spec.Headers.Clone()
				req.Header.Set("X-WC-Webhook-Delivery-ID", spec.Prefix+strconv.FormatInt(i, 10))
				if spec.Secret != "" {
					req.Header.Set("X-WC-Webhook-Signature", woocommercefake.Sign(spec.Secret, body))
				}
				resp, err := client.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err.Error())
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					ok.Add(1)
				} else {
					firstErr.CompareAndSwap(nil, "HTTP "+resp.Status)
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res := loadResult{OK: int(ok.Load()), Failed: int(failed.Load()), Seconds: time.Since(start).Seconds()}
	if e, _ := firstErr.Load().(string); e != "" {
		res.FirstError = e
	}
	out, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return os.WriteFile(spec.Result, out, 0o600)
}

// runLoadProcess runs the load generator as a child process and returns
// what it measured.
func runLoadProcess(b *testing.B, spec loadSpec) loadResult {
	b.Helper()
	dir := b.TempDir()
	spec.Result = filepath.Join(dir, "result.json")
	raw, err := json.Marshal(spec)
	if err != nil {
		b.Fatal(err)
	}
	specPath := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specPath, raw, 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLoadGenerator$", "-test.count=1")
	cmd.Env = append(os.Environ(), loadEnvVar+"="+specPath)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("load generator: %v\n%s", err, out)
	}
	raw, err = os.ReadFile(spec.Result)
	if err != nil {
		b.Fatal(err)
	}
	var res loadResult
	if err := json.Unmarshal(raw, &res); err != nil {
		b.Fatal(err)
	}
	return res
}

// serve serves h on a loopback port until the benchmark ends.
func serve(b *testing.B, h http.Handler) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// BenchmarkWebhookIngest measures verified-and-stored WooCommerce order
// webhooks per second, with the load from a second process over loopback
// (64 connections), on SQLite and PostgreSQL, against a bare handler that
// reads the body and answers 200, measured in the same run. One op is
// one webhook; run it with a fixed count, e.g. -benchtime=20000x.
func BenchmarkWebhookIngest(b *testing.B) {
	const conns = 64
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 2, Customers: 30})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	secret := sb.Endpoints()[2].Credentials["webhook_secret"]
	headers, body := sb.WooFake.SignedDelivery("order.created", sb.WooFake.OrderIDs()[0], secret)

	var bare float64
	run := func(b *testing.B, url string, st store.Store) {
		if b.N < 1000 {
			// A handful of webhooks over 64 connections times connection
			// set-up, not the rate at which webhooks are stored.
			b.Logf("%d webhooks measure set-up, not throughput: run with -benchtime 20000x", b.N)
		}
		before := inboxRows(b, st)
		b.ResetTimer()
		res := runLoadProcess(b, loadSpec{URL: url, Headers: headers, Body: body, N: b.N, Conns: conns, Secret: secret,
			Prefix: fmt.Sprintf("bench-%d-%d-", time.Now().UnixNano(), b.N)})
		b.StopTimer()
		if res.Failed > 0 {
			b.Fatalf("%d of %d webhooks not acknowledged (first: %s)", res.Failed, b.N, res.FirstError)
		}
		perSec := float64(res.OK) / res.Seconds
		b.ReportMetric(perSec, "webhooks/s")
		if st == nil {
			bare = perSec
			return
		}
		if got := inboxRows(b, st) - before; got != b.N {
			b.Fatalf("%d webhooks acknowledged but %d inbox rows stored", b.N, got)
		}
		if bare > 0 {
			b.ReportMetric(perSec/bare, "x_bare")
		}
	}
	b.Run("bare", func(b *testing.B) {
		url := serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		})) + "/webhooks/woocommerce"
		run(b, url, nil)
	})
	daemonURL := func(b *testing.B, l *config.Loaded, group bool) (string, store.Store) {
		env, err := openApp(ctx, l, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { env.Close(ctx) })
		served := env
		if !group {
			// Hide the store's InboxAddBatch: one transaction per webhook.
			e := *env
			e.Store = struct{ store.Store }{env.Store}
			served = &e
		}
		// The handler only: verify, store, acknowledge. No inbox workers
		// compete for the store.
		return serve(b, served.newDaemon(daemon.Options{}).Handler()) + "/webhooks/woocommerce", env.Store
	}
	for _, group := range []bool{false, true} {
		name := "one-tx-per-webhook"
		if group {
			name = "group-commit"
		}
		b.Run("sqlite/"+name, func(b *testing.B) {
			l := sb.ConnectorConfig(b.TempDir())
			url, st := daemonURL(b, l, group)
			run(b, url, st)
		})
		b.Run("postgres/"+name, func(b *testing.B) {
			dsn := testenv.PostgresDSN(b)
			l := sb.ConnectorConfig(b.TempDir())
			l.Store.Driver, l.Store.DSN, l.Store.Schema = "postgres", dsn, pgSchema(b, dsn)
			url, st := daemonURL(b, l, group)
			run(b, url, st)
		})
	}
}

// inboxRows counts stored inbox events (all of them are pending: nothing
// processes them in the ingestion benchmark).
func inboxRows(b *testing.B, st store.Store) int {
	b.Helper()
	if st == nil {
		return 0
	}
	items, err := st.InboxPending(context.Background(), 10_000_000)
	if err != nil {
		b.Fatal(err)
	}
	return len(items)
}

// BenchmarkWebhookToWriteback fires WooCommerce order webhooks at 200/s
// for 6s at a running daemon (SQLite) and measures, per webhook that
// changed a customer's segments, the time from sending it to the HubSpot
// fake receiving the batch/update that writes that customer (p50_ms,
// p99_ms), the first list call that carries a change of that customer
// (lists_p50_ms, lists_p99_ms) and the WooCommerce fake receiving the
// customers/batch call with their meta (woo_p50_ms, woo_p99_ms) and the
// Salesforce fake receiving the composite update of their contact, for
// those also on Salesforce (sf_p50_ms, sf_p99_ms). The run is fixed: use
// -benchtime=1x.
//
// Sub-benchmarks: big orders (3 × $700, which move nearly every customer
// to another RFM group and so between HubSpot lists: the worst case for
// write-back calls) and small ones (1 × $25), with HubSpot's default
// pacing (property writes at once, list changes held 2s; see
// adapter.WritePacer), and the big orders again with
// write_back.membership_interval 0, which writes list changes with the
// property changes: the baseline. HubSpot keeps its Professional limit
// (190 per 10s), which its fake enforces, except in paced/api-pack (the
// API Limit Increase pack, 250 per 10s); WooCommerce its connector's
// default budget of 5 requests/s.
func BenchmarkWebhookToWriteback(b *testing.B) {
	b.Run("big-orders/paced", func(b *testing.B) { benchWebhookToWriteback(b, "", "", 3, 700_00) })
	b.Run("small-orders/paced", func(b *testing.B) { benchWebhookToWriteback(b, "", "", 1, 25_00) })
	b.Run("big-orders/lists-with-properties", func(b *testing.B) { benchWebhookToWriteback(b, "", "0s", 3, 700_00) })
	b.Run("big-orders/paced/api-pack", func(b *testing.B) { benchWebhookToWriteback(b, "api_pack", "", 3, 700_00) })
}

// benchWebhookToWriteback runs one sub-benchmark: tier is the HubSpot tier
// (default professional), membershipInterval HubSpot's
// write_back.membership_interval (default its own).
func benchWebhookToWriteback(b *testing.B, tier, membershipInterval string, qty, cents int64) {
	const perSecond, seconds = 200, 6
	ctx := context.Background()
	now := time.Now().UTC()
	// Each webhook is about a different customer, so each HubSpot write
	// answers exactly one webhook: 1,200 people with a WooCommerce account
	// and a HubSpot contact, about one in seven of the generated people
	// (4,600 people gave 650).
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 13, Customers: 10_000, AsOf: now, HubSpotTier: tier})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	l := sb.ConnectorConfig(b.TempDir())
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		b.Fatal(err)
	}
	if membershipInterval != "" {
		wb, _ := l.Platforms[sandbox.HubSpot]["write_back"].(map[string]any)
		if wb == nil {
			wb = map[string]any{}
		}
		wb["membership_interval"] = membershipInterval
		l.Platforms[sandbox.HubSpot]["write_back"] = wb
	}
	env, err := openApp(ctx, l, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer env.Close(ctx)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		b.Fatal(err)
	}
	// WooCommerce customer → HubSpot contact, through the profiles.
	hsOf := wooHubSpotPairs(b, env)
	customers := make([]int, 0, len(hsOf))
	for w := range hsOf {
		customers = append(customers, w)
	}
	slices.Sort(customers)
	if len(customers) < perSecond*seconds {
		b.Fatalf("only %d people on both WooCommerce and HubSpot, want %d", len(customers), perSecond*seconds)
	}

	// When each customer's webhook was sent (each is sent once), and when
	// HubSpot received the writes of each contact.
	var mu sync.Mutex
	sentAt := map[string]time.Time{}
	writes := recordHubSpotWrites(sb)
	defer sb.Observe(sandbox.HubSpot, nil)
	// And when WooCommerce received the meta write of each customer.
	wooAt := map[int]time.Time{}
	sb.Observe(sandbox.WooCommerce, func(r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/customers/batch") {
			return
		}
		at := time.Now()
		var req struct {
			Update []struct {
				ID int `json:"id"`
			} `json:"update"`
		}
		if json.Unmarshal(bodyOf(r), &req) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, u := range req.Update {
			markFirst(wooAt, u.ID, at)
		}
	})
	defer sb.Observe(sandbox.WooCommerce, nil)
	wooSent := map[int]time.Time{}
	// And when Salesforce received the field update of each contact (the
	// same people, where they are on Salesforce too).
	sfOf := wooPairs(b, env, sandbox.Salesforce)
	sfAt := map[string]time.Time{}
	sfSent := map[string]time.Time{}
	sb.Observe(sandbox.Salesforce, func(r *http.Request) {
		if r.Method != http.MethodPatch || !strings.HasSuffix(r.URL.Path, "/composite/sobjects") {
			return
		}
		at := time.Now()
		var req struct {
			Records []struct {
				ID string `json:"Id"`
			} `json:"records"`
		}
		if json.Unmarshal(bodyOf(r), &req) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, rec := range req.Records {
			markFirst(sfAt, rec.ID, at)
		}
	})
	defer sb.Observe(sandbox.Salesforce, nil)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	d := env.newDaemon(daemon.Options{Listener: ln, NoSchedule: true})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	secret := sb.Endpoints()[2].Credentials["webhook_secret"]
	sb.WooFake.AddWebhook("bench order.created", "order.created", "http://"+d.Addr()+"/webhooks/woocommerce", secret)

	sb.HubSpotFake.ResetCalls()
	sb.SalesforceFake.ResetCalls()
	b.ResetTimer()
	var fired, acked atomic.Int64
	if b.N > 1 {
		b.Fatal("each customer is written back once: run with -benchtime 1x")
	}
	for range b.N {
		lim := rate.NewLimiter(perSecond, 1)
		var wg sync.WaitGroup
		for i := 0; i < perSecond*seconds; i++ {
			if err := lim.Wait(ctx); err != nil {
				b.Fatal(err)
			}
			woo := customers[i%len(customers)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				oid := sb.NewWooOrder(woo, "", []domain.LineItem{{SKU: "BENCH", Name: "bench order", Category: "garden", Quantity: qty,
					UnitPrice: domain.Money{Amount: cents, Currency: "USD"}}}, "mobile")
				mu.Lock()
				sentAt[hsOf[woo]] = time.Now()
				wooSent[woo] = sentAt[hsOf[woo]]
				if sf, ok := sfOf[woo]; ok {
					sfSent[sf] = sentAt[hsOf[woo]]
				}
				mu.Unlock()
				fired.Add(1)
				for _, dl := range sb.WooFake.Trigger(ctx, "order.created", oid) {
					if dl.Err == nil && dl.Status/100 == 2 {
						acked.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		apptest.WaitStoreQuiet(b, env.Store, 60*time.Second)
	}
	b.StopTimer()
	// The daemon's own view: receipt to write-back queued.
	if q50, q99, err := histogramQuantiles("http://"+d.Addr()+"/metrics", "connector_webhook_to_writeback_seconds"); err == nil {
		b.ReportMetric(q50*1000, "queued_p50_ms<=")
		b.ReportMetric(q99*1000, "queued_p99_ms<=")
	} else {
		b.Logf("reading the daemon's histogram: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	writes.mu.Lock()
	defer writes.mu.Unlock()
	var lat, listLat []time.Duration
	for id, sent := range sentAt {
		if at, ok := writes.propAt[id]; ok {
			lat = append(lat, at.Sub(sent))
		}
		if at, ok := writes.listAt[id]; ok {
			listLat = append(listLat, at.Sub(sent))
		}
	}
	if len(lat) == 0 {
		b.Fatal("no webhook led to a HubSpot write-back")
	}
	q := func(lat []time.Duration, p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		slices.Sort(lat)
		return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(lat, 0.50), "p50_ms")
	b.ReportMetric(q(lat, 0.99), "p99_ms")
	b.ReportMetric(q(lat, 1), "max_ms")
	b.ReportMetric(float64(len(lat)), "written_back")
	b.ReportMetric(q(listLat, 0.50), "lists_p50_ms")
	b.ReportMetric(q(listLat, 0.99), "lists_p99_ms")
	b.ReportMetric(float64(len(listLat)), "list_changes")
	var wooLat []time.Duration
	for id, sent := range wooSent {
		if at, ok := wooAt[id]; ok && at.After(sent) {
			wooLat = append(wooLat, at.Sub(sent))
		}
	}
	b.ReportMetric(q(wooLat, 0.50), "woo_p50_ms")
	b.ReportMetric(q(wooLat, 0.99), "woo_p99_ms")
	var sfLat []time.Duration
	for id, sent := range sfSent {
		if at, ok := sfAt[id]; ok && at.After(sent) {
			sfLat = append(sfLat, at.Sub(sent))
		}
	}
	b.ReportMetric(q(sfLat, 0.50), "sf_p50_ms")
	b.ReportMetric(q(sfLat, 0.99), "sf_p99_ms")
	b.ReportMetric(float64(len(sfLat)), "sf_written_back")
	b.ReportMetric(float64(acked.Load()), "acknowledged")
	b.Logf("%d webhooks fired, %d acknowledged, %d HubSpot write-backs matched", fired.Load(), acked.Load(), len(lat))
	var calls []string
	for k, n := range sb.HubSpotFake.Calls() {
		calls = append(calls, fmt.Sprintf("%s: %d", k, n))
	}
	slices.Sort(calls)
	b.Logf("HubSpot calls while firing: %s", strings.Join(calls, "; "))
	calls = calls[:0]
	for k, n := range sb.SalesforceFake.Calls() {
		calls = append(calls, fmt.Sprintf("%s: %d", k, n))
	}
	slices.Sort(calls)
	b.Logf("Salesforce calls while firing: %s", strings.Join(calls, "; "))
}

// bodyOf reads a request's body for a fake's hook and puts it back.
func bodyOf(r *http.Request) []byte {
	raw, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return raw
}

// markFirst records at as the time id was first seen.
func markFirst[K comparable](m map[K]time.Time, id K, at time.Time) {
	if _, ok := m[id]; !ok {
		m[id] = at
	}
}

// histogramQuantiles reads a Prometheus histogram from a /metrics page
// and returns the bucket bounds that hold its 50th and 99th percentiles.
func histogramQuantiles(url, name string) (p50, p99 float64, err error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	type bucket struct{ le, n float64 }
	var bs []bucket
	for _, line := range strings.Split(string(raw), "\n") {
		rest, ok := strings.CutPrefix(line, name+`_bucket{le="`)
		if !ok {
			continue
		}
		le, count, _ := strings.Cut(rest, `"} `)
		l, err1 := strconv.ParseFloat(le, 64)
		n, err2 := strconv.ParseFloat(strings.TrimSpace(count), 64)
		if err1 != nil || err2 != nil {
			continue
		}
		bs = append(bs, bucket{l, n})
	}
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return 0, 0, fmt.Errorf("no %s observations", name)
	}
	total := bs[len(bs)-1].n
	q := func(p float64) float64 {
		for _, b := range bs {
			if b.n >= p*total {
				return b.le
			}
		}
		return bs[len(bs)-1].le
	}
	return q(0.5), q(0.99), nil
}
