package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"

	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/runner/servicetest"
)

// TestReliability runs bic as the processes of a deployment: runners
// (bic runner) and the commands that apply, each its own OS process, on
// PostgreSQL, a NATS JetStream server and object storage. It builds the
// binary once for its subtests.
//
// Run it with the services of the machine:
//
//	CI=true BIC_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	BIC_TEST_NATS_URL=nats://127.0.0.1:4222 \
//	BIC_TEST_S3_URL='s3://bic-test?endpoint=127.0.0.1:7070&insecure=1' \
//	go test -count=1 -run Reliab ./cmd/bic/
func TestReliability(t *testing.T) {
	if testing.Short() {
		t.Skip("reliability tests start processes and servers; not with -short")
	}
	servicetest.Postgres(t)
	servicetest.NATS(t)
	bin := buildBic(t, t.TempDir())
	// Each subtest keeps the 2 cores of a small CI machine busy with its
	// runners: they run one after the other.
	t.Run("RunnerKilledMidJob", func(t *testing.T) { testRunnerKilledMidJob(t, bin) })
	t.Run("NATSRestartedWithJobsQueued", func(t *testing.T) { testNATSRestarted(t, bin) })
	t.Run("UnchangedProjectQueriesNothing", func(t *testing.T) { testUnchangedQueriesNothing(t, bin) })
	t.Run("PreviewOfOneChartQueriesOnce", func(t *testing.T) { testPreviewOneChart(t, bin) })
	t.Run("WarehouseErrorFailsTheRevision", func(t *testing.T) { testWarehouseError(t, bin) })
	t.Run("ThousandJobsOnThreeRunners", func(t *testing.T) { testThousandJobs(t, bin) })
	t.Run("OnDemandFilterState", func(t *testing.T) { testOnDemand(t, bin) })
}

// testOnDemand: bic serve answers a filter state that was not
// precomputed by asking the runners over NATS; they compute it once, and
// the next server asking for it is answered from the cache.
func testOnDemand(t *testing.T, bin string) {
	dir := shop(t)
	h := newRelHarness(t, bin, dir, relOptions{})
	first := h.runner("runner1", 2)
	h.mustBic(applyTimeout, "apply", "-p", dir, "--auto-approve", "--wait")
	stopAll(first)
	runners := []*proc{h.runner("runner2", 2)}
	port := freePort(t)
	srv := h.start("serve", "serve", "-p", dir, "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	defer srv.kill() // a server has no queries to report
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
			if err == nil && res.StatusCode == http.StatusBadGateway && time.Now().Before(deadline) {
				// The runner starting beside the server does not answer yet.
				res.Body.Close()
				time.Sleep(100 * time.Millisecond)
				continue
			}
			if err == nil {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				return res.StatusCode, string(b), res.Header
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %v\n%s", path, err, srv.output())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	_, all, defHeader := get("/e/prod/api/charts/sales/orders_by_country")
	code, de, header := get("/e/prod/api/charts/sales/orders_by_country?country=DE")
	if code != 200 {
		t.Fatalf("an on-demand state: %d %s\nserver: %s\nrunner: %s", code, de, srv.output(), runners[0].output())
	}
	if header.Get("X-Bic-State-Key") == defHeader.Get("X-Bic-State-Key") || de == all {
		t.Errorf("the on-demand state answered the default state's data")
	}
	var doc struct{ Rows [][]any }
	if err := json.Unmarshal([]byte(de), &doc); err != nil || len(doc.Rows) != 1 || doc.Rows[0][0] != "DE" {
		t.Errorf("country=DE: %v rows %v, want one row for DE", err, doc.Rows)
	}
	if code, _, _ := get("/e/prod/api/charts/sales/orders_by_country?country=DE"); code != 200 {
		t.Errorf("the same state again: %d", code)
	}
	if queries := stopAll(runners...); queries != 1 {
		t.Errorf("the runner sent %d warehouse queries, want 1: the on-demand state, once", queries)
	}
}

// shop is a copy of examples/shop, its warehouse DuckDB on the CSV files.
func shop(t *testing.T) string {
	return copyShop(t, servicetest.Postgres(t), "shop")
}

const applyTimeout = 60 * time.Second

// testRunnerKilledMidJob: a runner SIGKILLed while a chart's query runs
// loses nothing. JetStream redelivers the job after the ack wait to a
// second runner, which computes it once; the blobs are whole and the
// revision goes live.
func testRunnerKilledMidJob(t *testing.T, bin string) {
	dir := shop(t)
	h := newRelHarness(t, bin, dir, relOptions{})
	first := h.runner("runner1", 2)
	h.mustBic(applyTimeout, "apply", "-p", dir, "--auto-approve", "--wait")
	// Revision 2 adds one chart, whose query takes seconds: its job is
	// the only one that asks the warehouse.
	copyRelTestdata(t, dir, "heavy_dataset.yaml", "datasets/heavy.yaml")
	copyRelTestdata(t, dir, "heavy_dashboard.yaml", "dashboards/heavy.yaml")
	h.mustBic(applyTimeout, "apply", "-p", dir, "--auto-approve")

	slow := func() relJob {
		for _, j := range h.jobs("prod", 2) {
			if strings.Contains(j.Key, "chart/heavy/slow@") {
				return j
			}
		}
		t.Fatal("no job of the chart heavy/slow")
		return relJob{}
	}
	h.waitFor(30*time.Second, "the slow chart's job running", func() bool { return slow().Status == "running" }, first)
	time.Sleep(300 * time.Millisecond) // past MarkRunning, into the query
	first.kill()
	if j := slow(); j.Status != "running" || j.Attempts != 1 {
		t.Fatalf("after the kill the slow job is %s after %d attempt(s), want running after 1: it was not killed mid-job (make testdata/reliability/heavy_dataset.yaml slower)", j.Status, j.Attempts)
	}

	started := time.Now()
	second := h.runner("runner2", 2)
	deadline := time.Now().Add(45 * time.Second)
	for h.revisionStatus("prod", 2) != "live" {
		if time.Now().After(deadline) {
			j := slow()
			t.Fatalf("revision 2 of prod is not live 45s after the kill: the slow job is %s after %d attempt(s); input claims: %s\n--- runner2:\n%s",
				j.Status, j.Attempts, h.claims(), second.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("redelivered and done %s after the kill", time.Since(started).Round(100*time.Millisecond))
	queries := second.stop()

	j := slow()
	var began, ended time.Time
	if err := h.db.QueryRow(`SELECT started_at, finished_at FROM jobs WHERE id = $1`, j.ID).Scan(&began, &ended); err == nil {
		t.Logf("the redelivered attempt started %s after the kill and took %s",
			began.Sub(started).Round(100*time.Millisecond), ended.Sub(began).Round(100*time.Millisecond))
	}
	if j.Status != "done" || j.Attempts != 2 || !j.CacheHit.Valid || j.CacheHit.Bool {
		t.Errorf("slow job: %s after %d attempt(s), cache hit %v; want done after 2 (the killed one and the redelivery), computed", j.Status, j.Attempts, j.CacheHit)
	}
	if queries != 1 {
		t.Errorf("the second runner sent %d warehouse queries, want 1: the slow chart's, once", queries)
	}
	for _, j := range h.jobs("prod", 2) {
		if j.Status != "done" {
			t.Errorf("job %s is %s: %s", j.Key, j.Status, j.Error)
		}
	}
	h.blobs() // every blob whole
	rel := h.release("prod", 2)
	c, ok := rel.Charts["heavy/slow"]
	if !ok {
		t.Fatalf("the release has no chart heavy/slow: %v", rel.Charts)
	}
	d := c.States[c.Default]
	if d.InputKey != j.InputKey || d.Rows != 7 {
		t.Errorf("heavy/slow in the release: input key %s, %d rows; want the job's %s, 7 rows", d.InputKey, d.Rows, j.InputKey)
	}
	if csv := h.read(d.CSV); strings.Count(csv, "\n") != 8 {
		t.Errorf("heavy/slow's CSV has %d lines, want a header and 7 rows:\n%s", strings.Count(csv, "\n"), csv)
	}
}

// testNATSRestarted: jobs on the queue survive a restart of the NATS
// server. A dispatcher puts every job on the queue of a server of the
// test's own and is killed; the server restarts; runners started then do
// every job, once, and the revision goes live. Then the server restarts
// under the running runners, which reconnect and run the next revision.
func testNATSRestarted(t *testing.T, bin string) {
	ns := startNATS(t)
	dir := shop(t)
	h := newRelHarness(t, bin, dir, relOptions{natsURL: ns.url()})
	// With a NATS server, apply --wait only dispatches: nothing runs the
	// jobs, which stay queued.
	dispatcher := h.start("dispatcher", "apply", "-p", dir, "--auto-approve", "--wait")
	var queued int
	h.waitFor(30*time.Second, "every chart_data job dispatched", func() bool {
		jobs := h.jobs("prod", 1)
		queued = 0
		for _, j := range jobs {
			switch {
			case j.Status == "dispatched":
				queued++
			case j.Kind == "chart_data":
				return false
			}
		}
		return len(jobs) > 0
	}, dispatcher)
	dispatcher.kill()
	if n := streamMessages(t, ns.url(), h.stream); n != uint64(queued) {
		t.Fatalf("the stream holds %d messages before the restart, want %d", n, queued)
	}

	ns.stop()
	ns.start()
	if n := streamMessages(t, ns.url(), h.stream); n != uint64(queued) {
		t.Fatalf("the stream holds %d messages after the restart, want the %d queued before it", n, queued)
	}

	runners := []*proc{h.runner("runner1", 2), h.runner("runner2", 2)}
	h.waitFor(45*time.Second, "revision 1 of prod live after the restart", func() bool {
		return h.revisionStatus("prod", 1) == "live"
	}, runners...)

	// The server restarts again under the running runners, which must
	// reconnect and run the next revision.
	ns.stop()
	ns.start()
	editRelFile(t, dir, "dashboards/sales.yaml", "    limit: 10\n", "    limit: 5\n")
	h.mustBic(applyTimeout, "apply", "-p", dir, "--auto-approve", "--wait")
	queries := stopAll(runners...)
	keys := map[string]bool{}
	for _, j := range append(h.jobs("prod", 1), h.jobs("prod", 2)...) {
		if j.Status != "done" || j.Attempts != 1 {
			t.Errorf("job %s: %s after %d attempt(s), want done after 1: %s", j.Key, j.Status, j.Attempts, j.Error)
		}
		if j.Kind == "chart_data" {
			keys[j.InputKey] = true
		}
	}
	// Each distinct input key once, and once the values that the pages
	// offer for select filters without values of their own.
	if want := len(keys) + filterValueQueries(t, dir); queries != want {
		t.Errorf("the runners sent %d warehouse queries for %d distinct input keys and the filters' values, want %d", queries, len(keys), want)
	}
	if p := h.pointer("prod"); p.Revision != 2 {
		t.Errorf("prod's pointer is at revision %d, want 2", p.Revision)
	}
}

// testUnchangedQueriesNothing: what is already computed is never asked
// of the warehouse again. Applying the same project again changes
// nothing; applying it to another environment and previewing it are
// cache hits only, and store no new data: only their releases and pages
// (a page names its environment).
func testUnchangedQueriesNothing(t *testing.T, bin string) {
	dir := shop(t)
	h := newRelHarness(t, bin, dir, relOptions{})
	runners := []*proc{h.runner("runner1", 2), h.runner("runner2", 2)}
	h.mustBic(applyTimeout, "apply", "-p", dir, "--auto-approve", "--wait")
	first := stopAll(runners...)
	if first == 0 {
		t.Fatal("the first apply sent no warehouse query")
	}
	before := h.blobs()

	runners = []*proc{h.runner("runner3", 2), h.runner("runner4", 2)}
	if out := h.mustBic(applyTimeout, "apply", "-p", dir, "--auto-approve", "--wait"); !strings.Contains(out, "No changes") {
		t.Errorf("applying the same project again:\n%s\nwant No changes", out)
	}
	h.mustBic(applyTimeout, "apply", "-p", dir, "--env", "staging", "--auto-approve", "--wait")
	h.mustBic(applyTimeout, "preview", "-p", dir, "--env", "pr-1", "--wait")
	if again := stopAll(runners...); again != 0 {
		t.Errorf("the unchanged project sent %d more warehouse queries (the first apply sent %d), want 0", again, first)
	}

	for _, env := range []string{"staging", "pr-1"} {
		if p := h.pointer(env); p.Revision != 1 {
			t.Errorf("%s's pointer is at revision %d, want 1", env, p.Revision)
		}
		for _, j := range h.jobs(env, 1) {
			if j.Status != "done" {
				t.Errorf("%s: job %s is %s: %s", env, j.Key, j.Status, j.Error)
			}
			if j.Kind == "chart_data" && (!j.CacheHit.Valid || !j.CacheHit.Bool) {
				t.Errorf("%s: job %s was computed, want a cache hit", env, j.Key)
			}
		}
	}
	got := newBlobs(before, h.blobs())
	if got[blobJSON] != 0 || got[blobCSV] != 0 || got[blobRelease] != 2 {
		t.Errorf("new blobs: %d JSON, %d CSV, %d releases; want no data, only the releases of staging and pr-1 (and their pages)", got[blobJSON], got[blobCSV], got[blobRelease])
	}
}

// salesStates is how many filter states examples/shop's sales dashboard
// precomputes: its default, each of the five values of status and each of
// the three of channel.
const salesStates = 9

// testPreviewOneChart: a preview that changes one chart's query asks the
// warehouse that chart's queries alone, one per precomputed state, and
// stores their JSON and CSV and the release, on S3.
func testPreviewOneChart(t *testing.T, bin string) {
	dir := shop(t)
	h := newRelHarness(t, bin, dir, relOptions{s3: true})
	runners := []*proc{h.runner("runner1", 2), h.runner("runner2", 2)}
	h.mustBic(applyTimeout, "apply", "-p", dir, "--auto-approve", "--wait")
	stopAll(runners...)
	before := h.blobs()

	editRelFile(t, dir, "dashboards/sales.yaml", "    limit: 10\n", "    limit: 5\n")
	runners = []*proc{h.runner("runner3", 2), h.runner("runner4", 2)}
	h.mustBic(applyTimeout, "preview", "-p", dir, "--env", "pr-1", "--wait")
	if queries := stopAll(runners...); queries != salesStates {
		t.Errorf("the preview sent %d warehouse queries, want %d: the changed chart's, one per precomputed state", queries, salesStates)
	}
	computed := 0
	for _, j := range h.jobs("pr-1", 1) {
		if j.Status != "done" {
			t.Errorf("job %s is %s: %s", j.Key, j.Status, j.Error)
		}
		if j.CacheHit.Valid && !j.CacheHit.Bool {
			computed++
			if !strings.Contains(j.Key, "chart/sales/orders_by_country@") {
				t.Errorf("job %s was computed, want only sales/orders_by_country's", j.Key)
			}
		}
	}
	if computed != salesStates {
		t.Errorf("%d jobs of the preview were computed, want %d", computed, salesStates)
	}
	// Two states may give the same rows, which are one blob.
	got := newBlobs(before, h.blobs())
	if got[blobJSON] < 1 || got[blobJSON] > salesStates || got[blobCSV] != got[blobJSON] || got[blobRelease] != 1 || got[blobAsset] != 0 {
		t.Errorf("new blobs: %d JSON, %d CSV, %d releases, %d assets; want 1 to %d JSON and as many CSV, one release (and pages)", got[blobJSON], got[blobCSV], got[blobRelease], got[blobAsset], salesStates)
	}
	rel := h.release("pr-1", 1)
	if c := rel.Charts["sales/orders_by_country"]; c.States[c.Default].Rows != 5 {
		t.Errorf("the preview's sales/orders_by_country has %d rows, want 5", c.States[c.Default].Rows)
	}
}

// testWarehouseError: a query the warehouse refuses is retried with
// backoff, then fails its job with the warehouse's message; apply --wait
// exits non-zero naming the job, and the live revision stays live.
func testWarehouseError(t *testing.T, bin string) {
	dir := shop(t)
	h := newRelHarness(t, bin, dir, relOptions{})
	runners := []*proc{h.runner("runner1", 2), h.runner("runner2", 2)}
	h.mustBic(applyTimeout, "apply", "-p", dir, "--auto-approve", "--wait")

	// Valid bic, but no such table in DuckDB.
	editRelFile(t, dir, "datasets/customers.yaml", "from customers c", "from customers_gone c")
	h.mustBic(applyTimeout, "validate", "-p", dir)
	code, out := h.bic(applyTimeout, "apply", "-p", dir, "--auto-approve", "--wait")
	if code == 0 {
		t.Fatalf("apply --wait of a failing revision exited 0:\n%s", out)
	}
	if !strings.Contains(out, "revision 2 of prod failed") {
		t.Errorf("apply --wait's output does not say revision 2 failed:\n%s", out)
	}
	var failed []relJob
	for _, j := range h.jobs("prod", 2) {
		if j.Status == "failed" {
			failed = append(failed, j)
		}
	}
	if len(failed) == 0 {
		t.Fatalf("no job of revision 2 failed:\n%s", out)
	}
	for _, j := range failed {
		if !strings.Contains(j.Key, "chart/customers/") {
			t.Errorf("job %s failed, want only the customers dashboard's", j.Key)
		}
		if j.Attempts != 3 {
			t.Errorf("job %s failed after %d attempt(s), want 3 (the store's default)", j.Key, j.Attempts)
		}
		if !strings.Contains(j.Error, "customers_gone") || !strings.Contains(j.Error, "does not exist") {
			t.Errorf("job %s failed with %q, want DuckDB's message about customers_gone", j.Key, j.Error)
		}
	}
	// apply --wait names at least the first failed job it saw.
	named := false
	for _, j := range failed {
		named = named || strings.Contains(out, "failed: "+j.Key)
	}
	if !named {
		t.Errorf("apply --wait's output names no failed job:\n%s", out)
	}
	if s := h.revisionStatus("prod", 2); s != "failed" {
		t.Errorf("revision 2 is %s, want failed", s)
	}
	if s := h.revisionStatus("prod", 1); s != "live" {
		t.Errorf("revision 1 is %s, want still live", s)
	}
	if p := h.pointer("prod"); p.Revision != 1 {
		t.Errorf("prod's pointer is at revision %d, want still 1", p.Revision)
	}
	stopAll(runners...)

	// Backoff: a failed job's attempts are 1 s, then 2 s apart.
	var logs string
	for _, r := range runners {
		logs += r.output()
	}
	j := failed[0]
	times := attemptTimes(t, logs, j.Key)
	if len(times) != 3 {
		t.Fatalf("the runners logged %d failed attempts of %s, want 3:\n%s", len(times), j.Key, logs)
	}
	t.Logf("%s failed its attempts %s and %s apart", j.Key, times[1].Sub(times[0]).Round(10*time.Millisecond), times[2].Sub(times[1]).Round(10*time.Millisecond))
	for i, want := range []time.Duration{time.Second, 2 * time.Second} {
		if gap := times[i+1].Sub(times[i]); gap < want-100*time.Millisecond {
			t.Errorf("attempt %d of %s came %s after attempt %d, want a backoff of at least %s", i+2, j.Key, gap, i+1, want)
		}
	}
}

var logTimeRE = regexp.MustCompile(`^time=(\S+) `)

// attemptTimes are the times, in order, of the runners' log lines that
// record a failed attempt at the job key.
func attemptTimes(t *testing.T, logs, key string) []time.Time {
	t.Helper()
	var out []time.Time
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, "job="+key+" ") {
			continue
		}
		if !strings.Contains(line, `msg="job attempt failed; retrying"`) && !strings.Contains(line, `msg="job failed"`) {
			continue
		}
		m := logTimeRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			t.Fatalf("log time %q: %v", m[1], err)
		}
		out = append(out, ts)
	}
	slices.SortFunc(out, time.Time.Compare) // the runners' logs one after the other
	return out
}

// testThousandJobs: three runners on one queue share a thousand jobs and
// do each exactly once: one attempt per job row, one warehouse query per
// input key.
func testThousandJobs(t *testing.T, bin string) {
	const charts = 1000
	dir := thousandCharts(t, charts)
	h := newRelHarness(t, bin, dir, relOptions{})
	h.mustBic(applyTimeout, "validate", "-p", dir)
	runners := []*proc{h.runner("runner1", 2), h.runner("runner2", 2), h.runner("runner3", 2)}
	start := time.Now()
	h.mustBic(2*applyTimeout, "apply", "-p", dir, "--auto-approve", "--wait")
	t.Logf("%d charts live in %s", charts, time.Since(start).Round(100*time.Millisecond))
	queries := 0
	for _, r := range runners {
		n := r.stop()
		if n == 0 {
			t.Errorf("%s sent no warehouse query: the queue did not share the jobs", r.name)
		}
		queries += n
	}

	keys := map[string]bool{}
	chartJobs := 0
	for _, j := range h.jobs("prod", 1) {
		if j.Status != "done" || j.Attempts != 1 {
			t.Errorf("job %s: %s after %d attempt(s), want done after 1: %s", j.Key, j.Status, j.Attempts, j.Error)
		}
		if j.Kind == "chart_data" {
			chartJobs++
			keys[j.InputKey] = true
		}
	}
	if chartJobs != charts || len(keys) != charts {
		t.Errorf("%d chart_data jobs with %d distinct input keys, want %d of each", chartJobs, len(keys), charts)
	}
	if queries != len(keys) {
		t.Errorf("the runners sent %d warehouse queries for %d distinct input keys", queries, len(keys))
	}
}

// thousandCharts writes a project of n charts over a tiny CSV table, each
// with a limit of its own (and so an input key of its own), 100 to a
// dashboard.
func thousandCharts(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proj")
	writeRelFile(t, dir, "bic.yaml", "name: many\nconnections:\n  warehouse:\n    type: duckdb\n    files:\n      t: data/t.csv\ndefaults:\n  connection: warehouse\n")
	var data strings.Builder
	data.WriteString("k,v\n")
	for i := range 20 {
		fmt.Fprintf(&data, "%d,%d\n", i, i*i)
	}
	writeRelFile(t, dir, "data/t.csv", data.String())
	writeRelFile(t, dir, "datasets/t.yaml", "dataset: t\ntable: t\ndimensions:\n  k: {type: number}\nmetrics:\n  total: {expr: sum(v)}\n")
	const perDashboard = 100
	for d := 0; d*perDashboard < n; d++ {
		var b strings.Builder
		fmt.Fprintf(&b, "dashboard: d%d\ntitle: Dashboard %d\ncharts:\n", d, d)
		for c := d * perDashboard; c < min(n, (d+1)*perDashboard); c++ {
			fmt.Fprintf(&b, "  - name: c%d\n    type: table\n    dataset: t\n    metrics: [total]\n    dimensions: [k]\n    limit: %d\n", c, c+1)
		}
		writeRelFile(t, dir, fmt.Sprintf("dashboards/d%d.yaml", d), b.String())
	}
	return dir
}

// release is env's release, which must be at revision number.
func (h *relHarness) release(env string, number int) *release.Release {
	h.t.Helper()
	rel, p, err := release.Current(context.Background(), h.store, env)
	if err != nil {
		h.t.Fatalf("release of %s: %v", env, err)
	}
	if p.Revision != number {
		h.t.Fatalf("%s's pointer is at revision %d, want %d", env, p.Revision, number)
	}
	return rel
}

// read is the content of key in storage.
func (h *relHarness) read(key string) string {
	h.t.Helper()
	r, err := h.store.Get(context.Background(), key)
	if err != nil {
		h.t.Fatalf("read %s: %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		h.t.Fatalf("read %s: %v", key, err)
	}
	return string(b)
}

// filterValueQueries is how many queries list the values of the project's
// select filters that declare none: one per dataset and dimension.
func filterValueQueries(t *testing.T, dir string) int {
	t.Helper()
	res, err := compileDir(context.Background(), dir, compiler.DefaultLimits())
	if err != nil || res.Manifest == nil {
		t.Fatalf("compile %s: %v", dir, err)
	}
	seen := map[string]bool{}
	for _, d := range res.Manifest.Dashboards {
		for _, f := range d.Spec.Filters {
			if (f.Type == "select" || f.Type == "multi_select") && len(f.Values) == 0 {
				seen[f.Dataset+"."+f.Dimension] = true
			}
		}
	}
	return len(seen)
}
