package compiler

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"runtime"
	"sync"
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
}

// Compile loads, checks and resolves the project in fsys. It reports every
// problem it finds, not just the first.
func (c *Compiler) Compile(fsys fs.FS) Result {
	sink := &diagSink{}
	l := load(fsys, sink)
	checked := c.checkAll(l, sink)
	m := resolve(fsys, l, checked, sink)
	res := Result{Diagnostics: sink.list.Sort(), Sources: l.sources}
	if !res.Diagnostics.HasErrors(false) {
		res.Manifest = m
	}
	return res
}

// checkAll validates every object against the schema, spread over the
// machine's cores, and reports which passed.
func (c *Compiler) checkAll(l *loaded, sink *diagSink) []bool {
	ok := make([]bool, len(l.objects))
	sinks := make([]diagSink, len(l.objects))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				o := l.objects[i]
				ok[i] = c.schema.check(o.kind, o.node, &sinks[i])
			}
		}()
	}
	for i := range l.objects {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, s := range sinks {
		sink.list = append(sink.list, s.list...)
	}
	if l.project != nil && !c.schema.check(KindProject, l.project, sink) {
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
