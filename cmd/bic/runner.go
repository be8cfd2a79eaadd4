package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner"
	"github.com/bic-dev/bic/runner/metrics"
	"github.com/bic-dev/bic/runner/notify"
	"github.com/bic-dev/bic/runner/queue"
	"github.com/bic-dev/bic/runner/render"
	"github.com/bic-dev/bic/runner/schedule"
)

// The embedded defaults of DESIGN.md: no server to install.
const (
	defaultStorageURL = "file://.bic/artifacts"
	defaultNATSURL    = queue.EmbeddedURL
)

// runtimeFlags are the flags of the commands that run jobs.
type runtimeFlags struct {
	storage string
	nats    string
}

func (r *runtimeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&r.storage, "storage", "", "the object storage URL (default: $BIC_STORAGE_URL, bic.yaml's storage, or "+defaultStorageURL+")")
	cmd.Flags().StringVar(&r.nats, "nats", "", "the NATS URL (default: $BIC_NATS_URL, bic.yaml's nats, or "+defaultNATSURL+": a server inside this process)")
}

// pick is the flag, then the environment variable, then bic.yaml, then
// the embedded default, with ${env:…} references expanded (a URL's are
// percent-encoded for the part they land in; a sqlite URL is a file path).
func pick(what, flag, envVar, project, def string) (string, error) {
	raw := cmp.Or(flag, os.Getenv(envVar), project, def)
	expand := compiler.ExpandURL
	if strings.HasPrefix(raw, "sqlite://") {
		expand = compiler.ExpandEnv
	}
	url, missing := expand(raw, os.LookupEnv)
	if missing != "" {
		return "", fmt.Errorf("%s: environment variable %s is not set", what, missing)
	}
	return url, nil
}

// storageURL is where artifacts go; a relative file:// path is inside the
// project folder dir.
func (r *runtimeFlags) storageURL(m *compiler.Manifest, dir string) (string, error) {
	url, err := pick("storage URL", r.storage, "BIC_STORAGE_URL", m.Project.Storage, defaultStorageURL)
	if err != nil {
		return "", err
	}
	if p, ok := strings.CutPrefix(url, "file://"); ok && !filepath.IsAbs(p) {
		url = "file://" + filepath.Join(dir, p)
	}
	return url, nil
}

func (r *runtimeFlags) natsURL(m *compiler.Manifest) (string, error) {
	return pick("NATS URL", r.nats, "BIC_NATS_URL", m.Project.NATS, defaultNATSURL)
}

// engine is what runs jobs in this process: the queue, the storage, a
// dispatcher and (unless only dispatching) a worker.
type engine struct {
	queue      *queue.Queue
	storage    storage.Store
	dispatcher *runner.Dispatcher
	worker     *runner.Worker
	renderer   *render.Renderer // nil: no Chromium
	embedded   bool
}

type engineOptions struct {
	concurrency int
	metrics     *metrics.Metrics
	log         *slog.Logger
}

// startEngine connects to the queue and the storage of the project's
// configuration. The caller runs the dispatcher and the worker.
func startEngine(ctx context.Context, f *deployFlags, r *runtimeFlags, m *compiler.Manifest, st *metadata.Store, opts engineOptions) (*engine, error) {
	storeURL, err := r.storageURL(m, f.dir)
	if err != nil {
		return nil, &exitError{code: exitInvalid, err: err}
	}
	natsURL, err := r.natsURL(m)
	if err != nil {
		return nil, &exitError{code: exitInvalid, err: err}
	}
	if opts.log == nil {
		opts.log = slog.New(slog.DiscardHandler)
	}
	objects, err := storage.Open(ctx, storeURL)
	if err != nil {
		return nil, &exitError{code: exitRuntime, err: err}
	}
	qopts := queueOptions(f.dir, opts.log)
	q, err := queue.Connect(ctx, natsURL, qopts)
	if err != nil {
		objects.Close()
		return nil, &exitError{code: exitRuntime, err: fmt.Errorf("work queue: %w", err)}
	}
	if opts.metrics != nil {
		opts.metrics.QueueDepth(func() float64 {
			n, err := q.Pending(context.Background())
			if err != nil {
				return -1
			}
			return float64(n)
		})
	}
	e := &engine{queue: q, storage: objects, embedded: natsURL == queue.EmbeddedURL || natsURL == ""}
	e.dispatcher = &runner.Dispatcher{Store: st, Queue: q, Log: opts.log}
	e.worker = &runner.Worker{
		Store: st, Queue: q, Storage: objects, Open: warehouses{env: os.LookupEnv, dir: f.dir},
		Metrics: opts.metrics, Log: opts.log, Owner: ownerName(), Concurrency: opts.concurrency,
		// A runner that dies holding an input claim must not block the
		// job's next runner longer than JetStream takes to redeliver it.
		ClaimLease: cmp.Or(qopts.AckWait, queue.DefaultAckWait),
	}
	if rend := newRenderer(ctx, objects, opts.log); rend != nil {
		e.renderer, e.worker.Renderer = rend, rend
	}
	e.worker.Env = os.LookupEnv
	if os.Getenv("BIC_TEST_KILL_AFTER_TICK") == "1" {
		// For the exactly-once tests only: die like a killed runner after
		// a tick's notifications are recorded, before its message is acked.
		e.worker.AfterTick = func(string, string) {
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				_ = p.Kill()
			}
		}
	}
	if e.worker.Notify, err = notifyConfig(); err != nil {
		e.close()
		return nil, &exitError{code: exitInvalid, err: err}
	}
	return e, nil
}

// notifyConfig is how alerts and reports are sent: BIC_SMTP_URL names the
// mail server (smtp://user:password@host:587?from=bic@example.com, STARTTLS
// unless tls=none), BIC_WEBHOOK_SECRET the key that signs webhooks,
// BIC_PUBLIC_URL where viewers reach bic serve (messages link their
// dashboard) and BIC_LINK_SECRET, shared with the servers, the key of the
// links to pictures that Slack shows.
func notifyConfig() (*notify.Config, error) {
	cfg := &notify.Config{WebhookSecret: []byte(os.Getenv("BIC_WEBHOOK_SECRET")), LinkSecret: []byte(os.Getenv("BIC_LINK_SECRET"))}
	var err error
	if cfg.PublicURL, err = publicURL(""); err != nil {
		return nil, fmt.Errorf("BIC_PUBLIC_URL: %w", err)
	}
	if raw := os.Getenv("BIC_SMTP_URL"); raw != "" {
		smtp, err := notify.ParseSMTPURL(raw)
		if err != nil {
			return nil, fmt.Errorf("BIC_SMTP_URL: %w", err)
		}
		cfg.SMTP = &smtp
	}
	return cfg, nil
}

// newRenderer is the headless Chromium that draws thumbnails, alert and
// report images: the one $BIC_CHROME names or the first on PATH. Without
// one (or with BIC_THUMBNAILS=off) it is nil and publishes draw none.
func newRenderer(ctx context.Context, objects storage.Store, log *slog.Logger) *render.Renderer {
	if os.Getenv("BIC_THUMBNAILS") == "off" {
		return nil
	}
	rend, err := render.New(ctx, render.Options{Storage: objects, Log: log})
	if err != nil {
		log.Info("no thumbnails or images: " + err.Error())
		return nil
	}
	return rend
}

// queueOptions are the work queue's settings. BIC_NATS_STREAM names
// another stream (with its own subjects and consumer), so that several bic
// installations, or tests, can share one NATS server; BIC_ACK_WAIT sets
// how long a job may go without a sign of life before another runner
// takes it.
func queueOptions(dir string, log *slog.Logger) queue.Options {
	o := queue.Options{Dir: filepath.Join(dir, queue.DefaultDir), Logger: log}
	if s := os.Getenv("BIC_NATS_STREAM"); s != "" {
		o.Stream, o.SubjectPrefix = s, "bic."+strings.ToLower(s)
	}
	if d, err := time.ParseDuration(os.Getenv("BIC_ACK_WAIT")); err == nil && d > 0 {
		o.AckWait = d
	}
	return o
}

func (e *engine) close() {
	e.worker.Close()
	if e.renderer != nil {
		e.renderer.Close()
	}
	e.queue.Close()
	e.storage.Close()
}

// ownerName names this process in input-key claims.
func ownerName() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

func newRunnerCmd() *cobra.Command {
	var (
		f           deployFlags
		r           runtimeFlags
		concurrency int
		metricsAddr string
	)
	cmd := &cobra.Command{
		Use:   "runner [DIR]",
		Short: "Run the jobs that bic apply enqueues: chart data, CSV exports, releases",
		Long: `Runner dispatches runnable jobs from the metadata database to the NATS
JetStream work queue and works on them: any number of runners, on any number
of machines, share one queue, and each job is done once. SIGTERM (or Ctrl-C)
finishes the jobs in flight, or leaves them to another runner, and stops.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := compileProject(cmd, f.dir)
			if err != nil {
				return err
			}
			st, err := f.openStore(cmd.Context(), m)
			if err != nil {
				return err
			}
			defer st.Close()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
			var met *metrics.Metrics
			reg := prometheus.NewRegistry()
			if metricsAddr != "" {
				reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
				met = metrics.New(reg)
			}
			e, err := startEngine(cmd.Context(), &f, &r, m, st, engineOptions{concurrency: concurrency, metrics: met, log: log})
			if err != nil {
				return err
			}
			defer e.close()
			ctx := cmd.Context()
			errs := make(chan error, 3)
			go func() { errs <- e.dispatcher.Run(ctx) }()
			go func() { errs <- e.worker.Run(ctx) }()
			go func() { errs <- e.worker.ServeOnDemand(ctx, e.queue.Conn(), e.queue.RequestSubject("ondemand")) }()
			// Every runner computes the schedules' ticks; the metadata DB's
			// claim (and JetStream's duplicate window) keeps one of each.
			sched := &schedule.Scheduler{Store: schedule.Metadata(st), Queue: e.queue, Log: log}
			if d, err := time.ParseDuration(os.Getenv("BIC_SCHEDULE_INTERVAL")); err == nil && d > 0 {
				sched.Interval = d
			}
			go func() { errs <- sched.Run(ctx) }()
			waiting := 4
			if metricsAddr != "" {
				waiting++
				go func() { errs <- metrics.Serve(ctx, metricsAddr, reg, log) }()
			}
			log.Info("runner started", "concurrency", e.worker.Concurrency, "metrics", metricsAddr)
			var first error
			for range waiting {
				if err := <-errs; err != nil && first == nil {
					first = err
				}
			}
			log.Info("runner stopped", "queries", e.worker.Queries())
			if first != nil {
				return &exitError{code: exitRuntime, err: first}
			}
			return nil
		},
	}
	f.register(cmd, "")
	r.register(cmd)
	cmd.Flags().IntVar(&concurrency, "concurrency", 4, "jobs run at once by this runner")
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus metrics at this address, such as 127.0.0.1:9090 (/metrics)")
	return cmd
}

// waitForRevision runs the jobs of an applied revision and follows them
// until the revision is live or has failed: with an embedded queue the
// worker runs in this process; with a real NATS server, the runner fleet
// does the work and this process only dispatches. It returns an exit
// error when a job failed.
func waitForRevision(ctx context.Context, out io.Writer, e *engine, st *metadata.Store, env string, number int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = e.dispatcher.Run(ctx) }()
	workerDone := make(chan error, 1)
	if e.embedded {
		go func() { workerDone <- e.worker.Run(ctx) }()
	}
	bar := newProgress(out)
	started, hinted := time.Now(), false
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		jobs, err := st.Jobs(ctx, env, number)
		if err != nil {
			if ctx.Err() != nil {
				return &exitError{code: exitRuntime, err: context.Cause(ctx)}
			}
			return &exitError{code: exitRuntime, err: err}
		}
		t := tallyJobs(jobs)
		counts, failed, publishDone := t.counts, t.failed, t.publishDone
		bar.show(counts[metadata.JobDone], len(jobs), len(failed))
		if !e.embedded && !hinted && counts[metadata.JobRunning]+counts[metadata.JobDone] == 0 && time.Since(started) > 10*time.Second {
			// With a NATS server, runners are separate processes.
			hinted = true
			bar.end()
			fmt.Fprintln(out, "No runner has started a job yet: start `bic runner` (with the same BIC_METADATA_URL, BIC_NATS_URL and BIC_STORAGE_URL) to run them.")
		}
		switch {
		case len(failed) > 0:
			bar.end()
			for _, j := range failed {
				fmt.Fprintln(out, failedLine(j))
			}
			return &exitError{code: exitRuntime, err: fmt.Errorf("revision %d of %s failed: %d job(s) failed; the live revision keeps serving", number, env, len(failed))}
		case publishDone:
			bar.end()
			fmt.Fprintf(out, "Revision %d of %s is live.\n", number, env)
			cancel()
			if e.embedded {
				<-workerDone
			}
			return nil
		}
		select {
		case <-ctx.Done():
			bar.end()
			return &exitError{code: exitRuntime, err: fmt.Errorf("stopped waiting for revision %d: %w", number, context.Cause(ctx))}
		case err := <-workerDone:
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			return &exitError{code: exitRuntime, err: errors.New("the runner stopped")}
		case <-tick.C:
		}
	}
}

// jobTally is what following a revision's jobs looks at: how many are in
// each status, which failed, and whether its publish job is done (the
// revision is live).
type jobTally struct {
	counts      map[metadata.JobStatus]int
	failed      []metadata.JobRow
	publishDone bool
}

func tallyJobs(jobs []metadata.JobRow) jobTally {
	t := jobTally{counts: map[metadata.JobStatus]int{}}
	for _, j := range jobs {
		t.counts[j.Status]++
		switch {
		case j.Status == metadata.JobFailed:
			t.failed = append(t.failed, j)
		case j.Status == metadata.JobDone && j.Kind == compiler.JobPublish:
			t.publishDone = true
		}
	}
	return t
}

// failedLine says which job failed and why, on one line.
func failedLine(j metadata.JobRow) string {
	return fmt.Sprintf("  failed: %s after %d attempt(s): %s", j.Key, j.Attempts, oneLineError(j.LastError))
}

// progress shows jobs done out of all: a bar redrawn in place on a
// terminal, a line per change elsewhere (CI logs).
type progress struct {
	out      io.Writer
	terminal bool
	last     string
}

func newProgress(out io.Writer) *progress {
	f, ok := out.(*os.File)
	return &progress{out: out, terminal: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) show(done, total, failed int) {
	line := fmt.Sprintf("jobs: %d/%d done", done, total)
	if failed > 0 {
		line += fmt.Sprintf(", %d failed", failed)
	}
	if line == p.last {
		return
	}
	p.last = line
	if !p.terminal {
		fmt.Fprintln(p.out, line)
		return
	}
	const width = 30
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	fmt.Fprintf(p.out, "\r[%s%s] %s", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), line)
}

// end finishes the bar's line, once: what is printed next starts a line
// of its own, and a bar shown again starts afresh.
func (p *progress) end() {
	if p.terminal && p.last != "" {
		fmt.Fprintln(p.out)
	}
	p.last = ""
}
