package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a job, the values of bic_jobs_total's outcome label.
const (
	OutcomeDone     = "done"
	OutcomeCacheHit = "cache_hit"
	OutcomeRetry    = "retry"
	OutcomeFailed   = "failed"
	OutcomeDropped  = "dropped"
)

// Phases is how long a job spent in each part of its run; a phase that
// did not happen (a cache hit asks no warehouse) is zero and not observed.
type Phases struct {
	Queue, Warehouse, Encode, Upload, Total time.Duration
}

// phaseBuckets span 1 ms to about 10 min, in steps of about ×2.5: a cache
// hit's upload is milliseconds, a warehouse query on a large table minutes.
var phaseBuckets = prometheus.ExponentialBucketsRange(0.001, 600, 15)

// Metrics are the runner's Prometheus collectors. Its methods are safe
// for concurrent use, and a nil *Metrics does nothing.
type Metrics struct {
	reg        prometheus.Registerer
	jobs       *prometheus.CounterVec
	phases     *prometheus.HistogramVec
	cache      *prometheus.CounterVec
	warehouses *prometheus.CounterVec
	inFlight   prometheus.Gauge
}

// New creates the runner's collectors and registers them on reg. It
// panics if reg already holds collectors of the same names, as
// prometheus.MustRegister does: a wiring mistake, not a runtime condition.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bic_jobs_total",
			Help: "Jobs the runner finished, by kind and outcome (done, cache_hit, retry, failed, dropped).",
		}, []string{"kind", "outcome"}),
		phases: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bic_job_phase_seconds",
			Help:    "How long jobs spent in each phase (queue, warehouse, encode, upload, total), by kind.",
			Buckets: phaseBuckets,
		}, []string{"kind", "phase"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bic_cache_lookups_total",
			Help: "Cache lookups by result (hit or miss).",
		}, []string{"result"}),
		warehouses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bic_warehouse_queries_total",
			Help: "Queries sent to a warehouse, by connection.",
		}, []string{"connection"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bic_jobs_in_flight",
			Help: "Jobs this runner is working on.",
		}),
	}
	reg.MustRegister(m.jobs, m.phases, m.cache, m.warehouses, m.inFlight)
	return m
}

// JobFinished counts a job's end and observes each of its phases that happened.
func (m *Metrics) JobFinished(kind, outcome string, p Phases) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(kind, outcome).Inc()
	for _, ph := range []struct {
		name string
		d    time.Duration
	}{{"queue", p.Queue}, {"warehouse", p.Warehouse}, {"encode", p.Encode}, {"upload", p.Upload}, {"total", p.Total}} {
		if ph.d > 0 {
			m.phases.WithLabelValues(kind, ph.name).Observe(ph.d.Seconds())
		}
	}
}

// CacheLookup counts a lookup of a job's input key in the cache.
func (m *Metrics) CacheLookup(hit bool) {
	if m == nil {
		return
	}
	result := "miss"
	if hit {
		result = "hit"
	}
	m.cache.WithLabelValues(result).Inc()
}

// WarehouseQuery counts a query sent to the warehouse of a connection,
// named as in the project (never its URL, which may hold a password).
func (m *Metrics) WarehouseQuery(connection string) {
	if m == nil {
		return
	}
	m.warehouses.WithLabelValues(connection).Inc()
}

// QueueDepth registers bic_queue_depth, read from f at each scrape: the
// messages the queue holds that no runner acked yet. Call it once; a
// second call panics, as registering a duplicate collector does.
func (m *Metrics) QueueDepth(f func() float64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "bic_queue_depth",
		Help: "Messages in the work queue not yet acked.",
	}, f))
}

// InFlight adds delta to the jobs in flight: +1 when a job starts, -1 when it ends.
func (m *Metrics) InFlight(delta int) {
	if m == nil {
		return
	}
	m.inFlight.Add(float64(delta))
}
