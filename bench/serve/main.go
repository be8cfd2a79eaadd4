// Command serve measures `bic serve` in one run and prints a markdown
// table: with wrk on loopback, requests/s and p99 for a chart's JSON and a
// dashboard page from `bic serve`, from a bare net/http handler serving the
// same bytes from memory (a goroutine of this process) and from nginx
// serving them as static files; the page weight of each example dashboard
// and the requests a page load makes; the time from navigation to every
// chart drawn for the dashboard with the most charts in headless Chromium,
// cold and warm, from `bic serve` and from the static export of `bic
// publish`; the latency of chart data in filter states that were not
// precomputed, computed by `bic runner` processes on a NATS server, asked
// again, and of a precomputed state; and the RSS of the `bic serve` process
// idle, after the wrk runs and with 1,000 dashboards published.
//
//	go run ./bench/serve                 # builds ./cmd/bic into a temporary folder
//	go run ./bench/serve -bic /tmp/bic -duration 10s -connections 32
//
// It needs wrk and nginx (Debian packages), Chromium ($BIC_CHROME, else
// /usr/bin/chromium) and a NATS server with JetStream ($BIC_NATS_URL,
// else nats://127.0.0.1:4222); -skip-nginx leaves nginx out, -skip-1000
// the second phase, -browser=false the browser and -ondemand=false the
// runners. Everything else runs on the embedded defaults (SQLite, file
// storage; the in-process NATS where no runner is needed) in temporary
// folders that are removed after; the on-demand phase uses a stream of
// its own on the NATS server and deletes it.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
)

// config is what one run measures.
type config struct {
	bic         string // a built bic binary
	shop        string // the examples/shop folder
	duration    time.Duration
	connections int
	threads     int
	rounds      int // wrk runs of each setup, interleaved; the table has their median
	skipNginx   bool
	skipWrk     bool // no load at all: page weight and memory only (the test)
	dashboards  int  // of the second phase; 0: no second phase
	// browserRuns is how many times the largest dashboard loads in
	// Chromium at chrome, cold and warm, served and exported; 0: none.
	browserRuns int
	chrome      string
	// ondemandStates is how many filter states that were not precomputed
	// are asked of the runners on the NATS server at nats; 0: none.
	ondemandStates int
	nats           string
	log            io.Writer
}

func main() {
	c := config{threads: 2, rounds: 3}
	var skip1000 bool
	browserOn, ondemandOn := true, true
	flag.StringVar(&c.bic, "bic", "", "a built bic binary (default: go build ./cmd/bic into a temporary folder)")
	flag.StringVar(&c.shop, "shop", "examples/shop", "the examples/shop folder, copied before it is applied")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "how long each wrk run lasts (wrk -d)")
	flag.IntVar(&c.connections, "connections", 32, "wrk's open connections (wrk -c)")
	flag.IntVar(&c.threads, "threads", 2, "wrk's threads (wrk -t)")
	flag.IntVar(&c.rounds, "rounds", 3, "wrk runs of each setup, interleaved; the table shows their median")
	flag.BoolVar(&c.skipNginx, "skip-nginx", false, "do not measure nginx")
	flag.BoolVar(&skip1000, "skip-1000", false, "do not measure the server with 1,000 dashboards")
	flag.IntVar(&c.dashboards, "dashboards", 1000, "dashboards of the second phase")
	flag.BoolVar(&browserOn, "browser", true, "time the largest dashboard's page loads in Chromium")
	flag.IntVar(&c.browserRuns, "browser-runs", 10, "page loads of each browser setup, cold and warm")
	flag.StringVar(&c.chrome, "chrome", cmp.Or(os.Getenv("BIC_CHROME"), "/usr/bin/chromium"), "the Chromium binary (default: $BIC_CHROME or /usr/bin/chromium)")
	flag.BoolVar(&ondemandOn, "ondemand", true, "time filter states that were not precomputed, through bic runner processes on a NATS server")
	flag.IntVar(&c.ondemandStates, "ondemand-states", 30, "distinct filter states that were not precomputed")
	flag.StringVar(&c.nats, "nats", cmp.Or(os.Getenv("BIC_NATS_URL"), "nats://127.0.0.1:4222"), "the NATS server of the on-demand runners; the run uses a stream of its own and deletes it (default: $BIC_NATS_URL or nats://127.0.0.1:4222)")
	flag.Parse()
	if c.rounds < 1 || c.connections < 1 || c.threads < 1 || c.duration < time.Second || c.browserRuns < 1 || c.ondemandStates < 1 {
		log.Fatal("-rounds, -connections, -threads, -browser-runs and -ondemand-states must be at least 1, -duration at least 1s")
	}
	if skip1000 {
		c.dashboards = 0
	}
	if !browserOn {
		c.browserRuns = 0
	}
	if !ondemandOn {
		c.ondemandStates = 0
	}
	c.log = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cleanup := func() {}
	if c.bic == "" {
		bin, remove, err := benchkit.BuildBic(ctx)
		if err != nil {
			log.Fatal(err)
		}
		c.bic, cleanup = bin, remove
	}
	rep, err := run(ctx, c)
	cleanup()
	if err != nil {
		log.Fatal(err)
	}
	rep.print(os.Stdout, c)
}

// run measures what c asks for.
func run(ctx context.Context, c config) (*report, error) {
	rep := &report{}
	rep.load[0] = benchkit.LoadAverage()
	progress(c, "%d CPUs, shared; load average %s", runtime.NumCPU(), rep.load[0])
	defer func() { rep.load[1] = benchkit.LoadAverage() }()
	if !c.skipWrk {
		v, err := wrkVersion(ctx)
		if err != nil {
			return nil, err
		}
		rep.wrk = v
	}
	if c.ondemandStates > 0 {
		if err := natsReachable(c.nats); err != nil {
			return nil, err
		}
	}

	dir, err := os.MkdirTemp("", "bic-bench-serve-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	proj := filepath.Join(dir, "shop")
	if err := benchkit.CopyProject(c.shop, proj); err != nil {
		return nil, err
	}
	progress(c, "examples/shop: bic apply --wait")
	if rep.shopApply, err = apply(ctx, c.bic, proj); err != nil {
		return nil, err
	}
	srv, err := startServe(ctx, c.bic, proj, filepath.Join(dir, "serve.log"), nil)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	if rep.rssIdle, err = rss(srv.pid()); err != nil {
		return nil, err
	}

	progress(c, "page weight of each dashboard")
	if rep.pages, rep.assets, err = pageWeights(ctx, srv.base); err != nil {
		return nil, err
	}
	if c.browserRuns > 0 {
		if rep.browser, err = browserTests(ctx, c, proj, srv.base, rep.pages, filepath.Join(dir, "site")); err != nil {
			return nil, err
		}
	}
	if !c.skipWrk {
		if rep.loads, err = loadTests(ctx, c, srv.base, dir); err != nil {
			return nil, err
		}
		if rep.rssAfter, err = rss(srv.pid()); err != nil {
			return nil, err
		}
	}
	if err := srv.stop(); err != nil {
		return nil, err
	}
	if c.ondemandStates > 0 {
		if rep.ondemand, err = onDemandTimes(ctx, c, filepath.Join(dir, "ondemand")); err != nil {
			return nil, err
		}
	}
	if c.dashboards > 0 {
		progress(c, "%d dashboards: validate, apply --wait, serve, request each page", c.dashboards)
		if rep.many, err = manyDashboards(ctx, c, filepath.Join(dir, "many")); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func progress(c config, format string, args ...any) {
	if c.log != nil {
		fmt.Fprintf(c.log, "%s  "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05")}, args...)...)
	}
}
