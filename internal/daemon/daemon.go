package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/internal/jobs"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/store"
)

// inboxBatch is how many webhook events an inbox worker claims at once.
const inboxBatch = 100

// maxWebhookBody bounds what a webhook request may send.
const maxWebhookBody = 8 << 20

// Options tune a Daemon beyond its configuration.
type Options struct {
	// Listener, when set, is used instead of listening on server.listen.
	Listener net.Listener
	// InboxWorkers process webhook events concurrently (default 2).
	InboxWorkers int
	// DrainInterval is how often each platform's outbox is polled when
	// nothing nudges it (default 2s).
	DrainInterval time.Duration
	// RelayInterval is how often the outbound relay checks for segment
	// changes a failed or interrupted relay left behind (default 5s).
	RelayInterval time.Duration
	// SegmentSizeInterval is how often the segment size gauges are
	// counted afresh from the store (default 1m); between counts they
	// follow the changes this daemon records.
	SegmentSizeInterval time.Duration
	// NoSchedule disables the periodic pulls (tests drive them).
	NoSchedule bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Daemon is `connector run`.
type Daemon struct {
	env     *Env
	opts    Options
	log     *slog.Logger
	metrics *metrics
	queue   jobs.Queue
	server  *http.Server
	ln      net.Listener

	inboxNudge chan struct{}
	inbox      *groupCommit // nil when the store cannot batch
	drainNudge map[string]chan struct{}
	ready      chan struct{}
	wg         sync.WaitGroup
}

// New prepares a Daemon over an opened Env.
func New(env *Env, opts Options) *Daemon {
	if opts.InboxWorkers <= 0 {
		opts.InboxWorkers = 2
	}
	if opts.DrainInterval <= 0 {
		opts.DrainInterval = 2 * time.Second
	}
	if opts.SegmentSizeInterval <= 0 {
		opts.SegmentSizeInterval = time.Minute
	}
	if opts.RelayInterval <= 0 {
		opts.RelayInterval = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := env.metrics
	if m == nil {
		m = newMetrics() // an Env not made by Open
	}
	d := &Daemon{
		env: env, opts: opts, log: env.Log, metrics: m,
		inboxNudge: make(chan struct{}, 1), drainNudge: map[string]chan struct{}{}, ready: make(chan struct{}),
	}
	for _, p := range env.Pipeline.Platforms() {
		d.drainNudge[p] = make(chan struct{}, 1)
	}
	if b, ok := env.Store.(batchInbox); ok {
		d.inbox = newGroupCommit(b.InboxAddBatch)
	}
	return d
}

// storeEvents stores a webhook's events durably, sharing the transaction
// with concurrent webhooks when the store allows (see groupCommit).
func (d *Daemon) storeEvents(ctx context.Context, items []store.InboxItem) error {
	if len(items) == 0 {
		return nil
	}
	if d.inbox != nil {
		return d.inbox.store(ctx, items)
	}
	for _, it := range items {
		if _, _, err := d.env.Store.InboxAdd(ctx, it); err != nil {
			return err
		}
	}
	return nil
}

// Addr returns the HTTP listener's address once Run has started listening.
func (d *Daemon) Addr() string {
	<-d.ready
	return d.ln.Addr().String()
}

// Handler returns the daemon's HTTP routes.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/{platform}", d.handleWebhook)
	mux.HandleFunc("POST /webhooks/{platform}/{rest...}", d.handleWebhook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", d.handleReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/summary", d.handleSummary)
	mux.HandleFunc("GET /{$}", d.handleDashboard)
	return mux
}

// Run serves until ctx ends, then shuts down gracefully within the
// configured shutdown timeout: the HTTP server stops taking webhooks,
// running jobs finish or are released for another replica, and leases on
// inbox and outbox items lapse so nothing acknowledged is lost.
func (d *Daemon) Run(ctx context.Context) error {
	cfg := d.env.Config
	ln := d.opts.Listener
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", cfg.Server.Listen)
		if err != nil {
			return fmt.Errorf("listening on %s: %w", cfg.Server.Listen, err)
		}
	}
	d.ln = ln
	q, err := d.openQueue(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	d.queue = q
	defer q.Close()
	if err := q.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	for i := 0; i < d.opts.InboxWorkers; i++ {
		d.wg.Add(1)
		go d.inboxLoop(workCtx)
	}
	for _, p := range d.env.Pipeline.Platforms() {
		if pace := d.pacing(p); pace.MembershipEvery > 0 {
			d.wg.Add(2)
			go d.propertyLoop(workCtx, p, pace)
			go d.membershipLoop(workCtx, p, pace)
			continue
		}
		d.wg.Add(1)
		go d.drainLoop(workCtx, p, d.pacing(p).PropertyEvery)
	}
	d.wg.Add(1)
	go d.gaugeLoop(workCtx)
	if d.env.Outbound != nil {
		d.wg.Add(2)
		go d.relayLoop(workCtx)
		go func() {
			defer d.wg.Done()
			if err := d.env.Outbound.Run(workCtx); err != nil && workCtx.Err() == nil {
				d.log.Error("outbound webhooks stopped", "err", err)
			}
		}()
	}

	d.server = &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- d.server.Serve(ln) }()
	close(d.ready)
	d.log.Info("connector running", "listen", ln.Addr().String(), "platforms", d.env.Pipeline.Platforms())

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("serving http: %w", err)
		}
	}
	d.log.Info("shutting down", "timeout", cfg.Server.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := d.server.Shutdown(sctx); err != nil {
		d.log.Warn("stopping http server", "err", err)
	}
	if err := q.Stop(sctx); err != nil {
		d.log.Warn("stopping job queue", "err", err)
	}
	stopWork()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-sctx.Done():
		d.log.Warn("workers still busy at shutdown timeout; their leases will lapse and another run retries them")
	}
	return runErr
}

func (d *Daemon) handleReady(w http.ResponseWriter, r *http.Request) {
	if _, err := d.env.Store.CountProfiles(r.Context()); err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

// handleWebhook verifies, stores, then acknowledges. A request that cannot
// be stored is not acknowledged, so the platform sends it again.
func (d *Daemon) handleWebhook(w http.ResponseWriter, r *http.Request) {
	platform := r.PathValue("platform")
	a, ok := d.env.Adapters[platform]
	if !ok {
		http.Error(w, "unknown platform", http.StatusNotFound)
		return
	}
	received := d.opts.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		d.metrics.webhooks.WithLabelValues(platform, "too_large").Inc()
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	req := adapter.WebhookRequest{Method: r.Method, URL: d.publicURL(r), Headers: r.Header, Body: body, ReceivedAt: received}
	res, err := a.VerifyWebhook(r.Context(), req)
	if err != nil {
		kind := adapter.KindOf(err)
		d.log.Warn("webhook rejected", "platform", platform, "kind", kind.String(), "err", err, "remote", r.RemoteAddr)
		if kind == adapter.KindAuth {
			d.metrics.webhooks.WithLabelValues(platform, "unauthorized").Inc()
			http.Error(w, "webhook signature does not verify", http.StatusUnauthorized)
			return
		}
		d.metrics.webhooks.WithLabelValues(platform, "bad_request").Inc()
		http.Error(w, "malformed webhook: "+err.Error(), http.StatusBadRequest)
		return
	}
	items := make([]store.InboxItem, 0, len(res.Events))
	for i, ev := range res.Events {
		id := ev.ID
		if id == "" {
			sum := sha256.Sum256(body)
			id = fmt.Sprintf("body:%s:%d", hex.EncodeToString(sum[:12]), i)
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			http.Error(w, "encoding event", http.StatusInternalServerError)
			return
		}
		items = append(items, store.InboxItem{Platform: platform, EventID: id, ReceivedAt: received, Payload: payload})
	}
	if err := d.storeEvents(r.Context(), items); err != nil {
		d.log.Error("storing webhook events", "platform", platform, "events", len(items), "err", err)
		d.metrics.webhooks.WithLabelValues(platform, "store_error").Inc()
		http.Error(w, "could not store the event; send it again", http.StatusServiceUnavailable)
		return
	}
	d.metrics.webhooks.WithLabelValues(platform, "accepted").Inc()
	nudge(d.inboxNudge)
	status := res.Status
	if status == 0 {
		status = http.StatusOK
	}
	if res.ContentType != "" {
		w.Header().Set("Content-Type", res.ContentType)
	}
	w.WriteHeader(status)
	_, _ = w.Write(res.Body)
}

// publicURL is the URL the platform called, which some platforms sign.
func (d *Daemon) publicURL(r *http.Request) string {
	if base := strings.TrimSuffix(d.env.Config.Server.PublicURL, "/"); base != "" {
		return base + r.URL.RequestURI()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

func nudge(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// inboxLoop processes stored webhook events: fetch what they announced,
// store it, resegment the touched profiles and queue their write-back.
func (d *Daemon) inboxLoop(ctx context.Context) {
	defer d.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		// A short batch took everything due: events stored since nudged
		// the loop again, so claiming once more would find nothing and
		// only queue for the store's writer.
		for d.processInbox(ctx) == inboxBatch {
		}
		select {
		case <-ctx.Done():
			return
		case <-d.inboxNudge:
		case <-tick.C:
		}
	}
}

// processInbox handles one claimed batch and returns its size.
func (d *Daemon) processInbox(ctx context.Context) int {
	items, err := d.env.Store.InboxClaim(ctx, inboxBatch, time.Minute)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("claiming webhook events", "err", err)
		}
		return 0
	}
	if len(items) == 0 {
		return 0
	}
	byPlatform := map[string][]store.InboxItem{}
	for _, it := range items {
		byPlatform[it.Platform] = append(byPlatform[it.Platform], it)
	}
	for platform, its := range byPlatform {
		d.handleEvents(ctx, platform, its)
	}
	return len(items)
}

func (d *Daemon) handleEvents(ctx context.Context, platform string, items []store.InboxItem) {
	var events []adapter.WebhookEvent
	var good []store.InboxItem
	for _, it := range items {
		var ev adapter.WebhookEvent
		if err := json.Unmarshal(it.Payload, &ev); err != nil {
			// Unreadable forever: mark it done with the reason logged, so it
			// does not block the rest.
			d.log.Error("dropping unreadable inbox event", "platform", platform, "event", it.EventID, "err", err)
			_ = d.env.Store.InboxDone(ctx, it.ID)
			continue
		}
		events = append(events, ev)
		good = append(good, it)
	}
	fail := func(err error) {
		d.metrics.errors.WithLabelValues(platform, "webhook", adapter.KindOf(err).String()).Inc()
		d.log.Warn("processing webhook events", "platform", platform, "events", len(good), "err", err)
		retry := d.opts.Now().Add(retryAfter(err, good))
		for _, it := range good {
			if ferr := d.env.Store.InboxFailed(ctx, it.ID, err.Error(), retry); ferr != nil {
				d.log.Error("releasing webhook event", "event", it.EventID, "err", ferr)
			}
		}
	}
	d.metrics.calls.WithLabelValues(platform, "fetch").Inc()
	touched, err := d.env.Pipeline.ApplyWebhookEvents(ctx, platform, events)
	if err != nil {
		fail(err)
		return
	}
	ids := make([]int64, len(good))
	for i, it := range good {
		ids[i] = it.ID
	}
	// The events are marked processed with the plan they caused, in its
	// transaction, or on their own when they touched nobody.
	recorded, err := d.resegment(ctx, touched, ids)
	if err != nil {
		fail(err)
		return
	}
	if !recorded {
		if err := d.env.Store.InboxDone(ctx, ids...); err != nil {
			// Processed again later: the store and the outbox make that
			// a no-op, so this costs work, not correctness.
			d.log.Error("marking webhook events done", "events", len(ids), "err", err)
		}
	}
	for _, it := range good {
		d.metrics.webhookLatency.Observe(d.opts.Now().Sub(it.ReceivedAt).Seconds())
	}
}

func retryAfter(err error, items []store.InboxItem) time.Duration {
	attempts := 0
	if len(items) > 0 {
		attempts = items[0].Attempts
	}
	return store.InboxRetry().After(err, attempts+1)
}

// resegment rescores the touched profiles, records their membership
// changes, queues the write-back, marks the inbox events inboxDone
// processed with them and nudges the drainers. It reports whether it
// recorded anything (and so marked the events).
func (d *Daemon) resegment(ctx context.Context, profiles []string, inboxDone []int64) (recorded bool, err error) {
	if len(profiles) == 0 {
		return false, nil
	}
	unlock, err := d.env.LockSegments(ctx)
	if err != nil {
		return false, err
	}
	defer unlock()
	plan, err := d.env.Pipeline.Resegment(ctx, profiles, d.opts.Now())
	if err != nil {
		return false, err
	}
	if err := d.env.ApplyPlan(ctx, plan, inboxDone...); err != nil {
		return false, err
	}
	d.metrics.segmentChanges(plan.Memberships)
	for _, pp := range plan.Platforms {
		if len(pp.Items) > 0 {
			if c, ok := d.drainNudge[pp.Platform]; ok {
				nudge(c)
			}
		}
	}
	return true, nil
}

// drainLoop pushes one platform's outbox. Each platform has its own loop,
// so a slow or failing platform never holds up the others. With every
// set, it pushes one round at most that often, claiming the round only
// when it can be sent, so the round takes everything queued meanwhile;
// otherwise it drains rounds back to back.
func (d *Daemon) drainLoop(ctx context.Context, platform string, every time.Duration) {
	defer d.wg.Done()
	tick := time.NewTicker(d.opts.DrainInterval)
	defer tick.Stop()
	var last time.Time
	for {
		var st pipeline.DrainStats
		var err error
		if every > 0 {
			if !sleepUntil(ctx, last.Add(every)) {
				return
			}
			start := time.Now()
			st, err = d.env.Pipeline.DrainRound(ctx, platform)
			if st.Calls > 0 {
				last = start
			}
			d.drained(ctx, platform, st, err)
			if err == nil && st.Claimed > 0 {
				continue // more may be waiting
			}
		} else {
			st, err = d.env.Pipeline.Drain(ctx, platform)
			d.drained(ctx, platform, st, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-d.drainNudge[platform]:
		case <-tick.C:
		}
	}
}

// sleepUntil waits until t, reporting false if ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	wait := time.Until(t)
	if wait <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// pacing is how the platform's adapter wants live write-back paced; zero
// when it has no preference.
func (d *Daemon) pacing(platform string) adapter.WritePacing {
	if wp, ok := d.env.Adapters[platform].(adapter.WritePacer); ok {
		return wp.WritePacing()
	}
	return adapter.WritePacing{}
}

// drained records one drain's outcome in the metrics and the log.
func (d *Daemon) drained(ctx context.Context, platform string, st pipeline.DrainStats, err error) {
	if st.Calls > 0 {
		d.metrics.calls.WithLabelValues(platform, "push").Add(float64(st.Calls))
		d.metrics.pushed.WithLabelValues(platform, "ok").Add(float64(st.OK))
		d.metrics.pushed.WithLabelValues(platform, "retryable").Add(float64(st.Retryable))
		d.metrics.pushed.WithLabelValues(platform, "permanent").Add(float64(st.Permanent))
	}
	if err != nil && ctx.Err() == nil {
		kind := adapter.KindOf(err)
		d.metrics.errors.WithLabelValues(platform, "push", kind.String()).Inc()
		if ra := adapter.RetryAfterOf(err); ra > 0 {
			d.metrics.rateLimited.WithLabelValues(platform).Add(ra.Seconds())
		}
		d.log.Warn("write-back paused", "platform", platform, "kind", kind.String(), "err", err)
	}
}

// propertyLoop writes a paced platform's property changes as they come,
// one push at most every pace.PropertyEvery, and defers membership
// changes to membershipLoop.
func (d *Daemon) propertyLoop(ctx context.Context, platform string, pace adapter.WritePacing) {
	defer d.wg.Done()
	tick := time.NewTicker(d.opts.DrainInterval)
	defer tick.Stop()
	var last time.Time
	for {
		if !sleepUntil(ctx, last.Add(pace.PropertyEvery)) {
			return
		}
		start := time.Now()
		st, err := d.env.Pipeline.DrainProperties(ctx, platform, pace.MembershipEvery)
		d.drained(ctx, platform, st, err)
		if st.Calls > 0 {
			last = start
		}
		if err == nil && st.Claimed > 0 {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-d.drainNudge[platform]:
		case <-tick.C:
		}
	}
}

// membershipLoop writes a paced platform's deferred membership changes
// on multiples of pace.MembershipEvery, where DrainProperties made them
// due, so each list's changes of many records share one call. A round
// that made n calls skips the boundaries closer than n ×
// pace.MembershipCallEvery, keeping list calls to their budget share.
func (d *Daemon) membershipLoop(ctx context.Context, platform string, pace adapter.WritePacing) {
	defer d.wg.Done()
	var earliest time.Time
	for {
		now := time.Now()
		next := now.Truncate(pace.MembershipEvery).Add(pace.MembershipEvery)
		if next.Before(earliest) {
			next = earliest.Truncate(pace.MembershipEvery).Add(pace.MembershipEvery)
		}
		if !sleepUntil(ctx, next) {
			return
		}
		start := time.Now()
		st, err := d.env.Pipeline.DrainMemberships(ctx, platform)
		d.drained(ctx, platform, st, err)
		earliest = start.Add(time.Duration(st.Requests) * pace.MembershipCallEvery)
	}
}

// relayLoop publishes segment changes that no relay has published yet:
// those a crash right after recording a plan, or a failed relay, left in
// the membership history. It checks at the start and then every
// RelayInterval, and takes the segment lock only when something waits.
func (d *Daemon) relayLoop(ctx context.Context) {
	defer d.wg.Done()
	tick := time.NewTicker(d.opts.RelayInterval)
	defer tick.Stop()
	for {
		if err := d.relayBehind(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("relaying segment events to the outbound webhooks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (d *Daemon) relayBehind(ctx context.Context) error {
	behind, err := d.env.relayBehind(ctx)
	if err != nil || !behind {
		return err
	}
	unlock, err := d.env.LockSegments(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	n, err := d.env.RelaySegmentEvents(ctx)
	if n > 0 {
		d.log.Info("relayed segment events left from an earlier run", "events", n)
	}
	return err
}

// gaugeLoop refreshes the queue depth gauges every 5 s and the segment
// sizes every SegmentSizeInterval.
func (d *Daemon) gaugeLoop(ctx context.Context) {
	defer d.wg.Done()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	var counted time.Time
	for {
		if time.Since(counted) >= d.opts.SegmentSizeInterval {
			counted = time.Now()
			if sizes, err := d.env.Store.SegmentSizes(ctx); err == nil {
				if res := d.env.Pipeline.LastResult(); res != nil {
					for _, s := range res.Segments {
						sizes[s.Name] += 0 // an emptied segment reads 0, not its old size
					}
				}
				d.metrics.segmentSizes(sizes)
			} else if ctx.Err() == nil {
				d.log.Warn("counting segment members", "err", err)
			}
		}
		if pending, err := d.env.Store.InboxPending(ctx, 100000); err == nil {
			d.metrics.queueDepth.WithLabelValues("inbox").Set(float64(len(pending)))
		}
		if stats, err := d.env.Store.OutboxStats(ctx); err == nil {
			d.metrics.queueDepth.WithLabelValues("outbox").Set(float64(stats[store.OutboxPending] + stats[store.OutboxLeased]))
			d.metrics.queueDepth.WithLabelValues("outbox_failed").Set(float64(stats[store.OutboxFailed]))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// river is imported for job kinds in jobs.go.
var _ river.JobArgs = syncArgs{}
