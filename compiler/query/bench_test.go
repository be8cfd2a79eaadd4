package query

import (
	"testing"
	"testing/fstest"
	"time"

	"github.com/bic-dev/bic/bench/synth"
)

// BenchmarkPlanChart plans every example chart with its default filters and
// writes its SQL: one op is one chart in one dialect.
func BenchmarkPlanChart(b *testing.B) {
	m := shopManifest(b)
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	for _, dialect := range []string{"duckdb", "postgres", "snowflake", "bigquery"} {
		b.Run(dialect, func(b *testing.B) {
			d := mustDialect(b, dialect)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c := m.Charts[i%len(m.Charts)]
				i++
				q, err := PlanChart(m, c.Dashboard+"/"+c.Spec.Name, nil, now)
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
	fsys := fstest.MapFS{}
	for name, data := range synth.Files(synth.Large) {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	m := compileFS(b, "the synthetic project", fsys)
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	d := mustDialect(b, "postgres")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c := m.Charts[(i*7919)%len(m.Charts)]
		i++
		q, err := PlanChart(m, c.Dashboard+"/"+c.Spec.Name, nil, now)
		if err != nil {
			b.Fatal(err)
		}
		_ = q.SQLFor(d)
	}
}
