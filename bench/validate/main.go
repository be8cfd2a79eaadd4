// Command validate measures the compiler on a synthetic project of 200
// datasets, 1,000 dashboards and 10,000 charts, and prints a table: the
// wall time of `bic validate`, each stage's time per object, and peak memory.
//
//	go build -o /tmp/bic ./cmd/bic && go run ./bench/validate -bic /tmp/bic
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/bic-dev/bic/bench/synth"
	"github.com/bic-dev/bic/compiler"
)

func main() {
	runs := flag.Int("runs", 5, "compilations to time; the median is reported")
	bic := flag.String("bic", "", "path to a built bic binary, to time `bic validate` as a user runs it")
	keep := flag.String("out", "", "write the synthetic project here instead of a temporary folder")
	flag.Parse()

	dir := *keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "bic-bench-*")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	files := synth.Files(synth.Large)
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			log.Fatal(err)
		}
	}

	if *bic != "" {
		var cliWalls []time.Duration
		var peak int64
		for range *runs {
			cmd := exec.Command(*bic, "validate", dir)
			start := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				log.Fatalf("bic validate: %v\n%s", err, out)
			}
			cliWalls = append(cliWalls, time.Since(start))
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				peak = max(peak, ru.Maxrss)
			}
		}
		// Linux carries the peak RSS across fork and exec, so the child's
		// figure is at least this process's size when it started it.
		var self syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
		fmt.Printf("`bic validate` wall time, median of %d: %s; peak memory: %d MiB (an upper bound: it includes the %d MiB of this process at fork)\n\n",
			*runs, median(cliWalls).Round(time.Millisecond), peak/1024, self.Maxrss/1024)
	}

	s, err := compiler.NewSchema()
	if err != nil {
		log.Fatal(err)
	}
	c := compiler.New(s)
	root, err := os.OpenRoot(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer root.Close()
	var results []compiler.Result
	var walls []time.Duration
	for range *runs {
		start := time.Now()
		res, err := c.Compile(context.Background(), root.FS())
		if err != nil {
			log.Fatal(err)
		}
		walls = append(walls, time.Since(start))
		if res.Manifest == nil {
			log.Fatalf("synthetic project does not compile: %v", res.Diagnostics[:min(5, len(res.Diagnostics))])
		}
		results = append(results, res)
	}
	med := median(walls)
	st := results[len(results)/2].Stats
	m := results[0].Manifest
	fmt.Printf("synthetic project: %d files, %d datasets, %d dashboards, %d charts (%d objects)\n\n",
		st.Files, len(m.Datasets), len(m.Dashboards), len(m.Charts), st.Objects)

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "stage\ttotal\tper object\t")
	row := func(name string, d time.Duration) {
		fmt.Fprintf(w, "%s\t%s\t%s\t\n", name, d.Round(time.Millisecond), (d / time.Duration(st.Objects)).Round(100*time.Nanosecond))
	}
	row("load (YAML)", st.Load)
	row("schema (CUE)", st.Schema)
	row("resolve", st.Resolve)
	row("hash", st.Hash)
	row(fmt.Sprintf("compile, median of %d", *runs), med)
	w.Flush()

	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		fmt.Printf("\npeak memory of this process (%d compilations): %d MiB\n", *runs, ru.Maxrss/1024)
	}

}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
