// Command serve measures `bic serve` in one run and prints a markdown
// table: with wrk on loopback, requests/s and p99 for a chart's JSON and a
// dashboard page from `bic serve`, from a bare net/http handler serving the
// same bytes from memory (a goroutine of this process) and from nginx
// serving them as static files; the page weight of each example dashboard
// and the requests a page load makes; and the RSS of the `bic serve`
// process idle, after the wrk runs and with 1,000 dashboards published.
//
//	go run ./bench/serve                 # builds ./cmd/bic into a temporary folder
//	go run ./bench/serve -bic /tmp/bic -duration 10s -connections 32
//
// It needs wrk and nginx (Debian packages); -skip-nginx leaves nginx out
// and -skip-1000 the second phase. Everything runs on the embedded
// defaults (SQLite, in-process NATS, file storage) in temporary folders
// that are removed after.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
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
	log         io.Writer
}

func main() {
	c := config{threads: 2, rounds: 3}
	var skip1000 bool
	flag.StringVar(&c.bic, "bic", "", "a built bic binary (default: go build ./cmd/bic into a temporary folder)")
	flag.StringVar(&c.shop, "shop", "examples/shop", "the examples/shop folder, copied before it is applied")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "how long each wrk run lasts (wrk -d)")
	flag.IntVar(&c.connections, "connections", 32, "wrk's open connections (wrk -c)")
	flag.IntVar(&c.threads, "threads", 2, "wrk's threads (wrk -t)")
	flag.IntVar(&c.rounds, "rounds", 3, "wrk runs of each setup, interleaved; the table shows their median")
	flag.BoolVar(&c.skipNginx, "skip-nginx", false, "do not measure nginx")
	flag.BoolVar(&skip1000, "skip-1000", false, "do not measure the server with 1,000 dashboards")
	flag.IntVar(&c.dashboards, "dashboards", 1000, "dashboards of the second phase")
	flag.Parse()
	if c.rounds < 1 || c.connections < 1 || c.threads < 1 || c.duration < time.Second {
		log.Fatal("-rounds, -connections and -threads must be at least 1, -duration at least 1s")
	}
	if skip1000 {
		c.dashboards = 0
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
	rep.load[0] = loadAverage()
	defer func() { rep.load[1] = loadAverage() }()
	if !c.skipWrk {
		v, err := wrkVersion(ctx)
		if err != nil {
			return nil, err
		}
		rep.wrk = v
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
	srv, err := startServe(ctx, c.bic, proj, filepath.Join(dir, "serve.log"))
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
