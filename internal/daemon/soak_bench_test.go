package daemon_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/sandbox"
)

var (
	soakPeople = flag.Int("soak.people", 50000, "people BenchmarkSoak generates")
	soakStream = flag.Duration("soak.stream", 5*time.Minute, "how long BenchmarkSoak streams webhooks after the first cycle")
	soakRate   = flag.Float64("soak.rate", 20, "webhooks per second BenchmarkSoak streams")
)

// soakDrainLimit bounds the wait for the inbox to drain once the stream
// ends; a backlog still there after it fails the benchmark.
const soakDrainLimit = 10 * time.Minute

// BenchmarkSoak runs the daemon as `connector run` does, on an SQLite
// file, against the sandbox's HubSpot, Salesforce and WooCommerce fakes
// with -soak.people generated people:
//
//  1. the first cycle: the scheduled first pull of every platform, the
//     segments and the write-back to every platform (first_cycle_s);
//  2. the echoes: every contact.propertyChange event HubSpot's fake
//     recorded for the values the connector wrote, delivered signed as
//     HubSpot delivers them (echoes_sent), and the HubSpot requests that
//     name any of those contacts while they are processed
//     (echo_platform_requests, which must be 0);
//  3. the stream: real changes with the fakes' own signed webhooks
//     (WooCommerce order.created, HubSpot contact.propertyChange,
//     Salesforce Outbound Messages) at -soak.rate for -soak.stream, the
//     inbox backlog sampled every second (max_backlog), and the time the
//     backlog takes to drain after the last webhook (drain_s);
//  4. the store: DB+WAL bytes after the run and after pruning with the
//     default retention a week and an hour later (App.Prune, as the
//     daemon's retention loop calls it), with the bytes in use (the file
//     keeps freed pages for reuse).
//
// It fails if the backlog does not drain, if an echo costs a platform
// request, or if an acknowledged webhook's change is not stored. The CPU
// metrics are the whole test process's (the fakes run in it too). Run it
// with -benchtime 1x.
func BenchmarkSoak(b *testing.B) {
	if testing.Short() {
		b.Skip("a soak of many minutes")
	}
	if b.N > 1 {
		b.Fatal("one soak per run: use -benchtime 1x")
	}
	ctx := context.Background()
	start := time.Now()
	cpu0 := cpuSeconds()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 15, Customers: *soakPeople, AsOf: start.UTC()})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	progress("sandbox of %d people started in %s", *soakPeople, time.Since(start).Round(time.Second))
	dir := b.TempDir()
	l := sb.ConnectorConfig(dir)
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		b.Fatal(err)
	}
	logPath := dir + "/connector.log"
	logFile, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	env, err := openApp(ctx, l, slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		b.Fatal(err)
	}
	defer env.Close(ctx)
	s := &soak{b: b, sb: sb, path: l.Config.Store.Path, logPath: logPath}
	s.db, err = sql.Open("sqlite", "file:"+s.path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer s.db.Close()

	b.ResetTimer()
	// 1. The first cycle, as a first start runs it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	d := env.newDaemon(daemon.Options{Listener: ln})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	stopped := false
	stopDaemon := func() {
		if stopped {
			return
		}
		stopped = true
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			b.Errorf("daemon: %v", err)
		}
	}
	defer stopDaemon()
	base := "http://" + d.Addr()
	cycleStart, cycleCPU := time.Now(), cpuSeconds()
	s.awaitFirstCycle(len(env.Platforms()))
	b.ReportMetric(time.Since(cycleStart).Seconds(), "first_cycle_s")
	b.ReportMetric(cpuSeconds()-cycleCPU, "first_cycle_cpu_s")
	for _, p := range sandbox.Platforms {
		if s.count(`SELECT COUNT(*) FROM outbox WHERE platform = ? AND status = 'done'`, p) == 0 {
			s.fatalf("the first cycle wrote nothing back to %s", p)
		}
	}
	progress("first cycle done in %s", time.Since(cycleStart).Round(time.Second))

	// 2. The echoes of what the first cycle wrote to HubSpot.
	s.echoes(ctx, base+"/webhooks/hubspot", env.Pipeline.TargetIDs(sandbox.HubSpot))

	// 3. The stream, with the backlog sampled every second.
	firstID := s.count(`SELECT COALESCE(MAX(id), 0) FROM inbox`)
	ordersBefore := slices.Clone(sb.WooFake.OrderIDs())
	streamCtx, endStream := context.WithTimeout(ctx, *soakStream)
	defer endStream()
	var maxBacklog atomic.Int64
	sampleCtx, endSample := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; ; i++ {
			n := int64(s.pending())
			if n > maxBacklog.Load() {
				maxBacklog.Store(n)
			}
			if i%30 == 0 {
				progress("inbox backlog %d (max %d)", n, maxBacklog.Load())
			}
			select {
			case <-sampleCtx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	streamCPU := cpuSeconds()
	rep, err := sb.FireWebhooks(streamCtx, sb.Targets(base+"/webhooks"), *soakRate, 0)
	if err != nil {
		s.fatalf("streaming webhooks: %v", err)
	}
	streamEnd := time.Now()
	acked := 0
	for p, n := range rep.Delivered {
		acked += n
		if rep.Failed[p] > 0 {
			s.fatalf("%d %s webhooks not acknowledged (of %d)", rep.Failed[p], p, rep.Changes[p])
		}
	}
	progress("stream done: %v delivered", rep.Delivered)
	s.awaitDrained(soakDrainLimit)
	drain := time.Since(streamEnd)
	endSample()
	<-sampled
	b.ReportMetric(float64(acked), "webhooks_acked")
	b.ReportMetric(float64(maxBacklog.Load()), "max_backlog")
	b.ReportMetric(drain.Seconds(), "drain_s")
	b.ReportMetric(cpuSeconds()-streamCPU, "stream_cpu_s")
	s.checkNothingLost(firstID, ordersBefore, rep)
	progress("drained %s after the stream", drain.Round(time.Second))

	// 4. The store after the run, and after a week of retention.
	apptest.WaitStoreQuiet(b, env.Store, 5*time.Minute)
	stopDaemon()
	b.StopTimer()
	before := s.size()
	pruned, err := env.Prune(ctx, time.Now().Add(7*24*time.Hour+time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	after := s.size()
	b.ReportMetric(float64(before.file+before.wal), "db+wal_bytes")
	b.ReportMetric(float64(before.file-before.free), "db_used_bytes")
	b.ReportMetric(float64(after.file+after.wal), "pruned_db+wal_bytes")
	b.ReportMetric(float64(after.file-after.free), "pruned_db_used_bytes")
	b.ReportMetric(cpuSeconds()-cpu0, "process_cpu_s")
	b.Logf("store before pruning: file %d, WAL %d, free pages %d bytes; pruned %+v; after: file %d, WAL %d, free %d",
		before.file, before.wal, before.free, pruned, after.file, after.wal, after.free)
	b.Logf("stream: changes %v, delivered %v; connector WARN+ log %d bytes", rep.Changes, rep.Delivered, fileSize(logPath))
}

// soak holds what BenchmarkSoak's phases share.
type soak struct {
	b       *testing.B
	sb      *sandbox.Sandbox
	db      *sql.DB // the store's file, read-only
	path    string
	logPath string
}

// fatalf fails the benchmark with the end of the connector's log.
func (s *soak) fatalf(format string, args ...any) {
	s.b.Helper()
	raw, _ := os.ReadFile(s.logPath)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	s.b.Logf("connector log, last lines:\n%s", strings.Join(lines[max(0, len(lines)-30):], "\n"))
	s.b.Fatalf(format, args...)
}

// count runs a COUNT-like query on the store's file.
func (s *soak) count(q string, args ...any) int {
	s.b.Helper()
	var n int
	if err := s.db.QueryRow(q, args...).Scan(&n); err != nil {
		s.b.Fatalf("%s: %v", q, err)
	}
	return n
}

// pending counts unprocessed webhook events.
func (s *soak) pending() int { return s.count(`SELECT COUNT(*) FROM inbox WHERE processed_at = 0`) }

// quiet reports whether the inbox and the outbox have nothing waiting.
func (s *soak) quiet() bool {
	return s.pending() == 0 && s.count(`SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'leased')`) == 0
}

// awaitFirstCycle waits until every platform's first pull, a
// resegmentation after them and the write-back it queued are done.
func (s *soak) awaitFirstCycle(platforms int) {
	s.b.Helper()
	deadline := time.Now().Add(45 * time.Minute)
	var since time.Time
	for i := 0; ; i++ {
		pulled := s.count(`SELECT COUNT(DISTINCT json_extract(args, '$.platform')) FROM river_job WHERE kind = 'sync' AND state = 'completed'`)
		resegmented := s.count(`SELECT COUNT(*) FROM river_job WHERE kind = 'resegment' AND state = 'completed'`)
		open := s.count(`SELECT COUNT(*) FROM river_job WHERE kind IN ('sync', 'resegment') AND state NOT IN ('completed', 'cancelled', 'discarded')`)
		if bad := s.count(`SELECT COUNT(*) FROM river_job WHERE kind IN ('sync', 'resegment') AND state = 'discarded'`); bad > 0 {
			s.fatalf("%d pull or resegment jobs failed for good", bad)
		}
		switch {
		case pulled < platforms || resegmented == 0 || open > 0 || !s.quiet():
			since = time.Time{}
		case since.IsZero():
			since = time.Now()
		case time.Since(since) >= 3*time.Second:
			return
		}
		if time.Now().After(deadline) {
			s.fatalf("the first cycle did not finish: %d of %d platforms pulled, %d resegmentations, %d jobs open, %d events pending",
				pulled, platforms, resegmented, open, s.pending())
		}
		if i%30 == 0 {
			progress("first cycle: %d of %d platforms pulled, %d resegmentations, %d outbox items waiting", pulled, platforms, resegmented,
				s.count(`SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'leased')`))
		}
		time.Sleep(time.Second)
	}
}

// awaitDrained waits until the inbox and outbox stay empty for a second.
func (s *soak) awaitDrained(within time.Duration) {
	s.b.Helper()
	deadline := time.Now().Add(within)
	var since time.Time
	for {
		switch {
		case s.pending() > 0:
			since = time.Time{}
		case since.IsZero():
			since = time.Now()
		case time.Since(since) >= time.Second:
			return
		}
		if time.Now().After(deadline) {
			s.fatalf("the inbox backlog did not drain within %v: %d events pending", within, s.pending())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// echoes delivers, signed, every property change HubSpot's fake recorded
// since seeding (each the connector's own write), the newest per contact
// and property, and fails if processing them makes any HubSpot request
// naming one of those contacts.
func (s *soak) echoes(ctx context.Context, url string, targets map[string]string) {
	s.b.Helper()
	props := map[string]bool{}
	for key, id := range targets {
		if strings.HasPrefix(key, "prop:") {
			props[id] = true
		}
	}
	type key struct {
		id   int64
		prop string
	}
	last := map[key]hubspotfake.Event{}
	for _, ev := range s.sb.HubSpotFake.TakeEvents() {
		if ev.SubscriptionType == "contact.propertyChange" && props[ev.PropertyName] {
			last[key{ev.ObjectID, ev.PropertyName}] = ev
		}
	}
	if len(last) == 0 {
		s.fatalf("HubSpot recorded no property change for the connector's writes")
	}
	events := make([]hubspotfake.Event, 0, len(last))
	ids := map[string]bool{}
	for _, ev := range last {
		events = append(events, ev)
		ids[strconv.FormatInt(ev.ObjectID, 10)] = true
	}
	slices.SortFunc(events, func(a, b hubspotfake.Event) int { return int(a.EventID - b.EventID) })
	var caused, total atomic.Int64
	var mu sync.Mutex
	examples := map[string]int{}
	s.sb.Observe(sandbox.HubSpot, func(r *http.Request) {
		total.Add(1)
		if namesAny(r, ids) {
			caused.Add(1)
			mu.Lock()
			examples[r.Method+" "+r.URL.Path]++
			mu.Unlock()
		}
	})
	defer s.sb.Observe(sandbox.HubSpot, nil)
	hs, _ := s.sb.Endpoint(sandbox.HubSpot)
	sent := time.Now()
	rep, err := s.sb.HubSpotFake.Deliver(ctx, hubspotfake.Delivery{URL: url, MaxRetries: 3,
		Signing: hubspotfake.Signing{ClientSecret: hs.Credentials["client_secret"]}}, events)
	if err != nil || rep.Failed > 0 {
		s.fatalf("delivering %d echoes: %d batches failed (%v)", len(events), rep.Failed, err)
	}
	s.awaitDrained(soakDrainLimit)
	// The write-back drainers poll every 2s: give a queued write time to
	// show up before counting.
	time.Sleep(3 * time.Second)
	s.b.ReportMetric(float64(len(events)), "echoes_sent")
	s.b.ReportMetric(time.Since(sent).Seconds()-3, "echoes_processed_s")
	s.b.ReportMetric(float64(caused.Load()), "echo_platform_requests")
	progress("%d echoes on %d contacts processed; %d HubSpot requests meanwhile, %d naming those contacts",
		len(events), len(ids), total.Load(), caused.Load())
	if caused.Load() > 0 {
		s.fatalf("%d echoes of the connector's own writes caused %d HubSpot requests naming their contacts: %v",
			len(events), caused.Load(), examples)
	}
}

// namesAny reports whether a request names a record in ids: in its path,
// in an "id" field of its JSON body or as an element of a JSON array
// (batch reads and writes, list membership changes, searches by id).
func namesAny(r *http.Request, ids map[string]bool) bool {
	for _, seg := range strings.Split(r.URL.Path, "/") {
		if ids[seg] {
			return true
		}
	}
	raw := bodyOf(r)
	if len(raw) == 0 {
		return false
	}
	var v any
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return false
	}
	var walk func(v any, named bool) bool
	walk = func(v any, named bool) bool {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if walk(e, k == "id") {
					return true
				}
			}
		case []any:
			for _, e := range x {
				if walk(e, true) {
					return true
				}
			}
		case string:
			return named && ids[x]
		case json.Number:
			return named && ids[x.String()]
		}
		return false
	}
	return walk(v, false)
}

// checkNothingLost fails unless every event stored since firstID is
// processed without error, each acknowledged delivery stored at least
// one event, and every order the stream created is in the store.
func (s *soak) checkNothingLost(firstID int, ordersBefore []int, rep sandbox.FireReport) {
	s.b.Helper()
	if n := s.count(`SELECT COUNT(*) FROM inbox WHERE id > ? AND processed_at = 0`, firstID); n > 0 {
		s.fatalf("%d acknowledged events not processed", n)
	}
	for p, n := range rep.Delivered {
		if got := s.count(`SELECT COUNT(*) FROM inbox WHERE id > ? AND platform = ?`, firstID, p); got < n {
			s.fatalf("%d %s webhooks acknowledged but %d events stored", n, p, got)
		}
	}
	old := map[int]bool{}
	for _, id := range ordersBefore {
		old[id] = true
	}
	stored := map[string]bool{}
	rows, err := s.db.Query(`SELECT ext_id FROM orders WHERE platform = ?`, sandbox.WooCommerce)
	if err != nil {
		s.b.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			s.b.Fatal(err)
		}
		stored[id] = true
	}
	if err := rows.Err(); err != nil {
		s.b.Fatal(err)
	}
	rows.Close()
	var missing []int
	fired := 0
	for _, id := range s.sb.WooFake.OrderIDs() {
		if old[id] {
			continue
		}
		fired++
		if !stored[strconv.Itoa(id)] {
			missing = append(missing, id)
		}
	}
	if fired == 0 || len(missing) > 0 {
		s.fatalf("%d of %d orders created during the stream are not in the store: %v", len(missing), fired, missing[:min(len(missing), 10)])
	}
}

// storeSize is the store's file, its WAL and the free pages in the file.
type storeSize struct{ file, wal, free int64 }

func (s *soak) size() storeSize {
	s.b.Helper()
	free := s.count(`PRAGMA freelist_count`)
	page := s.count(`PRAGMA page_size`)
	return storeSize{file: fileSize(s.path), wal: fileSize(s.path + "-wal"), free: int64(free) * int64(page)}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// cpuSeconds is the CPU time (user and system) this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// progress tells a watcher of a long benchmark where it is (stderr: the
// benchmark's output stays parseable).
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s soak: %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}
