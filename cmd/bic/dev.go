package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/access"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/runner/schedule"
	"github.com/bic-dev/bic/server"
)

// devPointerTTL is how long bic dev's server trusts a pointer read: the
// storage is usually a local folder, so it can look often, and a publish
// shows on the page within it.
const devPointerTTL = 50 * time.Millisecond

// devDispatchInterval is bic dev's pause between dispatcher rounds that
// found nothing to dispatch.
const devDispatchInterval = 20 * time.Millisecond

func newDevCmd() *cobra.Command {
	var (
		f    deployFlags
		r    runtimeFlags
		o    devOptions
		host string
	)
	cmd := &cobra.Command{
		Use:   "dev [DIR]",
		Short: "Run the whole system in one process: apply the project to env dev, compute it, serve it, and re-apply on every save",
		Long: `Dev starts everything in this process on the embedded defaults (SQLite in
.bic/bic.db, NATS JetStream in .bic/nats, storage in .bic/artifacts, DuckDB on
the project's data files), applies the project to the environment dev, runs
its jobs and serves the dashboards. It then watches the project's files: on a
save it validates again and applies what changed. Errors are printed as bic
validate prints them and shown as a banner on the open pages, while the last
good revision keeps serving; a page reloads itself when a new revision is
live, keeping its filters. Ctrl-C stops it; .bic/ is kept, so the next start
computes nothing that did not change.

--metadata, --nats and --storage run the same process against real services.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.port < 0 || o.port > 65535 {
				return usageErrorf("--port %d: expected a port number from 0 to 65535", o.port)
			}
			o.addr = net.JoinHostPort(host, strconv.Itoa(o.port))
			return runDev(cmd, &f, &r, o)
		},
	}
	f.register(cmd, "dev")
	r.register(cmd)
	cmd.Flags().IntVar(&o.port, "port", 8080, "the port to serve on (0: any free port)")
	cmd.Flags().StringVar(&host, "host", "127.0.0.1", "the address to serve on")
	cmd.Flags().BoolVar(&o.open, "open", false, "open the dashboards in a browser once they are live")
	return cmd
}

type devOptions struct {
	port int
	addr string
	open bool
}

// devSession is one bic dev process's state.
type devSession struct {
	f      *deployFlags
	out    io.Writer // progress and results
	errOut io.Writer // diagnostics, as bic validate prints them
	limits compiler.Limits
	schema *compiler.Schema
	live   *server.Live
	st     *metadata.Store
	// compileTook is how long the last compile took.
	compileTook time.Duration
}

func runDev(cmd *cobra.Command, f *deployFlags, r *runtimeFlags, o devOptions) error {
	ctx := cmd.Context()
	limits, err := projectLimits(cmd)
	if err != nil {
		return err
	}
	if info, err := os.Stat(f.dir); err != nil || !info.IsDir() {
		return usageErrorf("project folder %s: not a folder", f.dir)
	}
	schema, err := compiler.NewSchema()
	if err != nil {
		return &exitError{code: exitRuntime, err: err}
	}
	d := &devSession{f: f, out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(), limits: limits, schema: schema, live: server.NewLive()}

	// The watcher stops when bic dev does, whatever the reason.
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	changes := make(chan []string)
	w := &watcher{Root: f.dir, Truncated: func(n int) {
		fmt.Fprintf(d.out, "Watching only the first %d files of %s.\n", n, f.dir)
	}}
	go w.Run(watchCtx, changes)

	// The first valid compile: the services may be named in bic.yaml.
	m, _ := d.compile(ctx)
	for m == nil {
		if ctx.Err() != nil {
			return nil
		}
		fmt.Fprintln(d.out, "Waiting for a fix (Ctrl-C stops)…")
		select {
		case <-ctx.Done():
			return nil
		case <-changes:
		}
		m, _ = d.compile(ctx)
	}

	if d.st, err = f.openStore(ctx, m); err != nil {
		return err
	}
	defer d.st.Close()
	log := slog.New(slog.NewTextHandler(d.errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := startEngine(ctx, f, r, m, d.st, engineOptions{log: log})
	if err != nil {
		return err
	}
	defer e.close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 5)
	running := 0
	start := func(fn func() error) {
		running++
		go func() { errs <- fn() }()
	}
	// One process on local files: the dispatcher may look for runnable
	// jobs often, so that a save's jobs (charts, then the thumbnail, then
	// the publish) follow each other without a pause between.
	e.dispatcher.Interval = devDispatchInterval
	start(func() error { return e.dispatcher.Run(ctx) })
	start(func() error { return e.worker.Run(ctx) })
	start(func() error { return e.worker.ServeOnDemand(ctx, e.queue.Conn(), e.queue.RequestSubject("ondemand")) })
	sched := &schedule.Scheduler{Store: schedule.Metadata(d.st), Queue: e.queue, Log: log}
	start(func() error { return sched.Run(ctx) })

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", o.addr)
	if err != nil {
		cancel()
		drain(errs, running)
		return &exitError{code: exitRuntime, err: fmt.Errorf("listen on %s: %w", o.addr, err)}
	}
	srv := server.New(server.Options{Storage: e.storage, Log: log, PointerTTL: devPointerTTL, Live: d.live,
		OnDemand: &server.NATSOnDemand{Conn: e.queue.Conn(), Subject: e.queue.RequestSubject("ondemand")}})
	base := "http://" + ln.Addr().String()
	start(func() error { return srv.ServeListener(ctx, ln) })
	fmt.Fprintf(d.out, "Serving %s at %s/\n", f.dir, base)

	first := true
	loopErr := func() error {
		for {
			if m != nil {
				started := time.Now()
				number, err := d.apply(ctx, m, first)
				switch {
				case ctx.Err() != nil:
					return nil
				case err != nil:
					fmt.Fprintln(d.errOut, err)
					d.live.SetError(f.env, err.Error())
				default:
					d.live.SetError(f.env, "")
					if number > 0 {
						fmt.Fprintf(d.out, "Revision %d of %s is live (%s; the compile took %s).\n", number, f.env,
							time.Since(started).Round(time.Millisecond), d.compileTook.Round(time.Millisecond))
					}
				}
				if first {
					first = false
					d.printDashboards(base, m)
					if o.open {
						openBrowser(ctx, base+"/")
					}
					fmt.Fprintln(d.out, "Watching for changes (Ctrl-C stops)…")
				}
			}
			var paths []string
			select {
			case <-ctx.Done():
				return nil
			case paths = <-changes:
			case err := <-errs:
				running--
				if err == nil {
					err = errors.New("stopped")
				}
				return err
			}
			fmt.Fprintf(d.out, "\n%s changed.\n", describePaths(paths))
			var text string
			m, text = d.compile(ctx)
			if m == nil && ctx.Err() == nil {
				d.live.SetError(f.env, text)
			}
		}
	}()
	cancel()
	drain(errs, running)
	if loopErr != nil {
		return &exitError{code: exitRuntime, err: loopErr}
	}
	return nil
}

// drain waits for n goroutines' results.
func drain(errs <-chan error, n int) {
	for range n {
		<-errs
	}
}

// compile compiles the project, printing its diagnostics as bic validate
// does. It returns the manifest, or nil and the diagnostics' text when the
// project has errors.
func (d *devSession) compile(ctx context.Context) (*compiler.Manifest, string) {
	started := time.Now()
	res, err := d.compileResult(ctx)
	d.compileTook = time.Since(started)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ""
		}
		msg := err.Error()
		var ee *exitError
		if errors.As(err, &ee) && ee.err != nil {
			msg = ee.err.Error()
		}
		fmt.Fprintln(d.errOut, "bic: "+msg)
		return nil, msg
	}
	var text bytes.Buffer
	if len(res.Diagnostics) > 0 {
		_ = writeDiagnostics(io.Discard, &text, "text", res)
		_, _ = d.errOut.Write(text.Bytes())
	}
	if res.Diagnostics.HasErrors(false) || res.Manifest == nil {
		return nil, text.String()
	}
	return res.Manifest, ""
}

// compileResult compiles the project folder with the schema loaded once.
func (d *devSession) compileResult(ctx context.Context) (compiler.Result, error) {
	// A save re-checks only the files that changed: the others' results
	// are in the compile cache (.bic/cache, which the watcher ignores).
	// Without a usable cache, everything is compiled.
	var cache compiler.FileCache
	if fc, err := openCompileCache(d.f.dir); err == nil {
		defer fc.Close()
		cache = fc
	}
	return compileWith(ctx, d.f.dir, d.limits, compileOptions{schema: d.schema, cache: cache})
}

// apply plans the manifest against the environment, applies it when it
// changes anything and follows the revision's jobs until it is live. It
// returns the revision's number, 0 when there was nothing to apply, or
// why it did not go live (the live revision keeps serving).
func (d *devSession) apply(ctx context.Context, m *compiler.Manifest, first bool) (int, error) {
	env := d.f.env
	p, err := publish.Plan(ctx, d.st, m, env, "")
	if err != nil {
		return 0, fmt.Errorf("plan %s: %w", env, err)
	}
	if !p.WritesRevision() {
		// Nothing changed; a revision that an earlier run left computing
		// is followed to the end.
		e, err := d.st.Environment(ctx, env)
		if err != nil || e.Revision == e.Live || e.Revision == 0 {
			if !first {
				fmt.Fprintln(d.out, "No changes.")
			} else {
				fmt.Fprintf(d.out, "No changes: revision %d of %s is live.\n", e.Revision, env)
			}
			return 0, nil
		}
		fmt.Fprintf(d.out, "Revision %d of %s is not live yet: computing it.\n", e.Revision, env)
		return e.Revision, d.follow(ctx, e.Revision, first)
	}
	if !first {
		if err := compiler.WritePlanText(d.out, p); err != nil {
			return 0, err
		}
	}
	commit, author := gitInfo(ctx, d.f.dir)
	rev, err := d.st.Apply(ctx, metadata.ApplyRequest{Env: env, Plan: p, Manifest: m, Source: "apply", GitCommit: commit, GitAuthor: author, AppliedBy: actor()})
	if err != nil {
		return 0, fmt.Errorf("apply to %s: %w", env, err)
	}
	fmt.Fprintf(d.out, "Applied revision %d to %s: %d objects, %d jobs.\n", rev.Number, env, rev.Objects, rev.Jobs)
	return rev.Number, d.follow(ctx, rev.Number, first)
}

// follow waits until revision number is live, showing its progress (the
// first apply's as a bar), or returns which jobs failed.
func (d *devSession) follow(ctx context.Context, number int, bar bool) error {
	env := d.f.env
	var prog *progress
	if p := newProgress(d.out); bar && p.terminal {
		// Off a terminal (a log) the final line is enough.
		prog = p
		defer prog.end()
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		jobs, err := d.st.Jobs(ctx, env, number)
		if err != nil {
			return fmt.Errorf("revision %d of %s: %w", number, env, err)
		}
		t := tallyJobs(jobs)
		if prog != nil {
			prog.show(t.counts[metadata.JobDone], len(jobs), len(t.failed))
		}
		switch {
		case len(t.failed) > 0:
			if prog != nil {
				prog.end()
			}
			lines := make([]string, len(t.failed))
			for i, j := range t.failed {
				lines[i] = failedLine(j)
			}
			return fmt.Errorf("revision %d of %s failed; the live revision keeps serving:\n%s", number, env, strings.Join(lines, "\n"))
		case t.publishDone:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// printDashboards lists the dashboards' addresses.
func (d *devSession) printDashboards(base string, m *compiler.Manifest) {
	names := make([]string, 0, len(m.Dashboards))
	for _, o := range m.Dashboards {
		names = append(names, o.Spec.Name)
	}
	sort.Strings(names)
	fmt.Fprintf(d.out, "\nDashboards of %s:\n", d.f.env)
	for _, name := range names {
		fmt.Fprintf(d.out, "  %s%s\n", base, access.DashboardPath(d.f.env, name))
	}
	fmt.Fprintln(d.out)
}

// describePaths names what changed, briefly.
func describePaths(paths []string) string {
	switch {
	case len(paths) == 0:
		return "Something"
	case len(paths) <= 3:
		return strings.Join(paths, ", ")
	default:
		return fmt.Sprintf("%s and %d more files", strings.Join(paths[:2], ", "), len(paths)-2)
	}
}

// openBrowser opens url in the desktop's browser, if it has one.
func openBrowser(ctx context.Context, url string) {
	var c *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		c = exec.CommandContext(ctx, "open", url)
	case "windows":
		c = exec.CommandContext(ctx, "rundll32", "url.dll,FileProtocolHandler", url)
	default:
		c = exec.CommandContext(ctx, "xdg-open", url)
	}
	if err := c.Start(); err != nil {
		return
	}
	go func() { _ = c.Wait() }()
}
