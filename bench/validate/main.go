// Command validate measures the compiler on two projects of at least
// 10,000 charts: a synthetic one (200 datasets, 1,000 dashboards) and a
// realistic one, examples/shop's dashboards cloned until they hold 10,000
// charts, every clone renamed and changed (and any project given with
// -from, cloned the same way). For each it prints a table: the cold wall
// time of one compilation in one process (schema compiled, no cache),
// each stage's time per object, allocations and peak memory, and with
// -bic the wall time of `bic validate` as a user runs it, cold and after
// editing one dashboard.
//
// Each project is compiled in a child process of its own, so that its peak
// memory is its own.
//
//	go build -o /tmp/bic ./cmd/bic && go run ./bench/validate -bic /tmp/bic
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
	"github.com/bic-dev/bic/bench/synth"
)

func main() {
	runs := flag.Int("runs", 5, "compilations to time; the median is reported")
	bic := flag.String("bic", "", "path to a built bic binary, to time `bic validate` as a user runs it")
	keep := flag.String("out", "", "write the projects under this folder instead of a temporary one")
	shop := flag.String("shop", "examples/shop", "the example project to clone into the realistic one")
	charts := flag.Int("charts", 10_000, "charts the cloned projects hold at least")
	only := flag.String("only", "", "measure only the projects whose name contains this")
	child := flag.String("child", "", "internal: compile the project in this folder and print figures as JSON")
	gcPercent := flag.Int("gcpercent", 400, "the GC percent the compilations run with (bic validate sets 400; 100 is Go's default)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the cold compilations of each project to FILE.NAME")
	var from multiFlag
	flag.Var(&from, "from", "a project folder to clone into another realistic project (repeatable)")
	flag.Parse()

	if *child != "" {
		debug.SetGCPercent(*gcPercent)
		if err := measureInProcess(*child, *runs, *cpuprofile, os.Stdout); err != nil {
			log.Fatal(err)
		}
		return
	}

	dir := *keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "bic-bench-*")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	type project struct{ name, dir, what string }
	var projects []project
	synthDir := filepath.Join(dir, "synthetic")
	for name, data := range synth.Files(synth.Large) {
		if err := writeFile(synthDir, name, data); err != nil {
			log.Fatal(err)
		}
	}
	projects = append(projects, project{"synthetic", synthDir, "bench/synth.Large"})
	for i, src := range append([]string{*shop}, from...) {
		name := "clone of " + filepath.Base(filepath.Clean(src))
		out := filepath.Join(dir, "clone-"+filepath.Base(filepath.Clean(src)))
		if i > 0 {
			name = fmt.Sprintf("%s (-from %d)", name, i)
			out = fmt.Sprintf("%s-%d", out, i)
		}
		n, err := cloneProject(src, out, *charts)
		if err != nil {
			log.Fatalf("clone %s: %v", src, err)
		}
		projects = append(projects, project{name, out, fmt.Sprintf("%s cloned to %d charts", src, n)})
	}

	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d cores (GOMAXPROCS %d), GC percent %d in process, %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), *gcPercent, loadAverage())
	for _, p := range projects {
		if *only != "" && !strings.Contains(p.name, *only) {
			continue
		}
		args := []string{"-child", p.dir, "-runs", fmt.Sprint(*runs), "-gcpercent", fmt.Sprint(*gcPercent)}
		if *cpuprofile != "" {
			args = append(args, "-cpuprofile", *cpuprofile+"."+strings.ReplaceAll(p.name, " ", "-"))
		}
		cmd := exec.Command(self, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			log.Fatalf("measure %s: %v", p.name, err)
		}
		var f figures
		if err := json.Unmarshal(out, &f); err != nil {
			log.Fatalf("measure %s: %v", p.name, err)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			f.PeakRSS = ru.Maxrss * 1024
		}
		var cli *cliFigures
		if *bic != "" {
			cli, err = measureCLI(*bic, p.dir, *runs)
			if err != nil {
				log.Fatalf("bic validate %s: %v", p.name, err)
			}
		}
		printTable(p.name, p.what, f, cli, *runs)
	}
	fmt.Printf("\n%s\n", loadAverage())
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func printTable(name, what string, f figures, cli *cliFigures, runs int) {
	fmt.Printf("\n== %s: %s\n", name, what)
	fmt.Printf("%d files, %d datasets, %d dashboards, %d charts, %d objects\n\n", f.Files, f.Datasets, f.Dashboards, f.Charts, f.Objects)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measure\twall\tper object\tCPU (user+sys)\t")
	per := func(d time.Duration) string {
		return (d / time.Duration(max(f.Objects, 1))).Round(100 * time.Nanosecond).String()
	}
	row := func(label string, d time.Duration, cpu ...time.Duration) {
		c := ""
		if len(cpu) > 0 {
			c = cpu[0].Round(time.Millisecond).String()
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t\n", label, d.Round(time.Millisecond), per(d), c)
	}
	row("schema compile (NewSchema)", f.NewSchema)
	row("load (YAML)", f.Load)
	row("schema (CUE)", f.Schema)
	row("resolve", f.Resolve)
	row("hash", f.Hash)
	row(fmt.Sprintf("cold compile in process, median of %d", runs), f.Cold, f.ColdCPU)
	if f.Warm > 0 {
		row(fmt.Sprintf("one dashboard edited, warm cache in memory (bic dev), median of %d", runs), f.Warm, f.WarmCPU)
	}
	if f.WarmCheck > 0 {
		row(fmt.Sprintf("the same, checking only (bic validate), median of %d", runs), f.WarmCheck, f.WarmCheckCPU)
	}
	if cli != nil {
		row(fmt.Sprintf("`bic --help` (the binary's start), median of %d", runs), cli.Startup)
		row(fmt.Sprintf("`bic validate%s`, median of %d", cli.coldFlag, runs), cli.Cold, cli.ColdCPU)
		if cli.Warm > 0 {
			row(fmt.Sprintf("`bic validate` after editing one dashboard, median of %d", runs), cli.Warm, cli.WarmCPU)
		}
		if cli.WarmDataset > 0 {
			row(fmt.Sprintf("`bic validate` after editing one dataset, median of %d", runs), cli.WarmDataset, cli.WarmDatasetCPU)
		}
	}
	w.Flush()
	fmt.Printf("\nallocations per cold compile: %d objects, %d MiB; GC cycles %d; peak memory of the process (%d compiles): %d MiB\n",
		f.Mallocs, f.AllocBytes>>20, f.GCs, runs, f.PeakRSS>>20)
	if cli != nil {
		fmt.Printf("`bic validate` peak memory: %d MiB (cold), %d MiB (warm)\n", cli.ColdRSS>>20, cli.WarmRSS>>20)
	}
}

// cliFigures are the wall times of `bic validate` as a user runs it.
type cliFigures struct {
	coldFlag         string
	Startup          time.Duration // `bic --help`: the binary's own start
	Cold, Warm       time.Duration
	ColdCPU, WarmCPU time.Duration
	ColdRSS, WarmRSS int64
	// After editing a dataset every dashboard that may read it is
	// resolved again.
	WarmDataset, WarmDatasetCPU time.Duration
}

// measureCLI times `bic validate` cold (without its cache when it has one)
// and, when it has a cache, after editing one dashboard each run.
func measureCLI(bic, dir string, runs int) (*cliFigures, error) {
	help, _ := exec.Command(bic, "validate", "--help").CombinedOutput()
	hasCache := bytes.Contains(help, []byte("--no-cache"))
	f := &cliFigures{}
	var coldArgs []string
	if hasCache {
		coldArgs = []string{"--no-cache"}
		f.coldFlag = " --no-cache"
	}
	var cpu time.Duration // of the last run
	run := func(args ...string) (time.Duration, int64, error) {
		cmd := exec.Command(bic, append([]string{"validate"}, append(args, dir)...)...)
		cmd.Env = append(os.Environ(), "CI=")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			return 0, 0, fmt.Errorf("%v\n%s", err, out)
		}
		var rss int64
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss * 1024
		}
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		return d, rss, nil
	}
	var colds, coldCPU, starts []time.Duration
	for range runs {
		start := time.Now()
		if out, err := exec.Command(bic, "--help").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("bic --help: %v\n%s", err, out)
		}
		starts = append(starts, time.Since(start))
	}
	f.Startup = benchkit.Median(starts)
	for range runs {
		d, rss, err := run(coldArgs...)
		if err != nil {
			return nil, err
		}
		colds = append(colds, d)
		coldCPU = append(coldCPU, cpu)
		f.ColdRSS = max(f.ColdRSS, rss)
	}
	f.Cold, f.ColdCPU = benchkit.Median(colds), benchkit.Median(coldCPU)
	if !hasCache {
		return f, nil
	}
	if _, _, err := run(); err != nil { // fill the cache
		return nil, err
	}
	edited := func(folder, key string, rss *int64) (wall, cpuTime time.Duration, err error) {
		edit, restore, err := editFile(dir, folder, key)
		if err != nil {
			return 0, 0, err
		}
		defer restore()
		var walls, cpus []time.Duration
		for i := range runs {
			if err := edit(i); err != nil {
				return 0, 0, err
			}
			d, r, err := run()
			if err != nil {
				return 0, 0, err
			}
			walls = append(walls, d)
			cpus = append(cpus, cpu)
			if rss != nil {
				*rss = max(*rss, r)
			}
		}
		return benchkit.Median(walls), benchkit.Median(cpus), nil
	}
	var err error
	if f.Warm, f.WarmCPU, err = edited("dashboards", "title:", &f.WarmRSS); err != nil {
		return nil, err
	}
	if f.WarmDataset, f.WarmDatasetCPU, err = edited("datasets", "description:", nil); err != nil {
		return nil, err
	}
	return f, nil
}

// loadAverage is the machine's load, for the tables.
func loadAverage() string {
	if l := benchkit.LoadAverage(); l != "" {
		return "load average " + l
	}
	return "load average unknown"
}
