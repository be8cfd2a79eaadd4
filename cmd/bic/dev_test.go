package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bic-dev/bic/runner/servicetest"
)

// devTimeout bounds a step of bic dev in the tests: the first apply of
// examples/shop computes 170 jobs and draws three thumbnails, on a
// loaded two-core machine.
const devTimeout = 3 * time.Minute

// devProcess is bic dev running in this process on a project folder.
type devProcess struct {
	t      testing.TB
	base   string
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan int
}

// startDev runs bic dev on dir, on a free port, and waits until its first
// apply is over (it says it is watching).
func startDev(t testing.TB, dir string, args ...string) *devProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &devProcess{t: t, out: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		d.done <- run(ctx, append([]string{"dev", "-p", dir, "--port", "0"}, args...), d.out, d.out)
	}()
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("bic dev printed:\n%s", d.out.String())
		}
	})
	d.waitOutput("Watching for changes")
	m := regexp.MustCompile(` at (http://127\.0\.0\.1:\d+)/\n`).FindStringSubmatch(d.out.String())
	if m == nil {
		t.Fatalf("bic dev does not say where it serves:\n%s", d.out.String())
	}
	d.base = m[1]
	return d
}

// waitOutput waits until bic dev has printed want.
func (d *devProcess) waitOutput(want string) {
	d.t.Helper()
	deadline := time.Now().Add(devTimeout)
	for !strings.Contains(d.out.String(), want) {
		select {
		case code := <-d.done:
			d.done <- code
			d.t.Fatalf("bic dev exited with %d before printing %q:\n%s", code, want, d.out.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("bic dev did not print %q within %s:\n%s", want, devTimeout, d.out.String())
		}
	}
}

// stop is Ctrl-C: it returns bic dev's exit code.
func (d *devProcess) stop() int {
	d.cancel()
	select {
	case code := <-d.done:
		d.done <- code
		return code
	case <-time.After(30 * time.Second):
		d.t.Errorf("bic dev did not stop within 30s:\n%s", d.out.String())
		return -1
	}
}

// TestDevLoop does what README.md's tour says, from a fresh copy of
// examples/shop: bic dev serves every dashboard with data; the sales page,
// opened at a filter state, shows a chart's new title after its YAML is
// saved, with the same filters; a mistake shows as a banner on the open
// page with bic validate's message while the last good revision keeps
// serving; the fix removes the banner. Ctrl-C stops it cleanly, keeps .bic/,
// and the next start has nothing to compute.
func TestDevLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("bic dev computes every example chart and starts Chromium; not with -short")
	}
	chrome := servicetest.Chrome(t)
	t.Setenv("BIC_METADATA_URL", "")
	t.Setenv("BIC_STORAGE_URL", "")
	t.Setenv("BIC_NATS_URL", "")
	dir := copyShop(t, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "shop")
	dashboards := projectDashboards(t, dir)

	start := time.Now()
	d := startDev(t, dir)
	t.Logf("bic dev: first apply live after %s", time.Since(start).Round(time.Millisecond))
	for _, name := range dashboards {
		if want := d.base + "/e/dev/d/" + name; !strings.Contains(d.out.String(), want) {
			t.Errorf("bic dev does not print %s:\n%s", want, d.out.String())
		}
	}

	browser := newBrowser(t, chrome)
	host := mustParseURL(t, d.base).Host
	sameHost := func(u *url.URL) bool { return (u.Scheme == "http" || u.Scheme == "https") && u.Host == host }
	index := openPage(t, browser, d.base+"/", sameHost)
	index.wantLinks(dashboardLinks(dashboards, "e/dev/d/", ""))
	index.wantThumbnails(len(dashboards))
	for _, name := range dashboards {
		p := openPage(t, browser, d.base+"/e/dev/d/"+name, sameHost)
		p.waitRendered()
		p.wantDrawn()
		p.wantClean(nil)
	}

	// README.md's tour: the chart it adds, the row for it and the error
	// its typo gives.
	chartYAML, rowYAML, wantError := readmeTour(t)

	// The sales page at a filter state of the viewer's.
	const query = "?period=all&status=pending,shipped,completed&country=&channel=web&order_value="
	p := openPage(t, browser, d.base+"/e/dev/d/sales"+query, sameHost)
	p.waitRendered()
	p.poll(`document.body.dataset.bicLive === 'open'`, "the page follows the live channel")
	const newChart = `document.getElementById('chart-orders_by_status')`

	sales := filepath.Join(dir, "dashboards", "sales.yaml")
	edit := func(change func(string) string) {
		t.Helper()
		b, err := os.ReadFile(sales)
		if err != nil {
			t.Fatal(err)
		}
		s := change(string(b))
		if s == string(b) {
			t.Fatal("the edit changes nothing in sales.yaml")
		}
		if err := os.WriteFile(sales, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	replace := func(old, new string) func(string) string {
		return func(s string) string { return strings.Replace(s, old, new, 1) }
	}

	{ // a new chart appears on the open page, which keeps its filters
		saved := time.Now()
		edit(func(s string) string {
			s = strings.Replace(s, "\nlayout:\n", "\n"+chartYAML+"layout:\n", 1)
			return strings.TrimRight(s, "\n") + "\n" + rowYAML
		})
		p.poll("!!"+newChart, "the new chart on the open page")
		t.Logf("saved → shown on the open page: %s", time.Since(saved).Round(time.Millisecond))
		p.waitRendered()
		charts := p.wantDrawn()
		if !slices.ContainsFunc(charts, func(c chartReport) bool { return c.Name == "orders_by_status" && c.Type == "pie" }) {
			t.Errorf("the page does not draw the pie orders_by_status: %+v", charts)
		}
		if search := evaluate[string](p, `location.search`); search != query {
			t.Errorf("after the reload the page is at %s, want %s", search, query)
		}
		if ch := evaluate[string](p, `document.querySelector('#bic-filters select[name="channel"]').value`); ch != "web" {
			t.Errorf("after the reload the channel filter is %q, want web", ch)
		}
		d.waitOutput("Revision 2 of dev is live")
		p.poll(`document.body.dataset.bicLive === 'open'`, "the reloaded page follows the live channel")
		index.poll(`/^revision 2\b/.test(document.querySelector('.bic-env-meta').textContent)`, "the open index page at revision 2")
	}

	{ // a mistake shows as a banner; the last good revision keeps serving
		edit(replace("metrics: [orders]\n    x: status", "metrics: [order]\n    x: status"))
		p.poll(`!!document.getElementById('bic-live-error')`, "the error banner")
		if banner := evaluate[string](p, `document.querySelector('#bic-live-error pre').textContent`); banner != wantError {
			t.Errorf("the banner says:\n%s\nREADME.md shows:\n%s", banner, wantError)
		}
		d.waitOutput(wantError)
		// The last good revision keeps serving, on the open page and to a
		// new request.
		if !evaluate[bool](p, "!!"+newChart) {
			t.Error("with the error the open page lost the new chart")
		}
		resp, err := http.Get(d.base + "/e/dev/d/sales")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Bic-Revision") != "2" {
			t.Errorf("with the error the sales page is %d, revision %q; want 200, revision 2", resp.StatusCode, resp.Header.Get("X-Bic-Revision"))
		}
	}

	{ // the fix removes the banner
		edit(replace("metrics: [order]\n    x: status", "metrics: [orders]\n    x: status"))
		p.poll(`!document.getElementById('bic-live-error')`, "the banner gone")
		if !evaluate[bool](p, "!!"+newChart) {
			t.Error("after the fix the open page lost the new chart")
		}
	}
	p.wantClean(nil)

	t.Run("Restart", func(t *testing.T) {
		if code := d.stop(); code != exitInterrupted {
			t.Errorf("bic dev stopped with %d, want %d:\n%s", code, exitInterrupted, d.out.String())
		}
		for _, sub := range []string{"bic.db", "nats", "artifacts"} {
			if _, err := os.Stat(filepath.Join(dir, ".bic", sub)); err != nil {
				t.Errorf("after Ctrl-C: %v", err)
			}
		}
		again := startDev(t, dir)
		if out := again.out.String(); !strings.Contains(out, "No changes: revision 2 of dev is live.") || strings.Contains(out, "Applied") {
			t.Errorf("the second start computed something:\n%s", out)
		}
	})
}

// readmeTour returns what README.md's five-minute tour adds to
// examples/shop's sales dashboard (a chart, its layout row) and the error
// it shows for the typo it makes.
func readmeTour(t *testing.T) (chart, row, diagnostics string) {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, tour, ok := strings.Cut(string(readme), "## A five-minute tour\n")
	if !ok {
		t.Fatal("README.md has no five-minute tour")
	}
	tour, _, _ = strings.Cut(tour, "\n## ")
	write := regexp.MustCompile("(?s)\\*\\*Write a chart\\.\\*\\*.*?```yaml\n(.*?)```\\s*```yaml\n(.*?)```").FindStringSubmatch(tour)
	broken := regexp.MustCompile("(?s)\\*\\*Break it\\.\\*\\*.*?```text\n(.*?)```").FindStringSubmatch(tour)
	if write == nil || broken == nil {
		t.Fatal("README.md's tour has no chart and row to write, or no error to show")
	}
	return write[1], write[2], broken[1]
}

// poll waits until js is true on the page, across the page's reloads.
func (p *page) poll(js, what string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, devTimeout)
	defer cancel()
	var err error
	for ctx.Err() == nil {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(devTimeout)))
		// A reload destroys the context the poll ran in: poll the new page.
		if err == nil || !(strings.Contains(err.Error(), "context") || strings.Contains(err.Error(), "navigated")) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("%s: waiting for %s (%s): %v\nconsole: %v", p.url, what, js, err, p.consoleLines())
	}
}

// TestWatcher: a change is reported once it is quiet, a burst of changes
// as one report, and hidden folders such as .bic/ (where bic dev writes)
// are not watched.
func TestWatcher(t *testing.T) {
	type step struct {
		write  []string // files to write (a path ending in "-" is removed)
		report []string // the report that follows
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"write", []step{{write: []string{"dashboards/sales.yaml"}, report: []string{"dashboards/sales.yaml"}}}},
		{"burst", []step{{write: []string{"a.yaml", "b/c.yaml", "bic.yaml"}, report: []string{"a.yaml", "b/c.yaml", "bic.yaml"}}}},
		{"hidden", []step{{write: []string{".bic/bic.db", ".bic/artifacts/x", ".sales.yaml.swp", "sales.yaml~", "datasets/orders.yaml"}, report: []string{"datasets/orders.yaml"}}}},
		{"remove", []step{
			{write: []string{"dashboards/new.yaml"}, report: []string{"dashboards/new.yaml"}},
			{write: []string{"dashboards/new.yaml-"}, report: []string{"dashboards/new.yaml"}},
		}},
		{"twice", []step{
			{write: []string{"a.yaml"}, report: []string{"a.yaml"}},
			{write: []string{"a.yaml"}, report: []string{"a.yaml"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTestFile(t, filepath.Join(dir, "bic.yaml"), "name: x\n")
			writeTestFile(t, filepath.Join(dir, "dashboards", "sales.yaml"), "dashboard: sales\n")
			// A long quiet time makes a burst written back to back one change.
			w := &watcher{Root: dir, Interval: 5 * time.Millisecond, Quiet: 300 * time.Millisecond}
			ctx, cancel := context.WithCancel(context.Background())
			changes := make(chan []string)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); w.Run(ctx, changes) }()
			defer func() { cancel(); wg.Wait() }()
			// Let the watcher take its first look before anything changes.
			time.Sleep(50 * time.Millisecond)
			for i, s := range tc.steps {
				for _, f := range s.write {
					if name, ok := strings.CutSuffix(f, "-"); ok {
						if err := os.Remove(filepath.Join(dir, name)); err != nil {
							t.Fatal(err)
						}
						continue
					}
					writeTestFile(t, filepath.Join(dir, f), fmt.Sprintf("step %d %s\n", i, strings.Repeat("x", i)))
				}
				select {
				case got := <-changes:
					if !slices.Equal(got, s.report) {
						t.Errorf("step %d: reported %v, want %v", i, got, s.report)
					}
				case <-time.After(30 * time.Second):
					t.Fatalf("step %d: no report within 30s", i)
				}
			}
		})
	}
}

// TestWatcherBounded: a scan stops at MaxFiles and says so once.
func TestWatcherBounded(t *testing.T) {
	dir := t.TempDir()
	for i := range 20 {
		writeTestFile(t, filepath.Join(dir, fmt.Sprintf("d%d", i%3), fmt.Sprintf("f%d.yaml", i)), "x")
	}
	calls := 0
	w := &watcher{Root: dir, MaxFiles: 10, Truncated: func(n int) {
		calls++
		if n != 10 {
			t.Errorf("Truncated(%d), want 10", n)
		}
	}}
	for range 3 {
		if n := len(w.scan()); n > 10 {
			t.Errorf("a scan noted %d files, past MaxFiles 10", n)
		}
	}
	if calls != 1 {
		t.Errorf("Truncated called %d times, want once", calls)
	}
}

func TestDiff(t *testing.T) {
	t0 := time.Unix(1, 0)
	a := map[string]stamp{"same": {1, t0, 0o644}, "size": {1, t0, 0o644}, "time": {1, t0, 0o644}, "gone": {1, t0, 0o644}, "mode": {1, t0, 0o644}}
	b := map[string]stamp{"same": {1, t0, 0o644}, "size": {2, t0, 0o644}, "time": {1, t0.Add(time.Nanosecond), 0o644}, "new": {1, t0, 0o644}, "mode": {1, t0, 0o600}}
	if got, want := diff(a, b), []string{"gone", "mode", "new", "size", "time"}; !slices.Equal(got, want) {
		t.Errorf("diff = %v, want %v", got, want)
	}
	if got := diff(a, a); len(got) != 0 {
		t.Errorf("diff of a scan with itself = %v", got)
	}
}

func TestDevUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dev", "--port", "70000", t.TempDir()}, exitUsage, "--port 70000"},
		{[]string{"dev", filepath.Join(t.TempDir(), "missing")}, exitUsage, "not a folder"},
	} {
		code, _, errOut := runBic(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("bic %v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestDevServices runs bic dev against PostgreSQL, a NATS server and S3
// (--metadata, --nats, --storage) instead of the embedded defaults: the
// project goes live in env dev, its pages are served from S3, and a
// second start finds nothing to compute.
func TestDevServices(t *testing.T) {
	if testing.Short() {
		t.Skip("bic dev computes every example chart; not with -short")
	}
	pg := servicetest.Postgres(t)
	natsURL := servicetest.NATS(t)
	bucketURL := servicetest.S3(t)
	id := randomID()
	t.Setenv("BIC_METADATA_URL", "")
	t.Setenv("BIC_STORAGE_URL", "")
	t.Setenv("BIC_NATS_URL", "")
	t.Setenv("BIC_THUMBNAILS", "off") // the pictures are TestDevLoop's
	stream := "BIC_DEV_" + strings.ToUpper(id)
	t.Setenv("BIC_NATS_STREAM", stream)
	t.Cleanup(func() { deleteStream(natsURL, stream) })

	schema := "bic_dev_" + id
	admin, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(pg, "?") {
		sep = "&"
	}
	base, query, _ := strings.Cut(bucketURL, "?")
	args := []string{"--metadata", pg + sep + "search_path=" + schema, "--nats", natsURL,
		"--storage", strings.TrimSuffix(base, "/") + "/bic-dev-" + id + "?" + query}

	dir := copyShop(t, pg, "shop")
	d := startDev(t, dir, args...)
	if !strings.Contains(d.out.String(), "Revision 1 of dev is live") {
		t.Fatalf("bic dev did not make revision 1 live:\n%s", d.out.String())
	}
	resp, err := http.Get(d.base + "/e/dev/d/sales")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Bic-Revision") != "1" {
		t.Errorf("the sales page: %d, revision %q; want 200, revision 1", resp.StatusCode, resp.Header.Get("X-Bic-Revision"))
	}
	if code := d.stop(); code != exitInterrupted {
		t.Errorf("bic dev stopped with %d:\n%s", code, d.out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, ".bic", "bic.db")); err == nil {
		t.Error("bic dev on PostgreSQL wrote .bic/bic.db")
	}
	again := startDev(t, dir, args...)
	if out := again.out.String(); !strings.Contains(out, "No changes: revision 1 of dev is live.") {
		t.Errorf("the second start computed something:\n%s", out)
	}
}
