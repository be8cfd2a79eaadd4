package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/bic-dev/bic/runner/servicetest"
)

// browserTimeout bounds one page's load and draw: generous, for a loaded
// two-core CI machine; a page on loopback draws in well under a second.
const browserTimeout = 30 * time.Second

// TestBrowserShopDashboards loads every dashboard of examples/shop in
// headless Chromium, from bic serve and from bic publish's static export
// (as file:// pages), and checks that every chart drew (data points in
// its ECharts series that drew pixels of its canvas, or a big number's
// value, or a table's rows), that the page asked no other host for
// anything and that the console holds no error. On the sales page, served
// and exported, it changes a filter through its control to a state the
// release did not precompute and checks that every chart says so, then
// resets the filters and checks that every chart draws again.
//
//	BIC_TEST_CHROME=/usr/bin/chromium go test -count=1 -run Browser ./cmd/bic/
func TestBrowserShopDashboards(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test starts Chromium and computes every example chart; not with -short")
	}
	chrome := servicetest.Chrome(t)
	t.Setenv("BIC_METADATA_URL", "")
	t.Setenv("BIC_STORAGE_URL", "")
	// Without NATS, bic serve has no runners to compute a filter state that
	// was not precomputed: it answers 404, as a static host does.
	t.Setenv("BIC_NATS_URL", "")
	dir := copyShop(t, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "shop")
	dashboards := projectDashboards(t, dir)

	start := time.Now()
	if code, out, errOut := runBic(t, "apply", "-p", dir, "--auto-approve", "--wait"); code != 0 {
		t.Fatalf("bic apply --wait: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("apply --wait: %s", time.Since(start).Round(time.Millisecond))
	site := filepath.Join(t.TempDir(), "site")
	if code, out, errOut := runBic(t, "publish", "-p", dir, "--env", "prod", "--out", site); code != 0 {
		t.Fatalf("bic publish: exit %d\n%s%s", code, out, errOut)
	}
	base := serveProject(t, dir)
	browser := newBrowser(t, chrome)

	t.Run("Served", func(t *testing.T) {
		host := mustParseURL(t, base).Host
		sameHost := func(u *url.URL) bool { return (u.Scheme == "http" || u.Scheme == "https") && u.Host == host }
		p := openPage(t, browser, base+"/", sameHost)
		p.wantLinks(dashboardLinks(dashboards, "e/prod/d/", ""))
		p.wantThumbnails(len(dashboards))
		p.wantClean(nil)
		for _, d := range dashboards {
			t.Run(d, func(t *testing.T) {
				p := openPage(t, browser, base+"/e/prod/d/"+d, sameHost)
				p.waitRendered()
				p.wantDrawn()
				p.wantClean(nil)
			})
		}
		t.Run("FilterPrecomputed", func(t *testing.T) {
			testFilterPrecomputed(t, browser, base+"/e/prod/d/sales", sameHost, false)
		})
		t.Run("FilterNotPrecomputed", func(t *testing.T) {
			testFilterNotPrecomputed(t, browser, base+"/e/prod/d/sales", sameHost, "not precomputed")
		})
	})

	t.Run("Static", func(t *testing.T) {
		root := "file://" + filepath.ToSlash(site) + "/"
		inSite := func(u *url.URL) bool {
			return u.Scheme == "file" && strings.HasPrefix(u.Path, filepath.ToSlash(site)+"/") && !strings.Contains(u.Path, "/../")
		}
		p := openPage(t, browser, root+"index.html", inSite)
		p.wantLinks(dashboardLinks(dashboards, "e/prod/d/", ".html"))
		p.wantThumbnails(len(dashboards))
		p.wantClean(nil)
		for _, d := range dashboards {
			t.Run(d, func(t *testing.T) {
				p := openPage(t, browser, root+"e/prod/d/"+d+".html", inSite)
				p.waitRendered()
				p.wantDrawn()
				p.wantClean(nil)
			})
		}
		t.Run("FilterPrecomputed", func(t *testing.T) {
			testFilterPrecomputed(t, browser, root+"e/prod/d/sales.html", inSite, true)
		})
		t.Run("FilterNotPrecomputed", func(t *testing.T) {
			testFilterNotPrecomputed(t, browser, root+"e/prod/d/sales.html", inSite, "could not reach a server")
		})
	})
}

// fingerprintJS is what each chart of the page shows: its ECharts series'
// data, or the text of a big number or a table.
const fingerprintJS = `Array.from(document.querySelectorAll('section.bic-cell'), el => {
  const box = el.querySelector('.bic-canvas');
  const ec = box && window.echarts && echarts.getInstanceByDom(box);
  if (ec) return JSON.stringify((ec.getOption().series || []).map(s => s.data));
  const html = el.querySelector('.bic-big, .bic-table');
  return html ? html.innerText.trim() : '';
})`

// testFilterPrecomputed: the sales page's channel select set to web is a
// precomputed state (a static value of a select filter), so every chart
// draws at once with that state's data, which differs from the default's:
// from bic serve through the chart API (each request a 200, a hit in the
// release), and in a static export, which has no API, by opening that
// state's own page. Reloading the URL shows the same data with no API
// request (bic serve answers it with the state's page), and Reset goes
// back to the default data.
func testFilterPrecomputed(t *testing.T, browser context.Context, pageURL string, allowed func(*url.URL) bool, static bool) {
	p := openPage(t, browser, pageURL, allowed)
	p.waitRendered()
	before := evaluate[[]string](p, fingerprintJS)
	p.do(chromedp.SetValue(chromedp.CSS(`#bic-filters select[name="channel"]`), "web"))
	p.waitRendered()

	const query = "?period=all&status=pending,shipped,completed&country=&channel=web&order_value="
	if search := evaluate[string](p, `location.search`); search != query {
		t.Errorf("after choosing channel web the URL's query is %q, want %q", search, query)
	}
	after := evaluate[[]string](p, fingerprintJS)
	changed := 0
	for i := range min(len(before), len(after)) {
		if before[i] != after[i] {
			changed++
		}
	}
	if changed == 0 {
		t.Errorf("no chart shows other data for channel web: %v", after)
	}
	t.Logf("channel web: %d of %d charts show other data", changed, len(after))
	api := p.apiRequests("channel=web")
	if static {
		if path := evaluate[string](p, `location.pathname`); !regexp.MustCompile(`/e/prod/d/sales\.[0-9a-f]{16}\.html$`).MatchString(path) {
			t.Errorf("the static page of channel web is %s, want sales.KEY.html", path)
		}
		if len(api) != 0 {
			t.Errorf("the static export asked the chart API: %v", api)
		}
	} else {
		if len(api) != len(after) {
			t.Errorf("%d chart API requests with channel=web, want one per chart (%d)", len(api), len(after))
		}
		for _, u := range api {
			if status := p.status(u); status != http.StatusOK {
				t.Errorf("GET %s: status %d, want 200 (a precomputed state)", u, status)
			}
		}
	}
	p.do(chromedp.Reload())
	p.waitRendered()
	if again := evaluate[[]string](p, fingerprintJS); !slices.Equal(again, after) {
		t.Errorf("reloading %s shows other data than choosing channel web did", query)
	}
	if more := p.apiRequests("channel=web"); len(more) != len(api) {
		t.Errorf("reloading the URL of a precomputed state asked the chart API %d times; its page has the data", len(more)-len(api))
	}
	p.wantDrawn()
	p.wantClean(nil)

	p.do(chromedp.Click(chromedp.CSS(`#bic-filters .bic-reset`)))
	p.waitRendered()
	if search := evaluate[string](p, `location.search`); search != "" {
		t.Errorf("after Reset the URL's query is %q, want none", search)
	}
	if reset := evaluate[[]string](p, fingerprintJS); !slices.Equal(reset, before) {
		t.Error("after Reset the charts do not show the default data")
	}
}

// testFilterNotPrecomputed: the sales page's order value range set to a
// minimum is a state that apply did not precompute, so
// each chart's API request fails (a 404 from bic serve; a file:// page
// cannot fetch at all) and each chart and the banner say that the state
// is not available, each chart with message in its own. Reset brings
// back the published data, drawn again.
func testFilterNotPrecomputed(t *testing.T, browser context.Context, pageURL string, allowed func(*url.URL) bool, message string) {
	p := openPage(t, browser, pageURL, allowed)
	p.waitRendered()
	charts := p.wantDrawn()
	// SetValue fires the control's input and change events, as a choice does.
	p.do(chromedp.SetValue(chromedp.CSS(`#bic-filters input[name="order_value.min"]`), "100"))
	p.waitRendered()

	search := evaluate[string](p, `location.search`)
	if want := "?period=all&status=pending,shipped,completed&country=&channel=&order_value=100.."; search != want {
		t.Errorf("after setting the order value's minimum the URL's query is %q, want %q", search, want)
	}
	for _, c := range p.report() {
		if !strings.Contains(c.Error, message) {
			t.Errorf("chart %s (%s) after a change to a state that was not precomputed: error %q, want one with %q", c.Name, c.Type, c.Error, message)
		}
	}
	banner := evaluate[string](p, `(() => { const b = document.getElementById('bic-message'); return b.hidden ? '' : b.textContent; })()`)
	if want := fmt.Sprintf("%d of %d charts are not available for this filter state", len(charts), len(charts)); !strings.Contains(banner, want) {
		t.Errorf("banner = %q, want it to say %q", banner, want)
	}
	api := p.apiRequests("order_value=100..")
	if len(api) != len(charts) {
		t.Errorf("%d chart API requests with order_value=100.., want one per chart (%d): %v", len(api), len(charts), api)
	}
	for _, u := range api {
		if status := p.status(u); strings.HasPrefix(u, "http") && status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404 (the state was not precomputed)", u, status)
		}
	}
	// Chromium itself logs each failed request in its own log: "Failed to
	// load resource" with the 404, and on a file:// page also the fetch
	// that it blocks (file: URLs are cross-origin). Those are the failures
	// expected above; any other log entry, console.error or exception is
	// an error.
	p.wantClean(func(e *log.Entry) bool {
		return slices.ContainsFunc(api, func(u string) bool { return e.URL == u || strings.Contains(e.Text, "'"+u+"'") })
	})

	p.do(chromedp.Click(chromedp.CSS(`#bic-filters .bic-reset`)))
	p.waitRendered()
	if search := evaluate[string](p, `location.search`); search != "" {
		t.Errorf("after Reset the URL's query is %q, want none", search)
	}
	if again := p.wantDrawn(); len(again) != len(charts) {
		t.Errorf("after Reset %d charts, want %d", len(again), len(charts))
	}
	if banner := evaluate[string](p, `document.getElementById('bic-message').hidden ? '' : 'shown'`); banner != "" {
		t.Error("after Reset the banner is still shown")
	}
}

// projectDashboards is the names of the project's dashboards, from their
// files' names.
func projectDashboards(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "dashboards", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in %s: %v", dir, err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	return names
}

func dashboardLinks(dashboards []string, prefix, suffix string) []string {
	var links []string
	for _, d := range dashboards {
		links = append(links, prefix+d+suffix)
	}
	return links
}

// serveProject runs bic serve on the project's storage, in this process,
// until the test ends, and returns its base URL once /healthz answers.
func serveProject(t *testing.T, dir string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "-p", dir, "--addr", addr}, &out, &out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("bic serve did not stop within 10s of its context's end:\n%s", out.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case code := <-done:
			t.Fatalf("bic serve exited with %d:\n%s", code, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("bic serve on %s: /healthz does not answer 200 within 20s (%v):\n%s", addr, err, out.String())
		}
	}
}

// syncBuffer is a bytes.Buffer that a server goroutine writes while the
// test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newBrowser starts headless Chromium for the test, with a fresh user
// data folder that chromedp makes and removes, and returns the context
// of its first tab; each page opens a tab of its own from it.
func newBrowser(t *testing.T, chrome string) context.Context {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox, // as root, in CI's container
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 1024),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser now, without a deadline: the first Run's context
	// is the browser's lifetime.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	return ctx
}

// page is one tab and what it saw: every request, response status and
// console message from its opening on.
type page struct {
	t       *testing.T
	ctx     context.Context
	url     string
	allowed func(*url.URL) bool // the hosts (or files) it may load from

	mu       sync.Mutex
	requests []string
	statuses map[string]int64
	console  []consoleLine
}

// consoleLine is a console message, an exception or a browser log entry.
type consoleLine struct {
	level string // error, warning, …
	text  string
	entry *log.Entry // for a browser log entry
}

// openPage opens u in a new tab and waits for its load event.
func openPage(t *testing.T, browser context.Context, u string, allowed func(*url.URL) bool) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx, url: u, allowed: allowed, statuses: map[string]int64{}}
	if err := chromedp.Listen(ctx, p.listen); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	p.do(chromedp.Navigate(u))
	return p
}

// listen records the tab's events; it runs on chromedp's reading
// goroutine, so it only stores them.
func (p *page) listen(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		p.requests = append(p.requests, ev.Request.URL)
	case *network.EventResponseReceived:
		p.statuses[ev.Response.URL] = ev.Response.Status
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			if a.Value != nil {
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			} else {
				parts = append(parts, a.Description)
			}
		}
		p.console = append(p.console, consoleLine{level: string(ev.Type), text: strings.Join(parts, " ")})
	case *runtime.EventExceptionThrown:
		p.console = append(p.console, consoleLine{level: "exception", text: (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error()})
	case *log.EventEntryAdded:
		p.console = append(p.console, consoleLine{level: string(ev.Entry.Level), text: ev.Entry.Text + " (" + ev.Entry.URL + ")", entry: ev.Entry})
	}
}

// do runs actions on the tab, each page step under browserTimeout.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", p.url, err)
	}
}

func evaluate[T any](p *page, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.url, js, err)
	}
	return v
}

// waitRendered waits for bic.js's signal that every chart has drawn or
// shows a message, and logs how long that took.
func (p *page) waitRendered() {
	p.t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(p.ctx, browserTimeout+5*time.Second)
	defer cancel()
	var err error
	for {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.body && document.body.dataset.bicRendered === 'true'`,
			chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(browserTimeout)))
		// A page that navigates (a static export opening a state's page,
		// Reset leaving a state's page) destroys the context the poll ran
		// in, or the target it ran on: poll the new page.
		if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "context") && !strings.Contains(err.Error(), "navigated or closed") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("%s: not rendered within %s (%v); charts: %+v\nconsole: %v", p.url, browserTimeout, err, p.report(), p.consoleLines())
	}
	p.t.Logf("%s: rendered after %s", p.url, time.Since(start).Round(time.Millisecond))
}

// chartReport is what the page shows of one chart.
type chartReport struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Error    string `json:"error"`    // its data-bic-error
	Canvases int    `json:"canvases"` // ECharts' canvases in its body
	Area     int    `json:"area"`     // their pixels
	Painted  int    `json:"painted"`  // their pixels that are not transparent
	Data     int    `json:"data"`     // their pixels that differ once the series have no data
	Points   int    `json:"points"`   // non-null data points in its ECharts series
	Text     string `json:"text"`     // the text of a big number or a table
	Rows     int    `json:"rows"`     // a table's body rows
}

// chartsJS reads every chart of the page: its canvases' pixels (ECharts
// draws on a transparent 2D canvas, so a painted pixel is one that is not
// fully transparent), its series from the ECharts instance, and the text
// of an HTML chart. With blank (its argument) true it then redraws each
// ECharts chart with its series emptied, without animation, and counts
// the pixels that changed: those the data drew, as axes, legends and a
// pie's empty ring paint without any. That leaves the charts without
// data: it is a page's last look at them.
const chartsJS = `(blank) => Array.from(document.querySelectorAll('section.bic-cell'), el => {
  const spec = JSON.parse(el.querySelector('script.bic-spec').textContent || '{}');
  const r = {name: el.dataset.chart, type: spec.type || '', error: el.getAttribute('data-bic-error') || '',
    canvases: 0, area: 0, painted: 0, data: 0, points: 0, text: '', rows: 0};
  const canvases = Array.from(el.querySelectorAll('.bic-body canvas')).filter(c => c.width && c.height);
  // Read a copy, not the chart's own canvas: reading that back makes
  // Chromium warn that it lacks willReadFrequently.
  const pixels = () => canvases.map(c => {
    const copy = document.createElement('canvas');
    copy.width = c.width;
    copy.height = c.height;
    const g = copy.getContext('2d', {willReadFrequently: true});
    g.drawImage(c, 0, 0);
    return g.getImageData(0, 0, c.width, c.height).data;
  });
  const before = pixels();
  r.canvases = canvases.length;
  for (const d of before) {
    r.area += d.length / 4;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) r.painted++;
  }
  const box = el.querySelector('.bic-canvas');
  const ec = box && window.echarts && echarts.getInstanceByDom(box);
  if (ec) {
    const series = ec.getOption().series || [];
    for (const s of series) {
      r.points += (s.data || []).filter(v => v !== null && v !== undefined && (typeof v !== 'object' || v.value !== null)).length;
    }
    if (blank) {
      ec.setOption({animation: false, series: series.map(s => Object.assign({}, s, {data: []}))});
      ec.getZr().flush();
      pixels().forEach((d, k) => {
        for (let i = 0; i < d.length; i += 4) {
          const b = before[k];
          if (d[i] !== b[i] || d[i + 1] !== b[i + 1] || d[i + 2] !== b[i + 2] || d[i + 3] !== b[i + 3]) r.data++;
        }
      });
    }
  }
  const html = el.querySelector('.bic-big, .bic-table');
  if (html) r.text = html.innerText.trim();
  r.rows = el.querySelectorAll('.bic-table tbody tr').length;
  return r;
})`

// report is what the page shows of its charts now.
func (p *page) report() []chartReport {
	p.t.Helper()
	return evaluate[[]chartReport](p, "("+chartsJS+")(false)")
}

// wantDrawn checks that every chart drew and returns them: a canvas
// chart has data points in its series, and they drew at least 0.2% of its
// canvas (the pixels that change when the series lose their data; a
// chart's axes and legend alone paint 1–3%, a heatmap's scale 75%); a
// big number shows a value, a table rows. It is a page's last look at its
// charts (see chartsJS).
func (p *page) wantDrawn() []chartReport {
	p.t.Helper()
	charts := evaluate[[]chartReport](p, "("+chartsJS+")(true)")
	if len(charts) == 0 {
		p.t.Fatalf("%s: no charts", p.url)
	}
	var least *chartReport
	for i, c := range charts {
		switch {
		case c.Error != "":
			p.t.Errorf("%s: chart %s (%s) shows an error: %s", p.url, c.Name, c.Type, c.Error)
		case c.Type == "big_number":
			if c.Text == "" || c.Text == "\u2013" {
				p.t.Errorf("%s: big number %s shows no value: %q", p.url, c.Name, c.Text)
			}
		case c.Type == "table":
			if c.Rows == 0 {
				p.t.Errorf("%s: table %s has no rows: %q", p.url, c.Name, c.Text)
			}
		case c.Canvases == 0 || c.Area == 0:
			p.t.Errorf("%s: chart %s (%s) has no canvas with an area: %+v", p.url, c.Name, c.Type, c)
		case c.Points == 0 || c.Data*500 < c.Area:
			p.t.Errorf("%s: chart %s (%s) looks blank: %d data points drew %d of its %d pixels (%d painted in all)", p.url, c.Name, c.Type, c.Points, c.Data, c.Area, c.Painted)
		}
		if c.Area > 0 && (least == nil || float64(c.Data)/float64(c.Area) < float64(least.Data)/float64(least.Area)) {
			least = &charts[i]
		}
	}
	if least != nil {
		p.t.Logf("%s: %d charts drawn; the data of %s drew the least, %.1f%% of its %d pixels", p.url, len(charts), least.Name, 100*float64(least.Data)/float64(least.Area), least.Area)
	}
	return charts
}

// wantClean checks that every request went where the page may load from,
// and that the console has no error or warning: no console.error, no
// uncaught exception, no browser log entry of level error other than
// those expected says.
func (p *page) wantClean(expected func(*log.Entry) bool) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.requests {
		u, err := url.Parse(r)
		if err != nil || !(u.Scheme == "data" || u.Scheme == "blob" || p.allowed(u)) {
			p.t.Errorf("%s: requested %s, outside what it may load from", p.url, r)
		}
	}
	for _, l := range p.console {
		switch {
		case l.entry != nil && expected != nil && expected(l.entry):
		case l.level == "error" || l.level == "assert" || l.level == "exception" || l.level == "warning":
			p.t.Errorf("%s: console %s: %s", p.url, l.level, l.text)
		}
	}
}

func (p *page) consoleLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, l := range p.console {
		out = append(out, l.level+": "+l.text)
	}
	return out
}

// apiRequests is the chart API requests of the page whose URL has query.
func (p *page) apiRequests(query string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, r := range p.requests {
		if strings.Contains(r, "/api/charts/") && strings.Contains(r, query) {
			out = append(out, r)
		}
	}
	return out
}

// status is the HTTP status of the response to u, 0 when none arrived.
func (p *page) status(u string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.statuses[u]
}

// wantLinks checks that the page links to each of links (relative hrefs).
func (p *page) wantLinks(links []string) {
	p.t.Helper()
	hrefs := evaluate[[]string](p, `Array.from(document.querySelectorAll('a[href]'), a => a.getAttribute('href'))`)
	for _, l := range links {
		if !slices.Contains(hrefs, l) {
			p.t.Errorf("%s links to %v, not to %s", p.url, hrefs, l)
		}
	}
}

// wantThumbnails checks that the index shows n thumbnails, each a
// 600×400 picture that loaded.
func (p *page) wantThumbnails(n int) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`Array.from(document.images).every(i => i.complete)`,
		chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		p.t.Fatalf("%s: the thumbnails did not load: %v", p.url, err)
	}
	sizes := evaluate[[]string](p, `Array.from(document.images, i => i.naturalWidth + 'x' + i.naturalHeight)`)
	if len(sizes) != n {
		p.t.Errorf("%s shows %d thumbnails, want %d: %v", p.url, len(sizes), n, sizes)
	}
	for _, s := range sizes {
		if s != "600x400" {
			p.t.Errorf("%s: a thumbnail of %s, want 600x400 (all: %v)", p.url, s, sizes)
		}
	}
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
