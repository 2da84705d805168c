// Package daemon runs what `connector run` keeps running: the public HTTP
// server (webhooks, health, metrics), the web app on its own admin
// listener (package web), the webhook inbox workers, the
// per-platform write-back drainers, the outbound relay's catch-up and the
// scheduled jobs on the durable job queue. Each step of work is a use case
// of internal/app; the daemon decides when it runs and counts it in the
// metrics.
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
	"sync/atomic"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/internal/jobs"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// inboxBatch is how many webhook events an inbox worker claims at once.
const inboxBatch = 100

// releaseTimeout bounds handing back work that shutdown interrupted.
const releaseTimeout = 5 * time.Second

// maxWebhookBody bounds what a webhook request may send.
const maxWebhookBody = 8 << 20

// Options tune a Daemon beyond its configuration.
type Options struct {
	// Listener, when set, is used instead of listening on server.listen.
	Listener net.Listener
	// AdminListener, when set, serves the web app instead of listening
	// on server.admin_listen.
	AdminListener net.Listener
	// Health, when set, reports platform health to the web app.
	Health func() []health.Status
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
	// Metrics are the series the daemon serves; pass the ones whose
	// HTTPObserver was given to app.Open so adapter requests are counted.
	// Default: fresh metrics.
	Metrics *Metrics
	// Limits bound slow clients and floods on the public listener.
	Limits ServerLimits
	// AlertInterval overrides alerts.interval (tests).
	AlertInterval time.Duration
	// WebhookCheckInterval is how often the platforms' webhook
	// subscriptions are looked at (default 5m).
	WebhookCheckInterval time.Duration
}

// Daemon is `connector run`.
type Daemon struct {
	app     *app.App
	opts    Options
	log     *slog.Logger
	metrics *Metrics
	queue   jobs.Queue
	server  *http.Server
	ln      net.Listener
	admin   *http.Server // the web app; nil when off
	adminLn net.Listener

	inboxNudge chan struct{}
	inbox      *groupCommit // nil when the store cannot batch
	drainNudge map[string]chan struct{}
	rejects    *sampledLog // warnings anyone on the internet can cause
	gate       firstPullGate
	// pulling serialises each platform's pulls in this process.
	pulling map[string]*sync.Mutex
	// stopping is set when shutdown begins.
	stopping atomic.Bool
	ready    chan struct{}
	wg       sync.WaitGroup
}

// New prepares a Daemon over an opened App.
func New(a *app.App, opts Options) *Daemon {
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
	if opts.WebhookCheckInterval <= 0 {
		opts.WebhookCheckInterval = defaultWebhookCheck
	}
	opts.Limits = opts.Limits.withDefaults()
	m := opts.Metrics
	if m == nil {
		m = NewMetrics()
	}
	d := &Daemon{
		app: a, opts: opts, log: a.Log, metrics: m,
		inboxNudge: make(chan struct{}, 1), drainNudge: map[string]chan struct{}{}, ready: make(chan struct{}),
		rejects: newSampledLog(a.Log, opts.Limits.RejectLogInterval),
	}
	d.pulling = map[string]*sync.Mutex{}
	for _, p := range a.Platforms() {
		d.drainNudge[p] = make(chan struct{}, 1)
		d.pulling[p] = &sync.Mutex{}
	}
	if b, ok := a.Store.(batchInbox); ok {
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
		if _, _, err := d.app.Store.InboxAdd(ctx, it); err != nil {
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
	mux.Handle("GET /metrics", d.metricsHandler())
	mux.Handle("GET /api/v1/status", d.statusHandler())
	return mux
}

// Run serves until ctx ends, then shuts down gracefully within the
// configured shutdown timeout: the HTTP server stops taking webhooks,
// running jobs finish or are released for another replica, and leases on
// inbox and outbox items lapse so nothing acknowledged is lost.
func (d *Daemon) Run(ctx context.Context) error {
	cfg := d.app.Config
	ln := d.opts.Listener
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", cfg.Server.Listen)
		if err != nil {
			return fmt.Errorf("listening on %s: %w", cfg.Server.Listen, err)
		}
	}
	d.ln = ln
	if err := d.startAdmin(); err != nil {
		ln.Close()
		return err
	}
	q, err := d.openQueue(ctx)
	if err != nil {
		ln.Close()
		d.stopAdmin(ctx)
		return err
	}
	d.queue = q
	defer q.Close()
	if err := q.Start(ctx); err != nil {
		ln.Close()
		d.stopAdmin(ctx)
		return err
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	for i := 0; i < d.opts.InboxWorkers; i++ {
		d.wg.Add(1)
		go d.inboxLoop(workCtx)
	}
	for _, p := range d.app.Platforms() {
		if pace := d.pacing(p); pace.MembershipEvery > 0 {
			d.wg.Add(2)
			go d.propertyLoop(workCtx, p, pace)
			go d.membershipLoop(workCtx, p, pace)
			continue
		}
		d.wg.Add(1)
		go d.drainLoop(workCtx, p, d.pacing(p).PropertyEvery)
	}
	d.wg.Add(2)
	go d.gaugeLoop(workCtx)
	go d.retentionLoop(workCtx)
	d.startAlerts(workCtx)
	d.wg.Add(2)
	go d.erasureLoop(workCtx)
	go d.webhookWatchLoop(workCtx)
	if d.app.Outbound != nil {
		d.wg.Add(2)
		go d.relayLoop(workCtx)
		go func() {
			defer d.wg.Done()
			if err := d.app.Outbound.Run(workCtx); err != nil && workCtx.Err() == nil {
				d.log.Error("outbound webhooks stopped", "err", err)
			}
		}()
	}

	d.server = newServer(d.Handler(), d.opts.Limits, d.log)
	capped := limitPerIP(ln, d.opts.Limits.MaxConnsPerIP, func(ip string) {
		d.rejects.warn(ctx, ip, "connection closed: too many open from one address", "remote", ip, "max", d.opts.Limits.MaxConnsPerIP)
	})
	serveErr := make(chan error, 1)
	go func() { serveErr <- d.server.Serve(capped) }()
	close(d.ready)
	d.log.Info("connector running", "listen", ln.Addr().String(), "platforms", d.app.Platforms())

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("serving http: %w", err)
		}
	}
	d.stopping.Store(true)
	d.log.Info("shutting down", "timeout", cfg.Server.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := d.server.Shutdown(sctx); err != nil {
		d.log.Warn("stopping http server", "err", err)
	}
	d.stopAdmin(sctx)
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
	if _, err := d.app.Store.CountProfiles(r.Context()); err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

// handleWebhook verifies, stores, then acknowledges. A request that cannot
// be stored is not acknowledged, so the platform sends it again.
func (d *Daemon) handleWebhook(w http.ResponseWriter, r *http.Request) {
	platform := r.PathValue("platform")
	a, ok := d.app.Adapters[platform]
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
		d.rejects.warn(r.Context(), remoteAddrIP(r.RemoteAddr), "webhook rejected", "platform", platform, "kind", kind.String(), "err", err, "remote", r.RemoteAddr)
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
	if base := strings.TrimSuffix(d.app.Config.Server.PublicURL, "/"); base != "" {
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
	items, err := d.app.Store.InboxClaim(ctx, inboxBatch, time.Minute)
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
			_ = d.app.Store.InboxDone(ctx, it.ID)
			continue
		}
		events = append(events, ev)
		good = append(good, it)
	}
	fail := func(err error) {
		retry := d.opts.Now().Add(retryAfter(err, good))
		if ctx.Err() != nil {
			// Shutting down: the work was interrupted, not failed. The
			// events are due again at once, for the next run or replica.
			retry = d.opts.Now()
			d.log.Info("releasing webhook events interrupted by shutdown", "platform", platform, "events", len(good))
		} else {
			d.metrics.errors.WithLabelValues(platform, "webhook", adapter.KindOf(err).String()).Inc()
			d.log.Warn("processing webhook events", "platform", platform, "events", len(good), "err", err)
		}
		// ctx may be the one shutdown cancelled: the release gets its own,
		// bounded, so it is written rather than failing at once.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		for _, it := range good {
			if ferr := d.app.Store.InboxFailed(rctx, it.ID, err.Error(), retry); ferr != nil {
				d.log.Error("releasing webhook event", "event", it.EventID, "err", ferr)
			}
		}
	}
	d.metrics.calls.WithLabelValues(platform, "fetch").Inc()
	ids := make([]int64, len(good))
	for i, it := range good {
		ids[i] = it.ID
	}
	plan, err := d.app.HandleWebhookEvents(ctx, platform, events, ids, d.opts.Now())
	if err != nil {
		fail(err)
		return
	}
	if plan != nil {
		d.metrics.segmentChanges(plan.Memberships)
		for _, pp := range plan.Platforms {
			if len(pp.Items) > 0 {
				if c, ok := d.drainNudge[pp.Platform]; ok {
					nudge(c)
				}
			}
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
	n, err := d.app.CatchUpRelay(ctx)
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
			if sizes, err := d.app.SegmentSizes(ctx); err == nil {
				d.metrics.segmentSizes(sizes)
			} else if ctx.Err() == nil {
				d.log.Warn("counting segment members", "err", err)
			}
		}
		d.rejects.flush(ctx)
		if pending, err := d.app.Store.InboxPending(ctx, 100000); err == nil {
			d.metrics.queueDepth.WithLabelValues("inbox").Set(float64(len(pending)))
		}
		if stats, err := d.app.Store.OutboxStats(ctx); err == nil {
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
