package metrics

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.JobFinished("chart_data", OutcomeDone, Phases{Queue: 2 * time.Millisecond, Warehouse: 1500 * time.Millisecond,
		Encode: 3 * time.Millisecond, Upload: 40 * time.Millisecond, Total: 1545 * time.Millisecond})
	m.JobFinished("chart_data", OutcomeCacheHit, Phases{Queue: time.Millisecond, Upload: 5 * time.Millisecond, Total: 6 * time.Millisecond})
	m.JobFinished("chart_data", OutcomeDone, Phases{Total: 10 * time.Minute})
	m.JobFinished("export", OutcomeFailed, Phases{})
	m.CacheLookup(true)
	m.CacheLookup(false)
	m.CacheLookup(false)
	m.WarehouseQuery("shop")
	m.WarehouseQuery("shop")
	m.WarehouseQuery("ads")
	depth := 7.0
	m.QueueDepth(func() float64 { return depth })
	m.InFlight(1)
	m.InFlight(1)
	m.InFlight(-1)

	counters := []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"done chart_data", m.jobs.WithLabelValues("chart_data", "done"), 2},
		{"cache_hit chart_data", m.jobs.WithLabelValues("chart_data", "cache_hit"), 1},
		{"failed export", m.jobs.WithLabelValues("export", "failed"), 1},
		{"cache hits", m.cache.WithLabelValues("hit"), 1},
		{"cache misses", m.cache.WithLabelValues("miss"), 2},
		{"shop queries", m.warehouses.WithLabelValues("shop"), 2},
		{"ads queries", m.warehouses.WithLabelValues("ads"), 1},
		{"in flight", m.inFlight, 1},
	}
	for _, c := range counters {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}

	// One histogram per (kind, phase) that happened: chart_data's five
	// phases; export, whose phases are all zero, has none.
	if n := testutil.CollectAndCount(m.phases, "bic_job_phase_seconds"); n != 5 {
		t.Errorf("bic_job_phase_seconds has %d series, want 5", n)
	}
	phases := []struct {
		kind, phase string
		count       uint64
		sum         float64
	}{
		{"chart_data", "queue", 2, 0.003},
		{"chart_data", "warehouse", 1, 1.5},
		{"chart_data", "encode", 1, 0.003},
		{"chart_data", "upload", 2, 0.045},
		{"chart_data", "total", 3, 601.551},
	}
	type series struct {
		count uint64
		sum   float64
	}
	got := map[[2]string]series{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "bic_job_phase_seconds" {
			continue
		}
		for _, s := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			h := s.GetHistogram()
			got[[2]string{labels["kind"], labels["phase"]}] = series{h.GetSampleCount(), h.GetSampleSum()}
		}
	}
	for _, p := range phases {
		g := got[[2]string{p.kind, p.phase}]
		if g.count != p.count || !near(g.sum, p.sum) {
			t.Errorf("%s %s: count %d sum %v, want %d and %v", p.kind, p.phase, g.count, g.sum, p.count, p.sum)
		}
	}

	want := `
# HELP bic_queue_depth Messages in the work queue not yet acked.
# TYPE bic_queue_depth gauge
bic_queue_depth 7
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "bic_queue_depth"); err != nil {
		t.Error(err)
	}
	depth = 3
	if err := testutil.GatherAndCompare(reg, strings.NewReader(strings.Replace(want, " 7", " 3", 1)), "bic_queue_depth"); err != nil {
		t.Errorf("after the queue shrank: %v", err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

// TestBuckets: the phase histogram resolves 1 ms and 10 min.
func TestBuckets(t *testing.T) {
	if first, last := phaseBuckets[0], phaseBuckets[len(phaseBuckets)-1]; !near(first, 0.001) || !near(last, 600) {
		t.Errorf("buckets run from %v to %v, want 0.001 to 600", first, last)
	}
}

// TestNilMetrics: a nil *Metrics, as tests and embedded runs pass, does nothing.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.JobFinished("chart_data", OutcomeDone, Phases{Total: time.Second})
	m.CacheLookup(true)
	m.WarehouseQuery("shop")
	m.QueueDepth(func() float64 { return 1 })
	m.InFlight(1)
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
