// Package metrics is Pinion's operational telemetry: Prometheus metrics in
// a registry of their own (no global default registry), and the admin
// listener that serves them with pprof. The rest of Pinion does not import
// Prometheus: it is instrumented through the small hooks this package
// offers (an HTTP middleware, a store decorator, the stream hub's stats and
// callbacks), wired in cmd/pinion only when an admin address is set.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every Pinion metric and the registry they are in. A nil
// *Metrics is valid and records nothing, so hooks can be passed
// unconditionally.
type Metrics struct {
	reg *prometheus.Registry

	writeDuration  *prometheus.HistogramVec
	validation     *prometheus.CounterVec
	snapshots      *prometheus.CounterVec
	storeErrors    *prometheus.CounterVec
	storeWrite     prometheus.Histogram
	commitBatch    prometheus.Histogram
	commitDuration prometheus.Histogram
	eventsSent     prometheus.Counter
	evictions      *prometheus.CounterVec
	replay         prometheus.Histogram
	freshness      *prometheus.HistogramVec
}

// latencyBuckets spans 100 µs (an fsync on a fast disk) to 10 s (a write
// deadline).
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New returns metrics registered in a fresh registry, together with the Go
// runtime and process collectors (RSS, open files, goroutines, GC).
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.writeDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "pinion_write_duration_seconds",
		Help:    "Time to answer a write request (PUT, PATCH, DELETE, action), by topic, operation and HTTP status.",
		Buckets: latencyBuckets,
	}, []string{"topic", "operation", "status"})
	m.validation = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pinion_validation_failures_total",
		Help: "Field errors in 422 answers, by topic and validation rule.",
	}, []string{"topic", "rule"})
	m.snapshots = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pinion_snapshot_requests_total",
		Help: "Snapshot reads (GET /api/topics/{topic}), by topic and HTTP status (200, 304, or an error status).",
	}, []string{"topic", "status"})
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pinion_store_errors_total",
		Help: "Store calls that failed for a reason of the store's own (not a rejected write), by operation.",
	}, []string{"operation"})
	m.storeWrite = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "pinion_store_update_duration_seconds",
		Help:    "Time of one store Update call until the write is durable, including waiting for the write lock or a batch.",
		Buckets: latencyBuckets,
	})
	m.commitBatch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "pinion_commit_batch_size",
		Help:    "Writes committed together in one transaction (group commit).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
	})
	m.commitDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "pinion_commit_duration_seconds",
		Help:    "Time of one store commit, fsync included.",
		Buckets: latencyBuckets,
	})
	m.eventsSent = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pinion_events_sent_total",
		Help: "Invalidation events written to event streams (replayed and live).",
	})
	m.evictions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pinion_stream_evictions_total",
		Help: "Event streams the server ended, by reason.",
	}, []string{"reason"})
	m.replay = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "pinion_replay_events",
		Help:    "Invalidations replayed to a stream when it started or resumed.",
		Buckets: []float64{0, 1, 2, 5, 10, 25, 50, 100, 250, 1000},
	})
	m.freshness = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "pinion_client_freshness_seconds",
		Help: "How long after its commit a browser tab applied a revision announced by an invalidation, by topic, as sampled tabs report it (POST /api/freshness; the report's one-way latency is included).",
		// From a commit seen at once on the same machine to a tab that
		// fell a minute behind.
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"topic"})
	m.reg.MustRegister(m.writeDuration, m.validation, m.snapshots, m.storeErrors,
		m.storeWrite, m.commitBatch, m.commitDuration, m.eventsSent, m.evictions,
		m.replay, m.freshness)
	return m
}

// Registry is where the metrics live; a kit user can add their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// StreamStats reports the event hub's current state at scrape time.
type StreamStats func() (open int)

// WatchStreams exports the open-stream gauge, read from stats at each
// scrape (no hook on the hot path).
func (m *Metrics) WatchStreams(stats StreamStats) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pinion_streams_open",
		Help: "Event streams open now.",
	}, func() float64 { return float64(stats()) }))
}

// EventsSent counts n invalidations written to a stream.
func (m *Metrics) EventsSent(n int) {
	if m != nil && n > 0 {
		m.eventsSent.Add(float64(n))
	}
}

// Evicted counts a stream the server ended, for reason (a short fixed
// word such as "slow", "write-timeout", "shutdown").
func (m *Metrics) Evicted(reason string) {
	if m != nil {
		m.evictions.WithLabelValues(reason).Inc()
	}
}

// Replayed records how many invalidations a starting stream caught up
// with.
func (m *Metrics) Replayed(n int) {
	if m != nil {
		m.replay.Observe(float64(n))
	}
}

// Committed records one store commit of size writes that took d.
func (m *Metrics) Committed(size int, d time.Duration) {
	if m != nil {
		m.commitBatch.Observe(float64(size))
		m.commitDuration.Observe(d.Seconds())
	}
}

// StoreError counts a failed store call of operation op.
func (m *Metrics) StoreError(op string) {
	if m != nil {
		m.storeErrors.WithLabelValues(op).Inc()
	}
}

// ClientFreshness records that a browser tab applied a revision of topic d
// after its commit. topic must be a registered topic's name (the handler
// refuses others), which keeps the label set bounded.
func (m *Metrics) ClientFreshness(topic string, d time.Duration) {
	if m != nil {
		m.freshness.WithLabelValues(topic).Observe(d.Seconds())
	}
}
