package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bic-dev/bic/bench/internal/benchkit"
	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner"
	"github.com/bic-dev/bic/runner/metrics"
	"github.com/bic-dev/bic/runner/queue"
	"github.com/bic-dev/bic/runner/warehouse"
	"github.com/bic-dev/bic/runner/warehouse/duckdb"
)

// runners is how many runners each job path starts.
const runners = 2

// jobsTimeout bounds one path's wait for its jobs.
const jobsTimeout = 6 * time.Minute

// phases are mean durations of a chart_data job's phases.
type phases struct{ queue, warehouse, encode, upload, total time.Duration }

// jobsResult is one job path's figures.
type jobsResult struct {
	jobs    int            // every job of the revision
	byKind  map[string]int // of them, by kind
	queries int64          // warehouse queries the runners sent
	hits    int            // chart_data jobs the cache answered
	wall    time.Duration  // start of the runners → every job done
	startup time.Duration  // start of the runners → the first job started
	span    time.Duration  // the first job started → the last one finished
	publish time.Duration  // the publish job, which waits for all others
	columns phases         // means of the job rows' *_ms columns (whole ms)
	metrics phases         // means from the runners' Prometheus histograms
	jobByID time.Duration  // one JobByID on this revision, the median
	// putBlobAfter is a PutBlob's mean time after its data ended, where
	// the bench wraps the storage (the in-process path only).
	putBlobAfter time.Duration
	// cpu is the runners' user + system time while the jobs ran (the
	// embedded path: this whole process, NATS and SQLite included; the
	// real path: the two bic runner processes, from start to exit);
	// services the real path's NATS, PostgreSQL and S3 server processes'.
	cpu, services time.Duration
}

// cpuPerJob is the runners' CPU time per job.
func (r *jobsResult) cpuPerJob() time.Duration { return r.cpu / time.Duration(r.jobs) }

// perJob is the runners' time per job: wall × runners ÷ jobs.
func (r *jobsResult) perJob() time.Duration {
	return r.wall * runners / time.Duration(r.jobs)
}

// overhead is a job's time in its handler beyond the warehouse's: what bic
// itself adds to each job (reading the job, the cache lookup and claim,
// encoding, storage, the result's rows). Jobs run concurrently, so the
// wall time per job (perJob) is a throughput figure, not this.
func (r *jobsResult) overhead() time.Duration { return r.metrics.total - r.metrics.warehouse }

// duckOpener opens the project's DuckDB connection, as bic's own Opener does.
type duckOpener struct{ dir string }

func (o duckOpener) Open(ctx context.Context, c compiler.Connection, loc *time.Location) (warehouse.Conn, error) {
	if c.Type != "duckdb" {
		return nil, fmt.Errorf("connection %s: the benchmark opens only duckdb, not %q", c.Name, c.Type)
	}
	return duckdb.Open(ctx, c, warehouse.Options{Env: os.LookupEnv, ProjectDir: o.dir, Location: loc})
}

// applyProject plans and applies the project to prod, returning the
// revision's number and job count.
func applyProject(ctx context.Context, st *metadata.Store, p *project) (int, int, error) {
	plan, err := publish.Plan(ctx, st, p.manifest, "prod", "")
	if err != nil {
		return 0, 0, err
	}
	rev, err := st.Apply(ctx, metadata.ApplyRequest{Env: "prod", Plan: plan, Manifest: p.manifest, AppliedBy: "bench"})
	if err != nil {
		return 0, 0, err
	}
	return rev.Number, len(plan.Jobs), nil
}

// jobsEmbedded runs the jobs on bic's embedded defaults, with two runners
// (a dispatcher and a worker each) in this process: the embedded NATS
// server has no TCP port, so other processes cannot reach it.
func jobsEmbedded(ctx context.Context, p *project) (*jobsResult, error) {
	state, err := os.MkdirTemp("", "bic-bench-state-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(state)
	st, err := metadata.Open(ctx, "sqlite://bic.db", state)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	number, total, err := applyProject(ctx, st, p)
	if err != nil {
		return nil, err
	}
	q, err := queue.Connect(ctx, queue.EmbeddedURL, queue.Options{Dir: filepath.Join(state, "nats")})
	if err != nil {
		return nil, err
	}
	defer q.Close()
	files, err := storage.Open(ctx, "file://"+filepath.Join(state, "artifacts"))
	if err != nil {
		return nil, err
	}
	defer files.Close()
	objects := &timedStore{Store: files}
	reg := prometheus.NewRegistry()
	met := metrics.New(reg)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), selfCPU()
	for i := range runners {
		d := &runner.Dispatcher{Store: st, Queue: q, Log: log}
		w := &runner.Worker{Store: st, Queue: q, Storage: objects, Open: duckOpener{p.dir}, Metrics: met, Log: log,
			Owner: fmt.Sprintf("bench/%d/%d", os.Getpid(), i)}
		wg.Add(2)
		go func() { defer wg.Done(); _ = d.Run(runCtx) }()
		go func() { defer wg.Done(); _ = w.Run(runCtx) }()
	}
	wall, err := waitForJobs(ctx, st, total)
	stop()
	wg.Wait()
	cpu := selfCPU() - cpu0
	if err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	metrics.Handler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	sc := benchkit.Scrape{}
	sc.Add(rec.Body.String())
	r, err := summarize(ctx, st, number, start, wall, sc)
	if err != nil {
		return nil, err
	}
	r.putBlobAfter, r.cpu = objects.meanAfter(), cpu
	r.jobByID, err = probeJobByID(ctx, st)
	return r, err
}

// waitForJobs polls the job rows until total of them are done, and
// returns how long that took. A failed job ends the wait with its error.
func waitForJobs(ctx context.Context, st *metadata.Store, total int) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, jobsTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		counts, err := statusCounts(ctx, st)
		if err != nil {
			return 0, err
		}
		if counts[metadata.JobFailed] > 0 {
			var msg string
			_ = st.DB().QueryRowContext(ctx, "SELECT last_error FROM jobs WHERE status = 'failed' LIMIT 1").Scan(&msg)
			return 0, fmt.Errorf("%d job(s) failed, such as: %s", counts[metadata.JobFailed], msg)
		}
		if counts[metadata.JobDone] == total {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%d of %d jobs done after %s: %w", counts[metadata.JobDone], total, time.Since(start).Round(time.Second), ctx.Err())
		case <-tick.C:
		}
	}
}

// statusCounts counts the jobs by status; the database holds this run's
// revision only.
func statusCounts(ctx context.Context, st *metadata.Store) (map[metadata.JobStatus]int, error) {
	rows, err := st.DB().QueryContext(ctx, "SELECT status, count(*) FROM jobs GROUP BY status")
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	out := map[metadata.JobStatus]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[metadata.JobStatus(s)] = n
	}
	return out, rows.Err()
}

// summarize reads the revision's job rows into a result.
func summarize(ctx context.Context, st *metadata.Store, number int, start time.Time, wall time.Duration, sc benchkit.Scrape) (*jobsResult, error) {
	jobs, err := st.Jobs(ctx, "prod", number)
	if err != nil {
		return nil, err
	}
	if len(jobs) == 0 {
		return nil, errors.New("no jobs")
	}
	r := &jobsResult{jobs: len(jobs), byKind: map[string]int{}, wall: wall}
	first, last := jobs[0].StartedAt, jobs[0].FinishedAt
	var sum phases
	for _, j := range jobs {
		r.byKind[string(j.Kind)]++
		if j.StartedAt.Before(first) {
			first = j.StartedAt
		}
		if j.FinishedAt.After(last) {
			last = j.FinishedAt
		}
		switch j.Kind {
		case compiler.JobPublish:
			r.publish = j.FinishedAt.Sub(j.StartedAt)
		case compiler.JobChartData:
			if j.Result.CacheHit {
				r.hits++
			}
			sum.queue += j.Result.Queue
			sum.warehouse += j.Result.Warehouse
			sum.encode += j.Result.Encode
			sum.upload += j.Result.Upload
			sum.total += j.FinishedAt.Sub(j.StartedAt)
		}
	}
	if n := time.Duration(r.byKind[string(compiler.JobChartData)]); n > 0 {
		r.columns = phases{sum.queue / n, sum.warehouse / n, sum.encode / n, sum.upload / n, sum.total / n}
	}
	r.startup = first.Sub(start)
	r.span = last.Sub(first)
	r.metrics = means(sc, "chart_data")
	r.queries = int64(sc.Value("bic_warehouse_queries_total"))
	return r, nil
}

// probeSamples is how many JobByID calls a probe times.
const probeSamples = 21

// probeJobByID times JobByID, the first thing a worker does with a
// message, on chart_data jobs of the store's one revision: the median.
func probeJobByID(ctx context.Context, st *metadata.Store) (time.Duration, error) {
	rows, err := st.DB().QueryContext(ctx, fmt.Sprintf("SELECT id FROM jobs WHERE kind = 'chart_data' ORDER BY id LIMIT %d", probeSamples))
	if err != nil {
		return 0, fmt.Errorf("probe: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) == 0 {
		return 0, errors.New("probe: no chart_data jobs")
	}
	times := make([]time.Duration, 0, len(ids))
	for _, id := range ids {
		start := time.Now()
		if _, err := st.JobByID(ctx, id); err != nil {
			return 0, err
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}
