package daemon

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Metrics are the daemon's Prometheus series, on a registry of its own
// (never the global one).
type Metrics struct {
	reg            *prometheus.Registry
	calls          *prometheus.CounterVec
	requests       *prometheus.CounterVec
	requestSeconds *prometheus.HistogramVec
	errors         *prometheus.CounterVec
	rateLimited    *prometheus.CounterVec
	pulled         *prometheus.CounterVec
	pushed         *prometheus.CounterVec
	webhooks       *prometheus.CounterVec
	queueDepth     *prometheus.GaugeVec
	segmentSize    *prometheus.GaugeVec
	webhookLatency prometheus.Histogram
}

// NewMetrics makes the daemon's series on a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_platform_calls_total", Help: "Adapter operations (pull pages, fetches, pushes) by platform and operation; connector_platform_requests_total counts their HTTP requests.",
		}, []string{"platform", "op"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_platform_requests_total", Help: "HTTP requests sent to each platform (every attempt, retries and token refreshes included) by answer: 2xx, 3xx, 4xx, 429, 5xx, or none.",
		}, []string{"platform", "code"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "connector_platform_request_seconds", Help: "Time from sending an HTTP request to a platform to its answer.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"platform"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_platform_errors_total", Help: "Failed adapter operations by platform, operation and error kind.",
		}, []string{"platform", "op", "kind"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_rate_limit_wait_seconds_total", Help: "Seconds spent waiting for platform rate budgets: before requests, and as asked by Retry-After answers.",
		}, []string{"platform"}),
		pulled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_records_pulled_total", Help: "Records pulled by platform and object.",
		}, []string{"platform", "object"}),
		pushed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_writebacks_total", Help: "Write-back items by platform and outcome.",
		}, []string{"platform", "status"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_webhooks_received_total", Help: "Webhook requests by platform and result.",
		}, []string{"platform", "result"}),
		queueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "connector_queue_depth", Help: "Items waiting in the inbox and the outbox.",
		}, []string{"queue"}),
		segmentSize: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "connector_segment_size", Help: "Members of each segment, holdout members included: counted from the store every minute and after each full run, and moved by every change the daemon records in between.",
		}, []string{"segment"}),
		webhookLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "connector_webhook_to_writeback_seconds",
			Help:    "Time from webhook receipt to its write-back being queued.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	m.reg.MustRegister(m.calls, m.requests, m.requestSeconds, m.errors, m.rateLimited, m.pulled, m.pushed, m.webhooks, m.queueDepth, m.segmentSize,
		m.webhookLatency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// HTTPObserver reports one platform's HTTP requests (see
// adapter.Observable); give it to app.Open.
func (m *Metrics) HTTPObserver(platform string) adapter.HTTPObserver {
	return httpObserver{requests: m.requests, platform: platform,
		seconds: m.requestSeconds.WithLabelValues(platform), waited: m.rateLimited.WithLabelValues(platform)}
}

type httpObserver struct {
	requests *prometheus.CounterVec
	platform string
	seconds  prometheus.Observer
	waited   prometheus.Counter
}

func (o httpObserver) HTTPRequest(_ string, status int, took time.Duration) {
	o.requests.WithLabelValues(o.platform, statusClass(status)).Inc()
	o.seconds.Observe(took.Seconds())
}

func (o httpObserver) RateWait(d time.Duration) { o.waited.Add(d.Seconds()) }

// statusClass is the code label of an answer.
func statusClass(status int) string {
	switch {
	case status == 0:
		return "none"
	case status == http.StatusTooManyRequests:
		return "429"
	default:
		return strconv.Itoa(status/100) + "xx"
	}
}

// segmentSizes sets the size gauges to counts.
func (m *Metrics) segmentSizes(sizes map[string]int) {
	for seg, n := range sizes {
		m.segmentSize.WithLabelValues(seg).Set(float64(n))
	}
}

// segmentChanges moves the size gauges by recorded membership changes.
func (m *Metrics) segmentChanges(changes []store.MembershipChange) {
	for _, c := range changes {
		g := m.segmentSize.WithLabelValues(c.Segment)
		if c.Entered {
			g.Inc()
		} else {
			g.Dec()
		}
	}
}
