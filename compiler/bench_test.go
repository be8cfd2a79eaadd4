package compiler

import (
	"testing"
	"testing/fstest"

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
