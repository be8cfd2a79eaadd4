package compiler

import (
	"context"
	"fmt"
	"io/fs"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Compiler turns project files into a Manifest. It holds the compiled
// schema and is safe for concurrent use.
type Compiler struct {
	schema    *Schema
	limits    Limits
	cache     FileCache
	checkOnly bool
}

// New returns a compiler using the given schema, with DefaultLimits.
func New(s *Schema) *Compiler { return &Compiler{schema: s, limits: DefaultLimits()} }

// WithLimits returns a copy of the compiler that reads and evaluates within l.
func (c *Compiler) WithLimits(l Limits) (*Compiler, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	cp := *c
	cp.limits = l
	return &cp, nil
}

// Result is the outcome of one compilation. Manifest is nil when any
// diagnostic is an error.
type Result struct {
	Manifest    *Manifest // nil for a compiler made by CheckOnly
	Diagnostics Diagnostics
	Sources     Sources
	Counts      Counts
	Stats       Stats
}

// Stats says how long each stage took, for the benchmarks.
type Stats struct {
	Files   int
	Objects int // datasets, dashboards, charts, alerts and reports
	Cached  int // files whose load and schema check came from the cache
	Reused  int // dashboards counted from their verdict, not resolved (CheckOnly)
	Load    time.Duration
	Schema  time.Duration
	Resolve time.Duration // without hashing
	Hash    time.Duration
}

// Compile loads, checks and resolves the project in fsys. It reports every
// problem it finds, not just the first.
//
// It returns an error only when ctx is done before it finishes, and then
// promptly: a stage that cannot be interrupted (parsing one large file,
// evaluating CUE) is abandoned, and stops at its next file or object.
func (c *Compiler) Compile(ctx context.Context, fsys fs.FS) (Result, error) {
	var st Stats
	sink := &diagSink{}
	var (
		l       *loaded
		checked []checkResult
		m       *Manifest
		rs      resolved
	)
	t0 := time.Now()
	var fc *fileCacher
	if c.cache != nil {
		fc = &fileCacher{cache: c.cache, digest: c.schema.digest}
	}
	err := stage(ctx, func() { l = load(ctx, fsys, c.limits, fc, sink) })
	t1 := time.Now()
	if err == nil {
		err = stage(ctx, func() { checked = c.checkAll(ctx, l, fc, sink) })
	}
	t2 := time.Now()
	if err == nil {
		err = stage(ctx, func() { m, rs = resolve(fsys, l, checked, fc, c.checkOnly, sink) })
	}
	t3 := time.Now()
	if err != nil {
		return Result{}, fmt.Errorf("compile: %w", err)
	}
	st.Load, st.Schema, st.Resolve, st.Hash = t1.Sub(t0), t2.Sub(t1), t3.Sub(t2)-rs.hashTime, rs.hashTime
	st.Files = len(l.sources)
	st.Cached = l.cached
	st.Reused = rs.reused
	n := rs.counts
	st.Objects = n.Datasets + n.Dashboards + n.Charts + n.Alerts + n.Reports
	res := Result{Diagnostics: capPerFile(sink.list.Sort()), Sources: l.sources, Counts: n, Stats: st}
	if !res.Diagnostics.HasErrors(false) && !c.checkOnly {
		res.Manifest = m
	}
	return res, nil
}

// maxFileDiagnostics bounds the diagnostics of one file: past that many,
// the file is most likely not a project file at all, or hostile, and the
// rest would only flood the output.
const maxFileDiagnostics = 1000

// capPerFile keeps the first maxFileDiagnostics diagnostics of each file of
// a sorted list, and says how many more there were.
func capPerFile(ds Diagnostics) Diagnostics {
	counts := map[string]int{}
	over := false
	for _, d := range ds {
		counts[d.Pos.File]++
		over = over || counts[d.Pos.File] > maxFileDiagnostics
	}
	if !over {
		return ds
	}
	out := make(Diagnostics, 0, len(ds))
	shown := 0
	for i, d := range ds {
		if i > 0 && d.Pos.File != ds[i-1].Pos.File {
			shown = 0
		}
		if shown < maxFileDiagnostics {
			out = append(out, d)
		}
		shown++
		last := i == len(ds)-1 || ds[i+1].Pos.File != d.Pos.File
		if last && shown > maxFileDiagnostics {
			sev := SeverityWarning
			for _, e := range ds[i-shown+1+maxFileDiagnostics : i+1] {
				if e.Severity == SeverityError {
					sev = SeverityError
				}
			}
			out = append(out, Diagnostic{Pos: Pos{File: d.Pos.File}, Severity: sev, Code: CodeLimit,
				Message: fmt.Sprintf("%d more problems in this file are not shown", shown-maxFileDiagnostics)})
		}
	}
	return out
}

// stage runs f until it finishes or ctx is done; see bounded.
func stage(ctx context.Context, f func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bounded(ctx, 0, f)
	// f may also have noticed ctx itself and returned early.
	return ctx.Err()
}

// bounded runs f on a goroutine of its own and waits until it returns,
// ctx is done or timeout passes (0: never), and reports whether f
// returned. Otherwise f is left to finish on its own, and nothing it
// writes may be read. A panic in f is raised again here.
func bounded(ctx context.Context, timeout time.Duration, f func()) (finished bool) {
	done := make(chan any, 1)
	go func() {
		defer func() {
			p := recover()
			if p != nil {
				p = withStack(p)
			}
			done <- p
		}()
		f()
	}()
	var expired <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case p := <-done:
		if p != nil {
			panic(p)
		}
		return true
	case <-ctx.Done():
		return false
	case <-expired:
		return false
	}
}

// checkAll validates every object against the schema, spread over the
// machine's cores, and reports which passed.
func (c *Compiler) checkAll(ctx context.Context, l *loaded, fc *fileCacher, sink *diagSink) []checkResult {
	ok := make([]checkResult, len(l.objects))
	sinks := make([]diagSink, len(l.objects))
	parallel(ctx, len(l.objects), func(i int) {
		o := l.objects[i]
		if o.cached != nil {
			ok[i] = o.cached.result
			sinks[i].list = o.cached.diags // copied into sink below; the cache writes only what it checked
			return
		}
		ok[i] = c.schema.check(ctx, o.kind, o.tree(), &sinks[i])
	})
	if fc != nil && ctx.Err() == nil {
		fc.putAll(ctx, l, ok, sinks)
	}
	for _, s := range sinks {
		sink.list = append(sink.list, s.list...)
	}
	if l.project != nil && c.schema.check(ctx, KindProject, l.project, sink) == checkFailed {
		l.project = nil
	}
	return ok
}

// withStack is a recovered panic value with the stack of the goroutine
// that panicked, to raise again on another goroutine.
func withStack(p any) string { return fmt.Sprintf("%v\n%s", p, debug.Stack()) }

// parallel calls f(0) … f(n-1) on every core and waits for all of them;
// once ctx is done it starts no more calls. A panic in f is raised again
// here, where the caller can recover it.
func parallel(ctx context.Context, n int, f func(i int)) {
	var (
		wg       sync.WaitGroup
		panicked atomic.Value
	)
	next := make(chan int)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					panicked.CompareAndSwap(nil, withStack(p))
					for range next {
						// Let the feeder finish.
					}
				}
			}()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		if ctx.Err() != nil || panicked.Load() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if p := panicked.Load(); p != nil {
		panic(p)
	}
}
