package server

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus metrics. A nil *metrics records
// nothing, for a server without a registry.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	hits     prometheus.Counter
	misses   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, cache *blobCache, log *slog.Logger) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bic_server_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bic_server_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bic_server_blob_cache_hits_total",
			Help: "Blobs served from memory.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bic_server_blob_cache_misses_total",
			Help: "Blobs read from storage.",
		}),
	}
	entries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "bic_server_blob_cache_entries",
		Help: "Blobs held in memory.",
	}, func() float64 { n, _ := cache.stats(); return float64(n) })
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "bic_server_blob_cache_bytes",
		Help: "Bytes of blobs (and their compressed forms) held in memory.",
	}, func() float64 { _, b := cache.stats(); return float64(b) })
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.hits, m.misses, entries, size} {
		if err := reg.Register(c); err != nil {
			log.Warn("register server metric", "error", err)
		}
	}
	return m
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) cacheHit() {
	if m != nil {
		m.hits.Inc()
	}
}

func (m *metrics) cacheMiss() {
	if m != nil {
		m.misses.Inc()
	}
}
