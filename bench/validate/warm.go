package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
	"github.com/bic-dev/bic/compiler"
)

// memCache is a compiler.FileCache in memory: what `bic validate` keeps
// on disk, without the disk, to time the compiler's own part of a warm run.
type memCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (c *memCache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

func (c *memCache) Put(key string, value []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = value
}

// measureWarm fills a cache with one compile of the project in dir, then
// edits one dashboard before each of runs compiles (a new schema each
// time, as a new process has) and returns their median wall time.
// With cpuprofile, the edited runs are profiled into that file. With
// checkOnly, the compiles check only, as `bic validate` does.
func measureWarm(dir string, root *os.Root, runs int, cpuprofile string, checkOnly bool) (wall, cpu time.Duration, err error) {
	newCompiler := func(cache compiler.FileCache) (*compiler.Compiler, error) {
		s, err := compiler.NewSchema()
		if err != nil {
			return nil, err
		}
		c := compiler.New(s).WithCache(cache)
		if checkOnly {
			c = c.CheckOnly()
		}
		return c, nil
	}
	cache := &memCache{m: map[string][]byte{}}
	c, err := newCompiler(cache)
	if err != nil {
		return 0, 0, err
	}
	if _, err := c.Compile(context.Background(), root.FS()); err != nil {
		return 0, 0, err
	}
	edit, restore, err := editOne(dir)
	if err != nil {
		return 0, 0, err
	}
	defer restore()
	if cpuprofile != "" {
		pf, err := os.Create(cpuprofile)
		if err != nil {
			return 0, 0, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return 0, 0, err
		}
		defer pprof.StopCPUProfile()
	}
	var walls, cpus []time.Duration
	for i := range runs {
		if err := edit(i); err != nil {
			return 0, 0, err
		}
		cpu0 := cpuTime()
		start := time.Now()
		c, err := newCompiler(cache)
		if err != nil {
			return 0, 0, err
		}
		res, err := c.Compile(context.Background(), root.FS())
		if err != nil {
			return 0, 0, err
		}
		walls = append(walls, time.Since(start))
		cpus = append(cpus, cpuTime()-cpu0)
		if res.Diagnostics.HasErrors(false) || !checkOnly && res.Manifest == nil {
			return 0, 0, fmt.Errorf("the edited project does not compile: %v", res.Diagnostics[:min(3, len(res.Diagnostics))])
		}
		if res.Stats.Cached != res.Stats.Files-2 && res.Stats.Cached < res.Stats.Files/2 {
			return 0, 0, fmt.Errorf("only %d of %d files came from the cache", res.Stats.Cached, res.Stats.Files)
		}
		if checkOnly && res.Stats.Reused < res.Counts.Dashboards/2 {
			return 0, 0, fmt.Errorf("only %d of %d dashboards were counted from their verdicts", res.Stats.Reused, res.Counts.Dashboards)
		}
	}
	return benchkit.Median(walls), benchkit.Median(cpus), nil
}
