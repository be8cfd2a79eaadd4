package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner/metrics"
	"github.com/bic-dev/bic/runner/notify"
	"github.com/bic-dev/bic/runner/queue"
	"github.com/bic-dev/bic/runner/schedule"
)

// Consumer hands job messages to a handler (runner/queue's Queue).
type Consumer interface {
	Consume(ctx context.Context, concurrency int, handle func(ctx context.Context, m *queue.Msg)) error
}

// Worker runs the jobs that reach it from the work queue: chart_data
// (the chart's JSON and CSV, from the cache when its input key is fresh)
// and publish (the release, then the environment's pointer). Any number
// of workers, in any number of processes, share one queue.
type Worker struct {
	Store   *metadata.Store
	Queue   Consumer
	Storage storage.Store
	// Open connects to warehouses; the worker keeps one connection per
	// warehouse connection open across jobs (see Close).
	Open    Opener
	Metrics *metrics.Metrics // nil: none
	Log     *slog.Logger
	// Owner names this worker in input-key claims (host, process, a
	// random part); two workers must never share one.
	Owner string
	// Concurrency is how many jobs run at once (default 4).
	Concurrency int
	// MaxDeliveries is how often a message may reach a runner before the
	// job is failed: a job whose runner keeps dying is a poison message,
	// never redelivered forever (default 5).
	MaxDeliveries int
	// Backoff is the wait before a failed job's next attempt (default
	// 1 s, doubling per attempt, at most 5 minutes).
	Backoff func(attempt int) time.Duration
	// ClaimLease is how long an input-key claim lasts unless renewed
	// (default 2 minutes; a running query renews it).
	ClaimLease time.Duration
	Now        func() time.Time
	// Renderer draws each dashboard's thumbnail at publish, and alerts'
	// and reports' images; nil: none.
	Renderer Renderer
	// Notify sends alerts and reports (webhook secret, SMTP server); nil:
	// webhooks unsigned, email channels fail.
	Notify *notify.Config
	// Env resolves ${env:NAME} in notification channels' URLs.
	Env func(name string) (string, bool)
	// AfterTick, when set, runs once a schedule tick's work (and its
	// notifications) is done, before the tick is marked done and its
	// message acknowledged: the tests kill a runner there.
	AfterTick func(kind, name string)

	initOnce sync.Once
	pool     *connPool
	queries  atomic.Int64
	claims   atomic.Int64

	assetsMu  sync.Mutex
	assetKeys map[string]string // the assets' blobs, once stored
}

// Queries is how many queries this worker sent to warehouses.
func (w *Worker) Queries() int64 { return w.queries.Load() }

func (w *Worker) init() { w.initOnce.Do(w.setDefaults) }

// setDefaults fills in what the worker's fields leave out, once: Run,
// ServeOnDemand and EvaluateAlert may start together on one Worker.
func (w *Worker) setDefaults() {
	if w.Concurrency <= 0 {
		w.Concurrency = 4
	}
	if w.MaxDeliveries <= 0 {
		w.MaxDeliveries = 5
	}
	if w.Backoff == nil {
		w.Backoff = func(attempt int) time.Duration {
			d := time.Second << min(max(attempt-1, 0), 9)
			return min(d, 5*time.Minute)
		}
	}
	if w.ClaimLease <= 0 {
		w.ClaimLease = 2 * time.Minute
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	if w.pool == nil {
		w.pool = newConnPool(w.Open)
	}
}

// Run works until ctx ends, then waits for the jobs in flight (the queue
// gives them a grace period) and closes its warehouse connections.
func (w *Worker) Run(ctx context.Context) error {
	w.init()
	defer w.Close()
	return w.Queue.Consume(ctx, w.Concurrency, w.Handle)
}

// Close closes the warehouse connections the worker kept open.
func (w *Worker) Close() {
	if w.pool != nil {
		w.pool.close()
	}
}

// Handle runs the job one message names and settles the message: acked
// once the job row records the outcome (done, or failed with a retry
// time that the dispatcher honours), dropped when it names no job.
func (w *Worker) Handle(ctx context.Context, m *queue.Msg) {
	w.init()
	switch m.Kind() {
	case schedule.KindAlert, schedule.KindReport, schedule.KindRefresh:
		w.handleTick(ctx, m)
		return
	}
	var msg message
	if err := json.Unmarshal(m.Data(), &msg); err != nil || msg.Job <= 0 {
		w.Log.Warn("dropping a message that names no job", "id", m.ID())
		w.Metrics.JobFinished(m.Kind(), "dropped", metrics.Phases{})
		_ = m.Drop("not a job message")
		return
	}
	job, err := w.Store.JobByID(ctx, msg.Job)
	if errors.Is(err, metadata.ErrNoJob) {
		// Its environment was destroyed, or the database was reset.
		_ = m.Drop("no such job")
		w.Metrics.JobFinished(m.Kind(), "dropped", metrics.Phases{})
		return
	}
	if err != nil {
		w.Log.Warn("read job", "job", msg.Job, "err", err)
		_ = m.Retry(time.Second)
		return
	}
	log := w.Log.With("job", job.Key, "env", job.Env, "revision", job.Revision)
	if job.Status == metadata.JobDone || job.Status == metadata.JobFailed {
		_ = m.Ack(ctx) // a duplicate delivery: the work was done
		return
	}
	if int(m.Delivered()) > w.MaxDeliveries {
		// The runners that took it before died while running it.
		cause := fmt.Sprintf("a runner stopped while running this job %d times (the last one may have crashed or been killed)", m.Delivered()-1)
		w.fail(ctx, m, job, errors.New(cause), true, log)
		return
	}
	if err := w.Store.MarkRunning(ctx, job.ID); err != nil {
		if errors.Is(err, metadata.ErrJobState) {
			_ = m.Ack(ctx)
			return
		}
		log.Warn("mark running", "err", err)
		_ = m.Retry(time.Second)
		return
	}
	w.Metrics.InFlight(1)
	defer w.Metrics.InFlight(-1)
	stop := m.KeepAlive(ctx)
	start := w.Now()
	res, golive, err := w.run(ctx, job)
	stop()
	if !msg.DispatchedAt.IsZero() {
		res.Queue = start.Sub(msg.DispatchedAt)
	}
	phases := metrics.Phases{Queue: res.Queue, Warehouse: res.Warehouse, Encode: res.Encode, Upload: res.Upload, Total: w.Now().Sub(start)}
	if err != nil {
		if ctx.Err() != nil {
			// Shutting down past the grace period: hand the job back at
			// once, so another runner takes it without waiting for the
			// ack wait (a runner killed outright leaves that to JetStream).
			log.Info("stopped before the job finished; handing it back", "err", err)
			_ = m.Retry(0)
			return
		}
		w.Metrics.JobFinished(string(job.Kind), "retry", phases)
		w.fail(ctx, m, job, err, false, log)
		return
	}
	complete := w.Store.Complete
	if golive != nil {
		complete = golive // a publish job: its completion flips the pointer
	}
	if err := complete(ctx, job.ID, res); err != nil {
		if golive != nil && ctx.Err() == nil && !errors.Is(err, metadata.ErrJobState) {
			// The flip, or the transaction that makes the revision live
			// with it, failed: an attempt that failed, as when the
			// release could not be written.
			w.Metrics.JobFinished(string(job.Kind), "retry", phases)
			w.fail(ctx, m, job, err, false, log)
			return
		}
		log.Warn("complete", "err", err)
		_ = m.Retry(time.Second)
		return
	}
	outcome := "done"
	if res.CacheHit {
		outcome = "cache_hit"
	}
	w.Metrics.JobFinished(string(job.Kind), outcome, phases)
	if err := m.Ack(ctx); err != nil {
		log.Warn("ack", "err", err) // redelivered, then acked as a duplicate
	}
}

// fail records a failed attempt: the job is pending again from a backoff
// time (the dispatcher sends it then) or, after its last attempt, failed
// with err, which fails its revision. forGood fails it whatever attempts
// are left.
func (w *Worker) fail(ctx context.Context, m *queue.Msg, job metadata.JobRow, err error, forGood bool, log *slog.Logger) {
	cause := compiler.RedactError(err).Error()
	var status metadata.JobStatus
	var ferr error
	retryAt := w.Now().Add(w.Backoff(job.Attempts + 1))
	if forGood {
		status, ferr = metadata.JobFailed, w.Store.FailForGood(ctx, job.ID, cause)
	} else {
		status, ferr = w.Store.Fail(ctx, job.ID, cause, retryAt)
	}
	if errors.Is(ferr, metadata.ErrJobState) {
		// The row moved on meanwhile (done, failed, gone, or running
		// under another delivery, which owns it now): a retry of this
		// message would only run the job once more.
		log.Info("failure not recorded: the job moved on", "err", ferr, "cause", cause)
		_ = m.Ack(ctx)
		return
	}
	if ferr != nil {
		log.Warn("record failure", "err", ferr, "cause", cause)
		_ = m.Retry(time.Second)
		return
	}
	if status == metadata.JobFailed {
		w.Metrics.JobFinished(string(job.Kind), "failed", metrics.Phases{})
		log.Error("job failed", "err", cause)
	} else {
		log.Warn("job attempt failed; retrying", "err", cause, "at", retryAt.Format(time.RFC3339))
	}
	_ = m.Ack(ctx)
}

// run executes a job by its kind. golive, when set, completes the job
// instead of Store.Complete (see publishJob).
func (w *Worker) run(ctx context.Context, job metadata.JobRow) (res metadata.JobResult, golive func(ctx context.Context, id int64, r metadata.JobResult) error, err error) {
	m, err := w.Store.JobManifest(ctx, job)
	if err != nil {
		return metadata.JobResult{}, nil, err
	}
	switch job.Kind {
	case compiler.JobChartData:
		var state map[string]any
		if len(job.State) > 0 {
			if err := json.Unmarshal(job.State, &state); err != nil {
				return metadata.JobResult{}, nil, fmt.Errorf("job %s: its state: %w", job.Key, err)
			}
		}
		d, err := w.chartData(ctx, m, compiler.ObjectID(job.ObjectID).Name(), state, job.AsOf)
		return d.result, nil, err
	case compiler.JobPublish:
		golive, err = w.publishJob(ctx, m, job)
		return metadata.JobResult{}, golive, err
	case compiler.JobThumbnail:
		return metadata.JobResult{}, nil, w.thumbnailJob(ctx, m, job)
	case compiler.JobSchedule:
		// The schedule itself: every runner's Scheduler computes the ticks
		// of the live revisions, so a revision's schedule job has nothing
		// left to do.
		return metadata.JobResult{}, nil, nil
	}
	return metadata.JobResult{}, nil, fmt.Errorf("job %s: no handler for kind %q", job.Key, job.Kind)
}
