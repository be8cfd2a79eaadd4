package runner_test

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner"
	"github.com/bic-dev/bic/runner/queue"
	"github.com/bic-dev/bic/runner/warehouse"
	"github.com/bic-dev/bic/runner/warehouse/duckdb"
)

// The engine's tests run everything real in one process: SQLite, the
// embedded NATS server, file storage and DuckDB on a project's CSV files.

const engineProject = `name: shop
connections:
  wh: {type: duckdb, files: {orders: orders.csv}}
defaults: {connection: wh, timezone: UTC}
`

const engineOrders = "country,channel,amount\nDE,web,10\nDE,app,5\nFR,web,7\nUS,web,3\n"

const engineDataset = `dataset: orders
table: orders
dimensions:
  country: {type: string}
  channel: {type: string}
metrics:
  orders: {expr: count(*)}
  revenue: {expr: sum(amount)}
`

const engineDashboard = `dashboard: sales
title: Sales
charts:
  - {name: by_country, type: bar, dataset: orders, metrics: [revenue], x: country}
  - {name: by_channel, type: bar, dataset: orders, metrics: [orders], x: channel}
  - {name: total, type: big_number, dataset: orders, metrics: [orders]}
`

// engineDir writes a project; files override the defaults by name.
func engineDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{
		"bic.yaml": engineProject, "orders.csv": engineOrders,
		"datasets/orders.yaml": engineDataset, "dashboards/sales.yaml": engineDashboard,
	}
	for k, v := range files {
		all[k] = v
	}
	for name, data := range all {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var engineSchema = sync.OnceValues(compiler.NewSchema)

func compileDir(t *testing.T, dir string) *compiler.Manifest {
	t.Helper()
	s, err := engineSchema()
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.New(s).Compile(context.Background(), os.DirFS(dir))
	if err != nil || res.Manifest == nil {
		t.Fatalf("compile %s: %v %v", dir, err, res.Diagnostics)
	}
	return res.Manifest
}

// duckOpener opens DuckDB connections on a project folder's files.
type duckOpener struct{ dir string }

func (o duckOpener) Open(ctx context.Context, c compiler.Connection, loc *time.Location) (warehouse.Conn, error) {
	return duckdb.Open(ctx, c, warehouse.Options{ProjectDir: o.dir, Location: loc, Env: os.LookupEnv})
}

// engine is one installation: a metadata DB, a queue and a storage that
// any number of workers share.
type engine struct {
	store   *metadata.Store
	queue   *queue.Queue
	storage storage.Store
	dir     string // where the artifacts are
}

func newEngine(t *testing.T) *engine {
	t.Helper()
	ctx := context.Background()
	base := t.TempDir()
	st, err := metadata.Open(ctx, "sqlite://meta.db", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	q, err := queue.Connect(ctx, queue.EmbeddedURL, queue.Options{Dir: filepath.Join(base, "nats"), AckWait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	objects, err := storage.Open(ctx, "file://"+filepath.Join(base, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objects.Close() })
	return &engine{store: st, queue: q, storage: objects, dir: filepath.Join(base, "artifacts")}
}

// worker starts a worker (and a dispatcher) for the project in dir until
// the test ends.
func (e *engine) worker(t *testing.T, dir, owner string, configure ...func(*runner.Worker)) *runner.Worker {
	t.Helper()
	w := &runner.Worker{
		Store: e.store, Queue: e.queue, Storage: e.storage, Open: duckOpener{dir}, Owner: owner,
		Concurrency: 4, Backoff: func(int) time.Duration { return 10 * time.Millisecond },
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, f := range configure {
		f(w)
	}
	d := &runner.Dispatcher{Store: e.store, Queue: e.queue, Interval: 20 * time.Millisecond, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = w.Run(ctx) }()
	go func() { defer wg.Done(); _ = d.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return w
}

// apply plans and applies the project in dir to env and returns the
// revision's number.
func (e *engine) apply(t *testing.T, dir, env, base string) int {
	t.Helper()
	ctx := context.Background()
	m := compileDir(t, dir)
	p, err := publish.Plan(ctx, e.store, m, env, base)
	if err != nil {
		t.Fatal(err)
	}
	req := metadata.ApplyRequest{Env: env, Plan: p, Manifest: m, AppliedBy: "test"}
	if base != "" {
		req.Source, req.Preview = "preview", &metadata.PreviewOptions{Base: base, TTL: time.Hour}
	}
	rev, err := e.store.Apply(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return rev.Number
}

// waitFor waits until env's revision is live, or fails the test when a
// job of it failed or a minute passed.
func (e *engine) waitFor(t *testing.T, env string, number int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		en, err := e.store.Environment(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		if en.Live == number {
			return
		}
		jobs, err := e.store.Jobs(context.Background(), env, number)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			if j.Status == metadata.JobFailed {
				t.Fatalf("job %s failed: %s", j.Key, j.LastError)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s revision %d is not live after a minute", env, number)
}

// current reads env's release.
func (e *engine) current(t *testing.T, env string) *release.Release {
	t.Helper()
	rel, _, err := release.Current(context.Background(), e.storage, env)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// readBlob reads a blob and checks that its bytes hash to its key.
func (e *engine) readBlob(t *testing.T, key string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, key))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if want := storage.BlobKey(hex.EncodeToString(sum[:])); want != key {
		t.Fatalf("blob %s holds bytes that hash to %s", key, want)
	}
	return b
}

func countBlobs(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return n
}

// TestEngineFillsTheCache: the first apply computes every chart once and
// publishes a release naming each chart's JSON and CSV, whole.
func TestEngineFillsTheCache(t *testing.T) {
	e := newEngine(t)
	dir := engineDir(t, nil)
	w := e.worker(t, dir, "w1")
	n := e.apply(t, dir, "prod", "")
	e.waitFor(t, "prod", n)
	if got := w.Queries(); got != 3 {
		t.Errorf("warehouse queries = %d, want 3 (one per chart)", got)
	}
	rel := e.current(t, "prod")
	if rel.Revision != n || len(rel.Charts) != 3 {
		t.Fatalf("release: revision %d with %d charts, want %d with 3", rel.Revision, len(rel.Charts), n)
	}
	c := rel.Charts["sales/by_country"]
	d, ok := c.States[c.Default]
	if !ok {
		t.Fatalf("sales/by_country has no data for its default state: %+v", c)
	}
	var doc struct {
		Columns []struct{ Name string }
		Rows    [][]any
	}
	if err := json.Unmarshal(e.readBlob(t, d.JSON), &doc); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(strings.NewReader(string(e.readBlob(t, d.CSV)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Rows) != 3 || len(records) != 4 || d.Rows != 3 {
		t.Errorf("by_country: %d JSON rows, %d CSV records, %d recorded; want 3, 4 (with the header), 3", len(doc.Rows), len(records), d.Rows)
	}
	if fmt.Sprint(records[1]) != "[DE 15]" {
		t.Errorf("first CSV row %v, want [DE 15]", records[1])
	}
	page := rel.Dashboards["sales"]
	html := string(e.readBlob(t, page.Page))
	if !strings.Contains(html, "<title>Sales") || !strings.Contains(html, "../assets/echarts.min.js") || len(page.Charts) != 3 {
		t.Errorf("the sales page (%d charts) does not load its assets or lacks its title:\n%.300s", len(page.Charts), html)
	}
	if js := e.readBlob(t, rel.Assets["echarts.min.js"]); !strings.Contains(string(js), "5.4.3") {
		t.Error("the release's echarts.min.js is not ECharts 5.4.3")
	}
	jobs, err := e.store.Jobs(context.Background(), "prod", n)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Status != metadata.JobDone || j.Attempts != 1 {
			t.Errorf("job %s: %s after %d attempts, want done after 1", j.Key, j.Status, j.Attempts)
		}
		if j.Kind == compiler.JobChartData && (j.Result.InputKey == "" || j.Result.CacheHit) {
			t.Errorf("job %s: input key %q, cache hit %v; want a key and a miss", j.Key, j.Result.InputKey, j.Result.CacheHit)
		}
	}
}

// TestEngineComputesOnlyWhatChanged: a revision that changes one chart
// asks the warehouse once; a preview of the unchanged project, not at
// all, and its release serves the same blobs as its base.
func TestEngineComputesOnlyWhatChanged(t *testing.T) {
	e := newEngine(t)
	dir := engineDir(t, nil)
	w := e.worker(t, dir, "w1")
	e.waitFor(t, "prod", e.apply(t, dir, "prod", ""))
	first := e.current(t, "prod")
	blobs := countBlobs(t, e.dir)

	changed := engineDir(t, map[string]string{"dashboards/sales.yaml": strings.Replace(engineDashboard, "metrics: [orders], x: channel}", "metrics: [orders], x: channel, limit: 1}", 1)})
	before := w.Queries()
	n := e.apply(t, changed, "prod", "")
	e.waitFor(t, "prod", n)
	if got := w.Queries() - before; got != 1 {
		t.Errorf("a revision that changes one chart asked the warehouse %d times, want 1", got)
	}
	// One JSON, one CSV, the dashboard's page drawn with them, the release.
	if got := countBlobs(t, e.dir) - blobs; got != 4 {
		t.Errorf("%d new blobs, want 4", got)
	}
	second := e.current(t, "prod")
	for _, ref := range []string{"sales/by_country", "sales/total"} {
		if fmt.Sprint(second.Charts[ref]) != fmt.Sprint(first.Charts[ref]) {
			t.Errorf("%s: unchanged chart's data moved:\n%v\n%v", ref, first.Charts[ref], second.Charts[ref])
		}
	}
	if second.Charts["sales/by_channel"].Hash == first.Charts["sales/by_channel"].Hash {
		t.Error("the changed chart kept its old data")
	}

	before = w.Queries()
	p := e.apply(t, changed, "pr-1", "prod")
	e.waitFor(t, "pr-1", p)
	if got := w.Queries() - before; got != 0 {
		t.Errorf("a preview of the unchanged project asked the warehouse %d times, want 0", got)
	}
	preview := e.current(t, "pr-1")
	if fmt.Sprint(preview.Charts) != fmt.Sprint(second.Charts) {
		t.Errorf("the preview serves other data than its base:\n%v\n%v", preview.Charts, second.Charts)
	}
}

// TestEngineSharesIdenticalQueries: charts of different dashboards, and
// environments, with the same query ask the warehouse once, even with two
// workers at once.
func TestEngineSharesIdenticalQueries(t *testing.T) {
	e := newEngine(t)
	var dashboards strings.Builder
	files := map[string]string{}
	for i := range 6 {
		fmt.Fprintf(&dashboards, "d%d ", i)
		files[fmt.Sprintf("dashboards/d%d.yaml", i)] = fmt.Sprintf("dashboard: d%d\ntitle: D%d\ncharts:\n  - {name: total, type: big_number, dataset: orders, metrics: [orders]}\n", i, i)
	}
	dir := engineDir(t, files)
	w1 := e.worker(t, dir, "w1")
	w2 := e.worker(t, dir, "w2")
	e.waitFor(t, "prod", e.apply(t, dir, "prod", ""))
	// sales/total and the six d*/total are the same query.
	if got := w1.Queries() + w2.Queries(); got != 3 {
		t.Errorf("warehouse queries = %d, want 3 (by_country, by_channel, and one for the seven identical totals)", got)
	}
	rel := e.current(t, "prod")
	want := rel.Charts["sales/total"].States[rel.Charts["sales/total"].Default].JSON
	for i := range 6 {
		c := rel.Charts[fmt.Sprintf("d%d/total", i)]
		if got := c.States[c.Default].JSON; got != want {
			t.Errorf("d%d/total serves %s, want %s", i, got, want)
		}
	}
	e.waitFor(t, "staging", e.apply(t, dir, "staging", ""))
	if got := w1.Queries() + w2.Queries(); got != 3 {
		t.Errorf("another environment of the same project asked the warehouse again (%d queries)", got)
	}
}

// TestEngineWarehouseErrorFailsTheRevision: a query that fails is retried,
// then fails with the warehouse's message; the revision fails and the
// pointer keeps naming the live release.
func TestEngineWarehouseErrorFailsTheRevision(t *testing.T) {
	e := newEngine(t)
	e.store.SetMaxAttempts(2)
	dir := engineDir(t, nil)
	e.worker(t, dir, "w1")
	e.waitFor(t, "prod", e.apply(t, dir, "prod", ""))
	live := e.current(t, "prod")

	broken := engineDir(t, map[string]string{"datasets/orders.yaml": strings.Replace(engineDataset, "sum(amount)", "sum(amount_missing)", 1)})
	e.worker(t, broken, "w2")
	n := e.apply(t, broken, "prod", "")
	deadline := time.Now().Add(time.Minute)
	var failed *metadata.JobRow
	for failed == nil && time.Now().Before(deadline) {
		jobs, err := e.store.Jobs(context.Background(), "prod", n)
		if err != nil {
			t.Fatal(err)
		}
		for i, j := range jobs {
			if j.Status == metadata.JobFailed {
				failed = &jobs[i]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if failed == nil {
		jobs, _ := e.store.Jobs(context.Background(), "prod", n)
		for _, j := range jobs {
			t.Logf("%s: %s, %d attempts, %q", j.Key, j.Status, j.Attempts, j.LastError)
		}
		t.Fatal("no job failed")
	}
	if failed.Attempts != 2 || !strings.Contains(failed.LastError, "amount_missing") {
		t.Errorf("failed job: %d attempts, error %q; want 2 attempts and the warehouse's message naming amount_missing", failed.Attempts, failed.LastError)
	}
	hist, err := e.store.History(context.Background(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range hist {
		if r.Number == n && r.Status != metadata.RevisionFailed {
			t.Errorf("revision %d is %s, want failed", n, r.Status)
		}
	}
	time.Sleep(200 * time.Millisecond) // nothing may publish it now
	if now := e.current(t, "prod"); now.Revision != live.Revision {
		t.Errorf("the pointer names revision %d, want the live %d", now.Revision, live.Revision)
	}
}

// TestEngineRefreshMakesANewEntry: a dataset's refresh interval makes an
// older entry stale, so the same input key gets a new entry.
func TestEngineRefreshMakesANewEntry(t *testing.T) {
	e := newEngine(t)
	dir := engineDir(t, map[string]string{"datasets/orders.yaml": engineDataset + "refresh: \"@hourly\"\n"})
	clock := time.Now()
	var mu sync.Mutex
	w := e.worker(t, dir, "w1", func(w *runner.Worker) {
		w.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	})
	e.waitFor(t, "prod", e.apply(t, dir, "prod", ""))
	first := e.current(t, "prod").Charts["sales/total"]

	mu.Lock()
	clock = clock.Add(2 * time.Hour)
	mu.Unlock()
	before := w.Queries()
	// A new preview asks for the same keys, now stale: they are computed again.
	e.waitFor(t, "pr-2", e.apply(t, dir, "pr-2", "prod"))
	second := e.current(t, "pr-2").Charts["sales/total"]
	if got := w.Queries() - before; got == 0 {
		t.Fatal("stale entries were served")
	}
	a, b := first.States[first.Default], second.States[second.Default]
	if a.InputKey != b.InputKey || !b.ComputedAt.After(a.ComputedAt) {
		t.Errorf("refresh: key %s → %s, computed %v → %v; want the same key computed later", a.InputKey, b.InputKey, a.ComputedAt, b.ComputedAt)
	}
}

// TestEnginePagesOfferFilterValues: a select filter that declares no
// values offers the distinct values of its dimension, computed once
// through the cache when the revision is published.
func TestEnginePagesOfferFilterValues(t *testing.T) {
	e := newEngine(t)
	dir := engineDir(t, map[string]string{"dashboards/sales.yaml": strings.Replace(engineDashboard, "charts:\n",
		"filters:\n  - {name: country, dataset: orders, dimension: country, type: select}\ncharts:\n", 1)})
	w := e.worker(t, dir, "w1")
	e.waitFor(t, "prod", e.apply(t, dir, "prod", ""))
	if got := w.Queries(); got != 4 {
		t.Errorf("warehouse queries = %d, want 4: three charts and the filter's values", got)
	}
	page := string(e.readBlob(t, e.current(t, "prod").Dashboards["sales"].Page))
	for _, country := range []string{">DE<", ">FR<", ">US<"} {
		if !strings.Contains(page, country) {
			t.Errorf("the page does not offer %s for the country filter", country)
		}
	}
	// Another environment's publish finds them in the cache.
	e.waitFor(t, "staging", e.apply(t, dir, "staging", ""))
	if got := w.Queries(); got != 4 {
		t.Errorf("warehouse queries after a second environment = %d, want still 4", got)
	}
}

// TestEnginePrecomputesStaticFilterValues: a select filter with static
// values has one precomputed state per value: its charts' data in the
// release under each state's key, one page per state drawn with that
// state's data and controls, and when the dataset is refreshed on a
// schedule each state says when it goes stale.
func TestEnginePrecomputesStaticFilterValues(t *testing.T) {
	e := newEngine(t)
	dir := engineDir(t, map[string]string{
		"datasets/orders.yaml": engineDataset + "refresh: \"0 6 * * *\"\n",
		"dashboards/sales.yaml": strings.Replace(engineDashboard, "charts:\n",
			"filters:\n  - {name: channel, dataset: orders, dimension: channel, type: select, values: [web, app, shop]}\ncharts:\n", 1),
	})
	clock := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	w := e.worker(t, dir, "w1", func(w *runner.Worker) { w.Now = func() time.Time { return clock } })
	e.waitFor(t, "prod", e.apply(t, dir, "prod", ""))
	if got := w.Queries(); got != 12 {
		t.Errorf("warehouse queries = %d, want 12: three charts in four states", got)
	}
	m := compileDir(t, dir)
	states, err := m.PrecomputedStates("sales")
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 4 {
		t.Fatalf("%d precomputed states, want 4 (the default and three channels)", len(states))
	}
	rel := e.current(t, "prod")
	d := rel.Dashboards["sales"]
	if len(d.StatePages) != 3 {
		t.Errorf("%d state pages, want 3", len(d.StatePages))
	}
	wantStale := time.Date(2026, 3, 3, 6, 0, 0, 0, time.UTC)
	for _, st := range states {
		key := st.State.Key()
		for _, ref := range d.Charts {
			data, ok := rel.Charts[ref].States[key]
			if !ok {
				t.Errorf("%s has no data for %v", ref, st.Chosen())
				continue
			}
			if !data.StaleAt.Equal(wantStale) {
				t.Errorf("%s %v goes stale at %v, want %v (the next 06:00 refresh)", ref, st.Chosen(), data.StaleAt, wantStale)
			}
		}
		if st.IsDefault() {
			continue
		}
		page := string(e.readBlob(t, d.StatePages[key]))
		want := fmt.Sprintf(`<option value="%s" selected>`, st.ValueText())
		if !strings.Contains(page, want) {
			t.Errorf("the page of channel %s does not show it chosen (%s)", st.ValueText(), want)
		}
		total := rel.Charts["sales/total"].States[key]
		if !strings.Contains(page, strings.TrimSpace(string(e.readBlob(t, total.JSON)))) {
			t.Errorf("the page of channel %s does not hold that state's data", st.ValueText())
		}
	}
	// The web state counts three orders, the default four.
	web := states[1]
	if web.ValueText() != "web" {
		t.Fatalf("the first state after the default chooses %q, want web", web.ValueText())
	}
	for key, want := range map[string]string{rel.Charts["sales/total"].Default: "[[4]]", web.State.Key(): "[[3]]"} {
		if got := string(e.readBlob(t, rel.Charts["sales/total"].States[key].JSON)); !strings.Contains(got, want) {
			t.Errorf("sales/total in state %s: %s, want rows %s", key[:8], got, want)
		}
	}
}
