package compiler

import (
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/bic-dev/bic/bench/synth"
)

func synthFS(size synth.Size) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range synth.Files(size) {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	return fsys
}

// BenchmarkCompile compiles synthetic projects; b.N × objects/op gives the
// time per object. The large case is the 10,000 charts.
func BenchmarkCompile(b *testing.B) {
	for _, tc := range []struct {
		name string
		size synth.Size
	}{
		{"small_10x10", synth.Size{Datasets: 5, Dashboards: 10, Charts: 10}},
		{"large_1000x10", synth.Large},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := newTestCompiler(b)
			fsys := synthFS(tc.size)
			b.ReportAllocs()
			var objects int
			for b.Loop() {
				res := mustCompile(b, c, fsys)
				if res.Manifest == nil {
					b.Fatalf("synthetic project does not compile: %v", res.Diagnostics[0])
				}
				objects = res.Stats.Objects
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(objects), "ns/object")
		})
	}
}

// TestSyntheticProjectCompiles keeps the benchmark input valid.
func TestSyntheticProjectCompiles(t *testing.T) {
	res := mustCompile(t, newTestCompiler(t), synthFS(synth.Size{Datasets: 3, Dashboards: 12, Charts: 10}))
	if len(res.Diagnostics) > 0 {
		t.Fatalf("synthetic project has diagnostics: %v", res.Diagnostics)
	}
	if got := len(res.Manifest.Charts); got != 120 {
		t.Fatalf("charts = %d, want 120", got)
	}
}

// BenchmarkPlanChart plans every example chart with its default filters and
// writes its SQL: one op is one chart in one dialect.
func BenchmarkPlanChart(b *testing.B) {
	res := mustCompile(b, newTestCompiler(b), os.DirFS("../examples/shop"))
	if res.Manifest == nil {
		b.Fatal(res.Diagnostics)
	}
	m := res.Manifest
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	for _, dialect := range []string{"duckdb", "postgres", "snowflake", "bigquery"} {
		b.Run(dialect, func(b *testing.B) {
			d := mustDialect(b, dialect)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c := m.Charts[i%len(m.Charts)]
				i++
				q, err := m.PlanChart(c.Dashboard+"/"+c.Spec.Name, nil, now)
				if err != nil {
					b.Fatal(err)
				}
				_ = q.SQLFor(d)
			}
		})
	}
}

// BenchmarkPlanChartLarge plans charts of the 10,000-chart project: the
// time per chart must not grow with the project.
func BenchmarkPlanChartLarge(b *testing.B) {
	res := mustCompile(b, newTestCompiler(b), synthFS(synth.Large))
	if res.Manifest == nil {
		b.Fatal(res.Diagnostics[0])
	}
	m := res.Manifest
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	d := mustDialect(b, "postgres")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c := m.Charts[(i*7919)%len(m.Charts)]
		i++
		q, err := m.PlanChart(c.Dashboard+"/"+c.Spec.Name, nil, now)
		if err != nil {
			b.Fatal(err)
		}
		_ = q.SQLFor(d)
	}
}
