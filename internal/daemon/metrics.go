package daemon

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the daemon's Prometheus series, on a registry of its own
// (never the global one).
type metrics struct {
	reg            *prometheus.Registry
	calls          *prometheus.CounterVec
	errors         *prometheus.CounterVec
	rateLimited    *prometheus.CounterVec
	pulled         *prometheus.CounterVec
	pushed         *prometheus.CounterVec
	webhooks       *prometheus.CounterVec
	queueDepth     *prometheus.GaugeVec
	segmentSize    *prometheus.GaugeVec
	webhookLatency prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_platform_calls_total", Help: "Adapter operations by platform and operation.",
		}, []string{"platform", "op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_platform_errors_total", Help: "Failed adapter operations by platform, operation and error kind.",
		}, []string{"platform", "op", "kind"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_rate_limit_wait_seconds_total", Help: "Seconds of waiting asked for by platform rate limits.",
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
			Name: "connector_segment_size", Help: "Members of each segment after the last full run.",
		}, []string{"segment"}),
		webhookLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "connector_webhook_to_writeback_seconds",
			Help:    "Time from webhook receipt to its write-back being queued.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	m.reg.MustRegister(m.calls, m.errors, m.rateLimited, m.pulled, m.pushed, m.webhooks, m.queueDepth, m.segmentSize,
		m.webhookLatency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
