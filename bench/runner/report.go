package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
)

// report is one run's figures; a nil part was not measured.
type report struct {
	baseEmbedded, baseReal *baseline
	jobsEmbedded, jobsReal *jobsResult
	shop                   *shopResult
	probe                  *probe
	// load is /proc/loadavg's 1-minute figure at the start and the end:
	// the machine is shared, and its other work skews every time here.
	load [2]string
}

// print writes the markdown table: one row per figure, a column per setup.
func (r *report) print(w io.Writer, c config) {
	fmt.Fprintf(w, "%d trivial chart_data jobs per path (%d charts per dashboard, DuckDB on a 5-row CSV, every chart its own input key and blobs); %d runners, concurrency 4 each.\n\n",
		c.n, chartsPerDashboard, runners)
	if r.load[0] != "" {
		fmt.Fprintf(w, "Load average (1 min) of the machine: %s at the start, %s at the end, on %d CPUs.\n\n", r.load[0], r.load[1], runtime.NumCPU())
	}
	fmt.Fprintln(w, "| figure | embedded: in-process NATS, file storage, SQLite | real: NATS server, S3 (versitygw), PostgreSQL | goal |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	row := func(name string, goal string, f func(b *baseline, j *jobsResult) string, real bool) {
		cells := []string{name, "—", "—", goal}
		if r.baseEmbedded != nil || r.jobsEmbedded != nil {
			cells[1] = f(r.baseEmbedded, r.jobsEmbedded)
		}
		if real && (r.baseReal != nil || r.jobsReal != nil) {
			cells[2] = f(r.baseReal, r.jobsReal)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	base := func(f func(b *baseline) string) func(*baseline, *jobsResult) string {
		return func(b *baseline, _ *jobsResult) string {
			if b == nil {
				return "—"
			}
			return f(b)
		}
	}
	jobs := func(f func(j *jobsResult) string) func(*baseline, *jobsResult) string {
		return func(_ *baseline, j *jobsResult) string {
			if j == nil {
				return "—"
			}
			return f(j)
		}
	}
	row("**1. baseline**: bare JetStream (nats.go), messages of a job message's size with msg ids, published one at a time (sync), pulled by 2 consumers (2 connections in this process, one durable pull consumer, fetch 4, double ack)", "",
		base(func(b *baseline) string { return fmt.Sprintf("%d messages", b.n) }), true)
	row("baseline: last publish acknowledged / last message acked", "", base(func(b *baseline) string {
		return fmt.Sprintf("%s / %s", benchkit.Dur(b.publish), benchkit.Dur(b.wall))
	}), true)
	row("baseline: messages/s; per message (wall × 2 consumers ÷ n)", "", base(func(b *baseline) string {
		return fmt.Sprintf("%.0f/s; %s", rate(b.n, b.wall), benchkit.Dur(b.perMsg()))
	}), true)
	row("**2. jobs**: runners", "", func(_ *baseline, j *jobsResult) string {
		if j == nil {
			return "—"
		}
		if j == r.jobsEmbedded {
			return "2 runners (each a Dispatcher and a Worker) in **one process**: embedded NATS has no TCP port"
		}
		return "2 `bic runner` OS processes"
	}, true)
	row("jobs (by kind); warehouse queries; cache hits", "", jobs(func(j *jobsResult) string {
		return fmt.Sprintf("%d (%s); %d; %d", j.jobs, kinds(j.byKind), j.queries, j.hits)
	}), true)
	row("wall: start of the runners → every job done", "", jobs(func(j *jobsResult) string { return benchkit.Dur(j.wall) }), true)
	row("**jobs/s** (jobs ÷ wall)", "≥ 1,000 jobs/s with 2 runners", jobs(func(j *jobsResult) string {
		return fmt.Sprintf("**%.0f** %s", rate(j.jobs, j.wall), benchkit.Mark(rate(j.jobs, j.wall) >= 1000))
	}), true)
	row("start of the runners → first job started; first started → last finished (jobs/s in it)", "", jobs(func(j *jobsResult) string {
		return fmt.Sprintf("%s; %s (%.0f/s)", benchkit.Dur(j.startup), benchkit.Dur(j.span), rate(j.jobs, j.span))
	}), true)
	row("the publish job (waits for all others, then writes the release)", "", jobs(func(j *jobsResult) string { return benchkit.Dur(j.publish) }), true)
	row("mean per chart_data job, from the runners' histograms: queue / warehouse / encode / upload / in the handler", "", jobs(func(j *jobsResult) string {
		m := j.metrics
		return fmt.Sprintf("%s / %s / %s / %s / %s", benchkit.Dur(m.queue), benchkit.Dur(m.warehouse), benchkit.Dur(m.encode), benchkit.Dur(m.upload), benchkit.Dur(m.total))
	}), true)
	row("mean of the job rows' queue_ms / warehouse_ms / encode_ms / upload_ms; finished_at − started_at (whole ms per job)", "", jobs(func(j *jobsResult) string {
		m := j.columns
		return fmt.Sprintf("%s / %s / %s / %s; %s", benchkit.Dur(m.queue), benchkit.Dur(m.warehouse), benchkit.Dur(m.encode), benchkit.Dur(m.upload), benchkit.Dur(m.total))
	}), true)
	row("of the upload phase: a blob's `PutBlob` after its last byte (2 per job, in parallel; the rest of the phase is the artifact and cache-entry rows)", "", jobs(func(j *jobsResult) string {
		if j.putBlobAfter == 0 {
			return "not measured (inside `bic runner`)"
		}
		return benchkit.Dur(j.putBlobAfter)
	}), true)
	row("runner time per job (wall × 2 ÷ jobs)", "", jobs(func(j *jobsResult) string { return benchkit.Dur(j.perJob()) }), true)
	row("CPU per job: the runners' user + system time ÷ jobs (embedded: this process, NATS and SQLite in it; real: the 2 `bic runner` processes, start to exit); 2 cores ÷ it", "", jobs(func(j *jobsResult) string {
		if j.cpu == 0 {
			return "—"
		}
		return fmt.Sprintf("%s; %.0f jobs/s", benchkit.Dur(j.cpuPerJob()), float64(runtime.NumCPU())/j.cpuPerJob().Seconds())
	}), true)
	row("CPU per job of the services (NATS server, PostgreSQL, versitygw processes; anyone else's use of them meanwhile counts too)", "", jobs(func(j *jobsResult) string {
		if j.services == 0 {
			return "—"
		}
		return benchkit.Dur(j.services / time.Duration(j.jobs))
	}), true)
	row("**per-job overhead beyond the query** (mean time in the handler − mean warehouse time)", "< 5 ms", jobs(func(j *jobsResult) string {
		return fmt.Sprintf("**%s** %s", benchkit.Dur(j.overhead()), benchkit.Mark(j.overhead() < 5*time.Millisecond))
	}), true)
	row("overhead ÷ the baseline's time per message, same transport", "", func(b *baseline, j *jobsResult) string {
		if b == nil || j == nil {
			return "—"
		}
		return fmt.Sprintf("%.1f×", float64(j.overhead())/float64(b.perMsg()))
	}, true)
	row("one `Store.JobByID` (a worker's first read of each job), median, on this revision", "", jobs(func(j *jobsResult) string { return benchkit.Dur(j.jobByID) }), true)
	if p := r.probe; p != nil {
		row(fmt.Sprintf("one `Store.JobByID`, median, on a revision of %d charts applied but not run", p.n), "", func(b *baseline, j *jobsResult) string {
			switch {
			case j == r.jobsEmbedded && p.sqlite > 0:
				return benchkit.Dur(p.sqlite)
			case j == r.jobsReal && p.postgr > 0:
				return benchkit.Dur(p.postgr)
			}
			return "—"
		}, true)
	}
	if s := r.shop; s != nil {
		shop := func(f func() string) func(*baseline, *jobsResult) string {
			return func(*baseline, *jobsResult) string { return f() }
		}
		row("**3. examples/shop**: first `bic apply --auto-approve --wait` (fresh copy, no .bic)", "", shop(func() string {
			return fmt.Sprintf("%s (%s jobs)", benchkit.Dur(s.first), s.jobs)
		}), false)
		row("re-apply, unchanged", "no warehouse work, < 1 s", shop(func() string {
			what := "planned changes"
			if s.noChanges {
				what = "“No changes”: no revision, no jobs, no query"
			}
			return fmt.Sprintf("**%s**, %s %s", benchkit.Dur(s.again), what, benchkit.Mark(s.noChanges && s.again < time.Second))
		}), false)
	}
}

func kinds(m map[string]int) string {
	var parts []string
	for _, k := range []string{"chart_data", "thumbnail", "publish", "schedule"} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// loadAverage is the 1-minute load average, "" where /proc has none.
func loadAverage() string {
	if f := strings.Fields(benchkit.LoadAverage()); len(f) > 0 {
		return f[0]
	}
	return ""
}
