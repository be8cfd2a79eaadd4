package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
	"github.com/bic-dev/bic/compiler"
)

// figures are what one child process measured on one project.
type figures struct {
	Files, Datasets, Dashboards, Charts, Objects int
	NewSchema                                    time.Duration
	Load, Schema, Resolve, Hash                  time.Duration
	Cold                                         time.Duration // NewSchema + Compile, no cache
	ColdCPU                                      time.Duration // user + system CPU time of it
	Warm                                         time.Duration // one file edited, in-memory cache filled
	WarmCPU                                      time.Duration
	WarmCheck                                    time.Duration // the same, checking only (what bic validate does)
	WarmCheckCPU                                 time.Duration
	Mallocs                                      uint64 // per cold compile
	AllocBytes                                   uint64
	GCs                                          uint32
	PeakRSS                                      int64 // filled in by the parent
}

// measureInProcess compiles the project in dir runs times as `bic
// validate` does, cold (a new schema, no cache), then with a cache after
// editing one dashboard, and writes the medians as JSON.
func measureInProcess(dir string, runs int, cpuprofile string, out io.Writer) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if cpuprofile != "" {
		pf, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
	}
	var (
		walls, schemas, cpus         []time.Duration
		loads, checks, resolves, hs  []time.Duration
		last                         compiler.Result
		mallocs, allocBytes, gcCount []uint64
	)
	for range runs {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		cpu0 := cpuTime()
		start := time.Now()
		s, err := compiler.NewSchema()
		if err != nil {
			return err
		}
		schemaDone := time.Now()
		res, err := compiler.New(s).Compile(context.Background(), root.FS())
		if err != nil {
			return err
		}
		walls = append(walls, time.Since(start))
		cpus = append(cpus, cpuTime()-cpu0)
		runtime.ReadMemStats(&after)
		schemas = append(schemas, schemaDone.Sub(start))
		if res.Manifest == nil {
			return fmt.Errorf("%s does not compile: %v", dir, res.Diagnostics[:min(5, len(res.Diagnostics))])
		}
		st := res.Stats
		loads, checks, resolves, hs = append(loads, st.Load), append(checks, st.Schema), append(resolves, st.Resolve), append(hs, st.Hash)
		mallocs = append(mallocs, after.Mallocs-before.Mallocs)
		allocBytes = append(allocBytes, after.TotalAlloc-before.TotalAlloc)
		gcCount = append(gcCount, uint64(after.NumGC-before.NumGC))
		last = res
	}
	pprof.StopCPUProfile()
	m := last.Manifest
	f := figures{
		Files: last.Stats.Files, Objects: last.Stats.Objects,
		Datasets: len(m.Datasets), Dashboards: len(m.Dashboards), Charts: len(m.Charts),
		NewSchema: benchkit.Median(schemas), Load: benchkit.Median(loads), Schema: benchkit.Median(checks), Resolve: benchkit.Median(resolves), Hash: benchkit.Median(hs),
		Cold: benchkit.Median(walls), ColdCPU: benchkit.Median(cpus), Mallocs: medianU(mallocs), AllocBytes: medianU(allocBytes), GCs: uint32(medianU(gcCount)),
	}
	warmProfile := ""
	if cpuprofile != "" {
		warmProfile = cpuprofile + ".warm"
	}
	if f.Warm, f.WarmCPU, err = measureWarm(dir, root, runs, warmProfile, false); err != nil {
		return err
	}
	if f.WarmCheck, f.WarmCheckCPU, err = measureWarm(dir, root, runs, "", true); err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(f)
}

func medianU(xs []uint64) uint64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// editOne finds a dashboard file of the project in dir and returns a
// function that makes its i-th edit (a different title each time) and one
// that puts the file back.
func editOne(dir string) (edit func(i int) error, restore func(), err error) {
	return editFile(dir, "dashboards", "title:")
}

// editFile is editOne for the middle YAML file of folder, whose line
// starting with key it changes.
func editFile(dir, folder, key string) (edit func(i int) error, restore func(), err error) {
	matches, err := filepath.Glob(filepath.Join(dir, folder, "*.yaml"))
	if err != nil || len(matches) == 0 {
		return nil, nil, fmt.Errorf("no file to edit in %s", filepath.Join(dir, folder))
	}
	slices.Sort(matches)
	file := matches[len(matches)/2]
	orig, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	edit = func(i int) error {
		lines := strings.SplitAfter(string(orig), "\n")
		for j, l := range lines {
			if strings.HasPrefix(l, key) {
				lines[j] = fmt.Sprintf("%s Edited %d times\n", key, i+1)
				break
			}
		}
		return os.WriteFile(file, []byte(strings.Join(lines, "")), 0o644)
	}
	restore = func() { _ = os.WriteFile(file, orig, 0o644) }
	return edit, restore, nil
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
