package compiler

import (
	"fmt"
	"strings"
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

// BenchmarkCompileWarm compiles the large synthetic project with a filled
// cache after editing one dashboard each time: `bic validate` after a save.
func BenchmarkCompileWarm(b *testing.B) {
	c := newTestCompiler(b)
	fsys := synthFS(synth.Large)
	cache := newMemCache()
	mustCompile(b, c.WithCache(cache), fsys)
	const edited = "dashboards/dash_0500.yaml"
	orig := string(fsys[edited].Data)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		fsys[edited] = &fstest.MapFile{Data: []byte(strings.Replace(orig, "title: Dashboard 500", fmt.Sprintf("title: Edited %d", i), 1))}
		res := mustCompile(b, c.WithCache(cache), fsys)
		if res.Manifest == nil || res.Stats.Cached != res.Stats.Files-2 {
			b.Fatalf("cached %d of %d files; %v", res.Stats.Cached, res.Stats.Files, res.Diagnostics)
		}
	}
}
