package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/segconn/connector/internal/store"
)

// Backoff is the retry schedule between attempts of a batch: the store's
// one backoff type, shared with the webhook inbox and the write-back
// outbox. Zero fields take store.DeliveriesBackoff's values (5s doubling
// up to 1h, ±20%); a negative Jitter means none.
type Backoff = store.Backoff

func withDefaults(b Backoff) Backoff {
	def := store.DeliveriesBackoff()
	if b.Initial <= 0 {
		b.Initial = def.Initial
	}
	if b.Max <= 0 {
		b.Max = def.Max
	}
	if b.Multiplier < 1 {
		b.Multiplier = def.Multiplier
	}
	if b.Jitter == 0 {
		b.Jitter = def.Jitter
	} else if b.Jitter < 0 {
		b.Jitter = 0
	}
	return b
}

// Hooks observe deliveries for metrics. Any field may be nil.
type Hooks struct {
	// OnAttempt is called after every request with the number of events,
	// the HTTP status (0 when no response came) and the duration.
	OnAttempt func(endpoint string, events, status int, d time.Duration)
	// OnDead is called when deliveries are dead-lettered.
	OnDead func(endpoint string, events int)
}

// Options configure a Dispatcher.
type Options struct {
	Queue     Queue
	Endpoints []Endpoint
	Logger    *slog.Logger     // default: discard
	Client    *http.Client     // default: 10s timeout; redirects are never followed
	Now       func() time.Time // clock for Run and Publish; default time.Now
	Backoff   Backoff          //
	Lease     time.Duration    // how long a claimed batch is held; default 1m (more than the client timeout)
	Poll      time.Duration    // Run's idle poll interval; default 1s
	UserAgent string           // default "segconn-connector-outbound/1"
	Hooks     Hooks            //
}

// Dispatcher publishes events into the queue and delivers them.
type Dispatcher struct {
	q      Queue
	eps    []Endpoint
	log    *slog.Logger
	client *http.Client
	now    func() time.Time
	bo     Backoff
	lease  time.Duration
	poll   time.Duration
	ua     string
	hooks  Hooks
	wake   chan struct{}
}

// New checks opts and returns a Dispatcher.
func New(opts Options) (*Dispatcher, error) {
	if opts.Queue == nil {
		return nil, errors.New("creating outbound dispatcher: no queue")
	}
	eps := make([]Endpoint, len(opts.Endpoints))
	for i, ep := range opts.Endpoints {
		if err := checkURL(ep.URL); err != nil {
			return nil, fmt.Errorf("creating outbound dispatcher: endpoint %d url: %w", i, err)
		}
		if ep.Secret == "" {
			return nil, fmt.Errorf("creating outbound dispatcher: endpoint %d (%s) has no secret", i, DisplayURL(ep.URL))
		}
		if ep.MaxAttempts <= 0 {
			ep.MaxAttempts = DefaultMaxAttempts
		}
		if ep.BatchSize <= 0 {
			ep.BatchSize = DefaultBatchSize
		}
		eps[i] = ep
	}
	opts.Endpoints = eps
	d := &Dispatcher{
		q: opts.Queue, eps: opts.Endpoints, log: opts.Logger, client: opts.Client, now: opts.Now,
		bo: withDefaults(opts.Backoff), lease: opts.Lease, poll: opts.Poll, ua: opts.UserAgent,
		hooks: opts.Hooks, wake: make(chan struct{}, 1),
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.client == nil {
		d.client = &http.Client{Timeout: 10 * time.Second}
	}
	// A redirect is an answer, not a delivery: never re-send the signed
	// body somewhere else.
	c := *d.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	d.client = &c
	if d.now == nil {
		d.now = time.Now
	}
	if d.lease <= 0 {
		d.lease = time.Minute
	}
	if d.poll <= 0 {
		d.poll = time.Second
	}
	if d.ua == "" {
		d.ua = "segconn-connector-outbound/1"
	}
	return d, nil
}

// Publish stores events for every endpoint subscribed to their type. It
// returns once they are durable; delivery happens in Run or RunOnce.
// Events without an ID get one derived from their content.
func (d *Dispatcher) Publish(ctx context.Context, events []Event) (int, error) {
	now := d.now().UTC()
	var ds []Delivery
	for i := range events {
		e := events[i]
		if e.Type != EventEntered && e.Type != EventLeft {
			return 0, fmt.Errorf("publishing outbound event %d: unknown type %q", i, e.Type)
		}
		if e.Segment == "" || e.ProfileID == "" {
			return 0, fmt.Errorf("publishing outbound event %d: segment and profile_id are required", i)
		}
		if e.OccurredAt.IsZero() {
			e.OccurredAt = now
		}
		e.OccurredAt = e.OccurredAt.UTC()
		if e.ID == "" {
			e.ID = e.deriveID()
		}
		for _, ep := range d.eps {
			if ep.Wants(e.Type) {
				ds = append(ds, Delivery{Endpoint: ep.URL, Event: e, CreatedAt: now, NextAttemptAt: now})
			}
		}
	}
	n, err := d.q.Enqueue(ctx, ds)
	if err != nil {
		return 0, fmt.Errorf("publishing outbound events: %w", err)
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return n, nil
}

// Stats summarise one RunOnce.
type Stats struct {
	Batches   int // requests sent
	Delivered int // events acknowledged with 2xx
	Failed    int // events whose attempt failed and will be retried
	Dead      int // events dead-lettered
}

func (s *Stats) add(o Stats) {
	s.Batches += o.Batches
	s.Delivered += o.Delivered
	s.Failed += o.Failed
	s.Dead += o.Dead
}

// RunOnce delivers, at the given time, every batch that is due: for each
// endpoint it sends batches until the endpoint's queue is empty or an
// attempt fails. Endpoints are served concurrently so a slow receiver does
// not hold up the others.
func (d *Dispatcher) RunOnce(ctx context.Context, now time.Time) (Stats, error) {
	var (
		mu    sync.Mutex
		total Stats
		errs  []error
		wg    sync.WaitGroup
	)
	for _, ep := range d.eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := d.drain(ctx, ep, now)
			mu.Lock()
			defer mu.Unlock()
			total.add(st)
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	return total, errors.Join(errs...)
}

// Run delivers until ctx ends, each endpoint in its own loop, waking on
// Publish or every Poll interval. It returns nil when ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wakes := make([]chan struct{}, len(d.eps))
	for i, ep := range d.eps {
		wakes[i] = make(chan struct{}, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.loop(ctx, ep, wakes[i])
		}()
	}
	// Fan Publish's wake-up out to every endpoint loop.
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-d.wake:
			for _, w := range wakes {
				select {
				case w <- struct{}{}:
				default:
				}
			}
		}
	}
	wg.Wait()
	return nil
}

func (d *Dispatcher) loop(ctx context.Context, ep Endpoint, wake <-chan struct{}) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		if _, err := d.drain(ctx, ep, d.now()); err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "delivering outbound webhooks", "endpoint", DisplayURL(ep.URL), "error", err)
		}
		t.Reset(d.poll)
	}
}

// drain sends due batches of one endpoint until none is left or one fails.
func (d *Dispatcher) drain(ctx context.Context, ep Endpoint, now time.Time) (Stats, error) {
	var st Stats
	for ctx.Err() == nil {
		batch, err := d.q.Claim(ctx, ep.URL, now, d.lease, ep.BatchSize)
		if err != nil {
			return st, err
		}
		if len(batch) == 0 {
			return st, nil
		}
		ok, bst, err := d.deliver(ctx, ep, batch, now)
		st.add(bst)
		if err != nil || !ok {
			return st, err
		}
	}
	return st, nil
}

// deliver sends one claimed batch once and records the outcome.
func (d *Dispatcher) deliver(ctx context.Context, ep Endpoint, batch []Delivery, now time.Time) (bool, Stats, error) {
	var st Stats
	events := make([]Event, len(batch))
	ids := make([]int64, len(batch))
	attempt := 0
	for i, b := range batch {
		events[i], ids[i] = b.Event, b.ID
		attempt = max(attempt, b.Attempts)
	}
	status, retryAfter, sendErr := d.send(ctx, ep, events, attempt, now)
	st.Batches++
	if sendErr == nil {
		if err := d.q.Done(ctx, ids, now); err != nil {
			return false, st, err
		}
		st.Delivered += len(batch)
		return true, st, nil
	}
	if ctx.Err() != nil {
		// Shutting down: the lease runs out and the batch is tried again,
		// with this attempt counted.
		return false, st, nil
	}
	msg := sendErr.Error()
	fs := make([]Failure, len(batch))
	dead := 0
	for i, b := range batch {
		f := Failure{ID: b.ID, Error: msg}
		if b.Attempts >= ep.MaxAttempts {
			f.Dead = true
			dead++
		} else {
			f.NextAttemptAt = now.Add(max(d.bo.Delay(b.Attempts), min(retryAfter, d.bo.Max)))
		}
		fs[i] = f
	}
	if err := d.q.Fail(ctx, fs, now); err != nil {
		return false, st, err
	}
	st.Failed += len(batch) - dead
	st.Dead += dead
	lvl := slog.LevelInfo
	if dead > 0 {
		lvl = slog.LevelWarn
		if d.hooks.OnDead != nil {
			d.hooks.OnDead(ep.URL, dead)
		}
	}
	d.log.Log(ctx, lvl, "outbound webhook attempt failed",
		"endpoint", DisplayURL(ep.URL), "events", len(batch), "attempt", attempt,
		"status", status, "dead_lettered", dead, "error", msg)
	// A dead-lettered batch leaves the way free for the next one.
	return dead == len(batch), st, nil
}

// send makes one POST; it never retries.
func (d *Dispatcher) send(ctx context.Context, ep Endpoint, events []Event, attempt int, now time.Time) (int, time.Duration, error) {
	body, err := json.Marshal(Batch{DeliveryID: deliveryID(events), Attempt: attempt, SentAt: now.UTC(), Events: events})
	if err != nil {
		return 0, 0, fmt.Errorf("encoding batch: %w", err)
	}
	ts := now.Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", d.ua)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, SignatureHeader(ep.Secret, ts, body))
	req.Header.Set(HeaderDelivery, deliveryID(events))
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	start := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		if d.hooks.OnAttempt != nil {
			d.hooks.OnAttempt(ep.URL, len(events), 0, time.Since(start))
		}
		// url.Error names the URL, which may carry credentials in its query.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, 0, fmt.Errorf("posting to %s: %w", DisplayURL(ep.URL), err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if d.hooks.OnAttempt != nil {
		d.hooks.OnAttempt(ep.URL, len(events), resp.StatusCode, time.Since(start))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, 0, nil
	}
	return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), now),
		fmt.Errorf("posting to %s: receiver answered %s: %q", DisplayURL(ep.URL), resp.Status, bytes.TrimSpace(snippet))
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
