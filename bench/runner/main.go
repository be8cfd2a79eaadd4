// Command runner measures the job pipeline in one run and prints a
// markdown table: a bare JetStream baseline (publish, pull, ack), then
// trivial chart_data jobs through dispatcher → JetStream → two runners →
// storage → job rows, on the embedded defaults (in-process NATS, file
// storage, SQLite) and on real services (a NATS server, S3 and PostgreSQL,
// with two `bic runner` processes), then examples/shop's first
// `bic apply --wait` and its re-apply. When -n is below -probe-n it also
// times one Store.JobByID on an applied, unrun revision of -probe-n charts.
//
//	AWS_ACCESS_KEY_ID=bictest AWS_SECRET_ACCESS_KEY=bictestsecret AWS_REGION=us-east-1 \
//	go run ./bench/runner -n 2000 -postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
//	    -nats nats://127.0.0.1:4222 -s3 's3://bic-test?endpoint=127.0.0.1:7070&insecure=1'
//
// -skip-real measures the embedded path only and needs no service. Each
// path gives up after 6 minutes.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime/pprof"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
)

// config is what one run measures.
type config struct {
	n        int    // chart_data jobs, and baseline messages
	probeN   int    // charts of the JobByID probe; 0: none
	postgres string // real path: the metadata database
	nats     string // real path: the NATS server
	s3       string // real path: s3://bucket?endpoint=… (a unique prefix is added)
	skipReal bool
	skipShop bool
	bic      string // a built bic binary; empty: built into a temporary folder
	shop     string // the examples/shop folder
	// cpuProfile, when set, is written while the in-process workers of
	// the embedded path run.
	cpuProfile string
	log        io.Writer // progress lines
}

func main() {
	var c config
	flag.IntVar(&c.n, "n", 10000, "chart_data jobs per path, and messages of the baseline")
	flag.IntVar(&c.probeN, "probe-n", 10000, "when -n is smaller: apply this many charts without running them and time JobByID there (0: no probe)")
	flag.StringVar(&c.postgres, "postgres", cmp.Or(os.Getenv("BIC_TEST_POSTGRES_URL"), "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL URL; the run uses a schema of its own and drops it")
	flag.StringVar(&c.nats, "nats", "nats://127.0.0.1:4222", "NATS server URL; the run uses streams of its own and deletes them")
	flag.StringVar(&c.s3, "s3", "s3://bic-test?endpoint=127.0.0.1:7070&insecure=1", "S3 URL (bucket and parameters); the run writes under a prefix of its own and removes it")
	flag.BoolVar(&c.skipReal, "skip-real", false, "measure the embedded path only")
	flag.BoolVar(&c.skipShop, "skip-shop", false, "do not time examples/shop's apply")
	flag.StringVar(&c.bic, "bic", "", "a built bic binary (default: go build ./cmd/bic into a temporary folder)")
	flag.StringVar(&c.shop, "shop", "examples/shop", "the examples/shop folder, copied before it is applied")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the embedded path's in-process runners here")
	flag.Parse()
	c.log = os.Stderr

	ctx := context.Background()
	cleanup := func() {}
	if c.bic == "" && (!c.skipReal || !c.skipShop) {
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
	var err error
	progress(c, "baseline: embedded NATS, %d messages", c.n)
	if rep.baseEmbedded, err = baselineEmbedded(ctx, c.n); err != nil {
		return nil, err
	}
	if !c.skipReal {
		progress(c, "baseline: %s, %d messages", c.nats, c.n)
		if rep.baseReal, err = baselineReal(ctx, c.nats, c.n); err != nil {
			return nil, err
		}
	}

	proj, err := os.MkdirTemp("", "bic-bench-runner-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(proj)
	p, err := writeProject(proj, c.n)
	if err != nil {
		return nil, err
	}

	progress(c, "jobs: embedded NATS + file storage + SQLite, 2 in-process workers")
	var stopProfile func()
	if c.cpuProfile != "" {
		if stopProfile, err = startProfile(c.cpuProfile); err != nil {
			return nil, err
		}
	}
	rep.jobsEmbedded, err = jobsEmbedded(ctx, p)
	if stopProfile != nil {
		stopProfile()
	}
	if err != nil {
		return nil, err
	}
	if !c.skipReal {
		progress(c, "jobs: NATS + S3 + PostgreSQL, 2 `bic runner` processes")
		if rep.jobsReal, err = jobsReal(ctx, c, p); err != nil {
			return nil, err
		}
	}
	if c.probeN > c.n {
		progress(c, "probe: JobByID on an applied revision of %d charts", c.probeN)
		if rep.probe, err = probeLarge(ctx, c, c.probeN); err != nil {
			return nil, err
		}
	}
	if !c.skipShop {
		progress(c, "examples/shop: bic apply --wait, then again")
		if rep.shop, err = shopApply(ctx, c.bic, c.shop); err != nil {
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

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
