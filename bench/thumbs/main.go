// Command thumbs measures how fast runners draw thumbnails (each
// dashboard's and each of its charts'): examples/shop
// with its dashboards cloned to -dashboards (each clone renamed and
// retitled, so every page differs and is drawn), applied on real services
// (a PostgreSQL schema and a NATS stream of the run's own, a local storage
// folder), then run by 1 and by 2 `bic runner` processes, each with its
// own headless Chromium. It prints a markdown table: thumbnail jobs, the
// time from the first one's start to the last one's end, thumbnails per
// second (and the ratio to one runner), each job's median and slowest
// time, and the peak memory of the runners' browsers. Before that it
// times the screenshots of examples/shop's dashboards with a warm browser.
//
//	go run ./bench/thumbs -dashboards 30
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner/render"
)

type config struct {
	dashboards int
	runners    []int
	postgres   string
	nats       string
	chrome     string
	shop       string
	bic        string
}

func main() {
	var c config
	var runners string
	flag.IntVar(&c.dashboards, "dashboards", 30, "dashboards of the project (examples/shop's three, cloned)")
	flag.StringVar(&runners, "runners", "1,2", "numbers of `bic runner` processes to measure, in turn")
	flag.StringVar(&c.postgres, "postgres", cmp.Or(os.Getenv("BIC_TEST_POSTGRES_URL"), "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL for the metadata (a schema of the run's own)")
	flag.StringVar(&c.nats, "nats", cmp.Or(os.Getenv("BIC_TEST_NATS_URL"), "nats://127.0.0.1:4222"), "NATS server with JetStream (a stream of the run's own)")
	flag.StringVar(&c.chrome, "chrome", cmp.Or(os.Getenv("BIC_TEST_CHROME"), "/usr/bin/chromium"), "headless Chromium")
	flag.StringVar(&c.shop, "shop", "examples/shop", "the examples/shop folder")
	flag.StringVar(&c.bic, "bic", "", "a built bic binary (default: built now)")
	flag.Parse()
	for _, f := range strings.Split(runners, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			log.Fatalf("-runners: expected numbers such as 1,2, found %q", f)
		}
		c.runners = append(c.runners, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if c.bic == "" {
		bin, clean, err := benchkit.BuildBic(ctx)
		if err != nil {
			log.Fatal(err)
		}
		defer clean()
		c.bic = bin
	}
	load0 := benchkit.LoadAverage()
	fmt.Fprintf(os.Stderr, "%s  examples/shop: screenshots with a warm browser\n", time.Now().UTC().Format("15:04:05"))
	shots, err := screenshotLatency(ctx, c)
	if err != nil {
		log.Fatal(err)
	}
	var results []result
	for _, n := range c.runners {
		fmt.Fprintf(os.Stderr, "%s  %d dashboards, %d runner(s)\n", time.Now().UTC().Format("15:04:05"), c.dashboards, n)
		r, err := measure(ctx, c, n)
		if err != nil {
			log.Fatal(err)
		}
		results = append(results, r)
	}
	printShots(os.Stdout, shots)
	print(os.Stdout, c, results, load0, benchkit.LoadAverage())
}

// shot is one examples/shop dashboard's screenshot times, warm browser.
type shot struct {
	dashboard       string
	charts          int
	viewport, cells []time.Duration // median of each is reported
}

// screenshotRuns is how many times each picture is drawn after a first,
// warming one.
const screenshotRuns = 7

// screenshotLatency applies examples/shop as it is (embedded defaults, no
// pictures drawn: BIC_THUMBNAILS=off), then draws each dashboard with a
// renderer of this process, warm: the thumbnail (1200×800 at scale 0.5)
// and the whole page with every chart's card cropped (Cells).
func screenshotLatency(ctx context.Context, c config) ([]shot, error) {
	dir, err := os.MkdirTemp("", "bic-bench-shots-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := benchkit.CopyProject(c.shop, dir); err != nil {
		return nil, err
	}
	apply := exec.CommandContext(ctx, c.bic, "apply", "-p", dir, "--auto-approve", "--wait")
	apply.Env = append(benchkit.EmbeddedEnv(), "BIC_THUMBNAILS=off")
	if out, err := apply.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("bic apply --wait: %w\n%s", err, out)
	}
	objects, err := storage.Open(ctx, "file://"+filepath.Join(dir, ".bic", "artifacts"))
	if err != nil {
		return nil, err
	}
	defer objects.Close()
	rel, _, err := release.Current(ctx, objects, "prod")
	if err != nil {
		return nil, err
	}
	r, err := render.New(ctx, render.Options{Storage: objects, ChromePath: c.chrome})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []shot
	for _, name := range slices.Sorted(maps.Keys(rel.Dashboards)) {
		s := shot{dashboard: name, charts: len(rel.Dashboards[name].Charts)}
		for _, cells := range []bool{false, true} {
			q := render.Request{Release: rel, Dashboard: name, Width: 1200, Height: 800, Scale: 0.5}
			if cells {
				q.Scale, q.Cells = 1, true
			}
			for i := range screenshotRuns + 1 {
				start := time.Now()
				if _, err := r.Render(ctx, q); err != nil {
					return nil, fmt.Errorf("draw %s: %w", name, err)
				}
				if i == 0 {
					continue // warms the browser, the tab and the page's assets
				}
				if cells {
					s.cells = append(s.cells, time.Since(start))
				} else {
					s.viewport = append(s.viewport, time.Since(start))
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func printShots(w io.Writer, shots []shot) {
	fmt.Fprintf(w, "examples/shop, a warm browser, median of %d (load average %s)\n\n", screenshotRuns, benchkit.LoadAverage())
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "dashboard\tcharts\tthumbnail (1200×800 at 0.5)\twhole page + every chart's card")
	for _, s := range shots {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", s.dashboard, s.charts, benchkit.Dur(benchkit.Median(s.viewport)), benchkit.Dur(benchkit.Median(s.cells)))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

type result struct {
	runners     int
	jobs        int // thumbnail jobs
	pictures    int // dashboards and charts drawn, in the live release
	span        time.Duration
	median, max time.Duration
	live        time.Duration // apply to live
	browserPeak int64         // bytes, the runners' browsers together
}

// measure applies a fresh copy of the project and runs it with n runners.
func measure(ctx context.Context, c config, n int) (result, error) {
	dir, err := os.MkdirTemp("", "bic-bench-thumbs-*")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	if err := writeProject(c.shop, dir, c.dashboards); err != nil {
		return result{}, err
	}
	id := time.Now().UnixNano()
	st, metaURL, drop, err := benchkit.ScratchSchema(ctx, c.postgres, fmt.Sprintf("bic_bench_thumbs_%d", id))
	if err != nil {
		return result{}, err
	}
	defer drop()
	stream := fmt.Sprintf("BENCH_THUMBS_%d", id)
	defer benchkit.DeleteStream(context.WithoutCancel(ctx), c.nats, stream)
	env := append(benchkit.EmbeddedEnv(), "BIC_METADATA_URL="+metaURL, "BIC_NATS_URL="+c.nats,
		"BIC_NATS_STREAM="+stream, "BIC_STORAGE_URL=file://"+filepath.Join(dir, "store"), "BIC_CHROME="+c.chrome)
	apply := exec.CommandContext(ctx, c.bic, "apply", "-p", dir, "--auto-approve")
	apply.Env = env
	if out, err := apply.CombinedOutput(); err != nil {
		return result{}, fmt.Errorf("bic apply: %w\n%s", err, out)
	}
	start := time.Now()
	var procs []*exec.Cmd
	defer func() { _ = benchkit.StopAll(procs) }()
	for i := range n {
		logFile, err := os.Create(filepath.Join(dir, fmt.Sprintf("runner-%d.log", i)))
		if err != nil {
			return result{}, err
		}
		defer logFile.Close()
		cmd := exec.Command(c.bic, "runner", "-p", dir)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, logFile, logFile
		if err := cmd.Start(); err != nil {
			return result{}, fmt.Errorf("start bic runner: %w", err)
		}
		procs = append(procs, cmd)
	}
	r := result{runners: n}
	for {
		e, err := st.Environment(ctx, "prod")
		if err != nil {
			return result{}, err
		}
		if e.Live == 1 {
			break
		}
		for _, p := range procs {
			r.browserPeak = max(r.browserPeak, browserMemory(p.Process.Pid))
		}
		select {
		case <-ctx.Done():
			return result{}, fmt.Errorf("revision 1 not live: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	r.live = time.Since(start)
	if err := benchkit.StopAll(procs); err != nil {
		return result{}, err
	}
	procs = nil
	jobs, err := st.Jobs(ctx, "prod", 1)
	if err != nil {
		return result{}, err
	}
	var first, last time.Time
	var each []time.Duration
	for _, j := range jobs {
		if j.Kind != compiler.JobThumbnail || j.Status != metadata.JobDone {
			continue
		}
		if first.IsZero() || j.StartedAt.Before(first) {
			first = j.StartedAt
		}
		if j.FinishedAt.After(last) {
			last = j.FinishedAt
		}
		each = append(each, j.FinishedAt.Sub(j.StartedAt))
	}
	if len(each) == 0 {
		return result{}, fmt.Errorf("no thumbnail job done")
	}
	objects, err := storage.Open(ctx, "file://"+filepath.Join(dir, "store"))
	if err != nil {
		return result{}, err
	}
	defer objects.Close()
	rel, _, err := release.Current(ctx, objects, "prod")
	if err != nil {
		return result{}, err
	}
	for _, d := range rel.Dashboards {
		if d.Thumbnail != "" && !d.ThumbnailStale {
			r.pictures++
		}
		for _, th := range d.ChartThumbnails {
			if !th.Stale {
				r.pictures++
			}
		}
	}
	slices.Sort(each)
	r.jobs, r.span, r.median, r.max = len(each), last.Sub(first), each[len(each)/2], each[len(each)-1]
	return r, nil
}

// writeProject copies examples/shop into dir and replaces its dashboards
// with n: clones of each, renamed and retitled (an alert or report naming
// a dashboard keeps the original's name, which the first clone keeps).
func writeProject(shop, dir string, n int) error {
	if err := benchkit.CopyProject(shop, dir); err != nil {
		return err
	}
	names, err := filepath.Glob(filepath.Join(dir, "dashboards", "*.yaml"))
	if err != nil || len(names) == 0 {
		return fmt.Errorf("no dashboards in %s: %v", shop, err)
	}
	for i := len(names); i < n; i++ {
		src := names[i%len(names)]
		base := strings.TrimSuffix(filepath.Base(src), ".yaml")
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		clone := strings.Replace(string(b), "dashboard: "+base, fmt.Sprintf("dashboard: %s_%d", base, i), 1)
		clone = strings.Replace(clone, "title: ", fmt.Sprintf("title: Copy %d of ", i), 1)
		if clone == string(b) {
			return fmt.Errorf("%s: no dashboard: %s line to rename", src, base)
		}
		if err := os.WriteFile(filepath.Join(dir, "dashboards", fmt.Sprintf("%s_%d.yaml", base, i)), []byte(clone), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// browserMemory is the resident memory of the Chromium processes under a
// runner's process (its descendants, found by their parents in /proc).
func browserMemory(pid int) int64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	parent, comm := map[int]int{}, map[int]string{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 2 {
			continue
		}
		parent[p], _ = strconv.Atoi(f[1])
		comm[p] = s[open+1 : end]
	}
	var total int64
	for p := range parent {
		if !strings.Contains(comm[p], "chrom") {
			continue
		}
		for a := parent[p]; a > 1; a = parent[a] {
			if a == pid {
				total += pss(p)
				break
			}
		}
	}
	return total
}

// pss is a process's proportional share of resident memory (shared
// pages divided among their sharers, so a browser's processes add up).
func pss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func print(w io.Writer, c config, rs []result, load0, load1 string) {
	fmt.Fprintf(w, "thumbnails of %d dashboards (examples/shop cloned), 600×400; load average %s → %s\n\n", c.dashboards, load0, load1)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "runners\tthumbnail jobs\tpictures (dashboards + charts)\tfirst start → last end\tpictures/s\tvs 1 runner\tjob median / max\tapply → live\tbrowsers' peak PSS")
	var one float64
	for _, r := range rs {
		rate := float64(r.pictures) / r.span.Seconds()
		if r.runners == 1 {
			one = rate
		}
		ratio := "—"
		if one > 0 {
			ratio = fmt.Sprintf("%.2f×", rate/one)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%.2f\t%s\t%s / %s\t%s\t%d MiB\n", r.runners, r.jobs, r.pictures, benchkit.Dur(r.span), rate, ratio,
			benchkit.Dur(r.median), benchkit.Dur(r.max), benchkit.Dur(r.live), r.browserPeak>>20)
	}
	tw.Flush()
}
