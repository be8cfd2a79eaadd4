package compiler

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"runtime"
	"sync"
	"time"
)

// Compiler turns project files into a Manifest. It holds the compiled
// schema and is safe for concurrent use.
type Compiler struct {
	schema *Schema
}

// New returns a compiler using the given schema.
func New(s *Schema) *Compiler { return &Compiler{schema: s} }

// Result is the outcome of one compilation. Manifest is nil when any
// diagnostic is an error.
type Result struct {
	Manifest    *Manifest
	Diagnostics Diagnostics
	Sources     Sources
	Stats       Stats
}

// Stats says how long each stage took, for the benchmarks.
type Stats struct {
	Files   int
	Objects int // datasets, dashboards, charts, alerts and reports
	Load    time.Duration
	Schema  time.Duration
	Resolve time.Duration // without hashing
	Hash    time.Duration
}

// Compile loads, checks and resolves the project in fsys. It reports every
// problem it finds, not just the first.
func (c *Compiler) Compile(fsys fs.FS) Result {
	var st Stats
	sink := &diagSink{}
	t0 := time.Now()
	l := load(fsys, sink)
	t1 := time.Now()
	checked := c.checkAll(l, sink)
	t2 := time.Now()
	m, hashTime := resolve(fsys, l, checked, sink)
	t3 := time.Now()
	st.Load, st.Schema, st.Resolve, st.Hash = t1.Sub(t0), t2.Sub(t1), t3.Sub(t2)-hashTime, hashTime
	st.Files = len(l.sources)
	st.Objects = len(m.Datasets) + len(m.Dashboards) + len(m.Charts) + len(m.Alerts) + len(m.Reports)
	res := Result{Diagnostics: sink.list.Sort(), Sources: l.sources, Stats: st}
	if !res.Diagnostics.HasErrors(false) {
		res.Manifest = m
	}
	return res
}

// checkAll validates every object against the schema, spread over the
// machine's cores, and reports which passed.
func (c *Compiler) checkAll(l *loaded, sink *diagSink) []checkResult {
	ok := make([]checkResult, len(l.objects))
	sinks := make([]diagSink, len(l.objects))
	parallel(len(l.objects), func(i int) {
		o := l.objects[i]
		ok[i] = c.schema.check(o.kind, o.node, &sinks[i])
	})
	for _, s := range sinks {
		sink.list = append(sink.list, s.list...)
	}
	if l.project != nil && c.schema.check(KindProject, l.project, sink) == checkFailed {
		l.project = nil
	}
	return ok
}

// decode fills a spec struct from a checked node.
func decode(n *Node, out any) error {
	b, err := json.Marshal(n.Any())
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// parallel calls f(0) … f(n-1) on every core and waits for all of them.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
