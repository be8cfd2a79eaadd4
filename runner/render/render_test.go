package render

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bic-dev/bic/runner/servicetest"
)

// newRenderer makes a Renderer on the fixture's store with the test's
// Chromium, closed when the test ends.
func newRenderer(t testing.TB, f *fixture, tabs int) *Renderer {
	t.Helper()
	chrome := servicetest.Chrome(t)
	r, err := New(context.Background(), Options{Storage: f.store, ChromePath: chrome, Tabs: tabs, Timeout: 45 * time.Second,
		Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: testLogLevel}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return r
}

// testLogLevel is the level of the renderer's log in tests:
// BIC_TEST_RENDER_DEBUG=1
// shows each render's phases.
var testLogLevel = func() slog.Level {
	if os.Getenv("BIC_TEST_RENDER_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}()

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (f *fixture) request(dashboard, chart string, w, h int, scale float64) Request {
	return Request{Release: f.rel, ReleaseKey: f.key, Dashboard: dashboard, Chart: chart, Width: w, Height: h, Scale: scale}
}

// wantPicture checks that res is a w×h PNG that shows something: its
// luminance varies and it has many colours (antialiased text and lines).
func wantPicture(t *testing.T, what string, res Result, w, h int) {
	t.Helper()
	img, stddev, colours := pixelStats(t, res.PNG)
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h || res.Width != w || res.Height != h {
		t.Errorf("%s: image %d×%d (result says %d×%d), want %d×%d", what, b.Dx(), b.Dy(), res.Width, res.Height, w, h)
	}
	if stddev < 4 || colours < 24 {
		t.Errorf("%s: the image looks blank: luminance deviation %.1f, %d colours", what, stddev, colours)
	}
	t.Logf("%s: %d×%d, %d bytes, luminance deviation %.1f, %d colours, %s", what, w, h, len(res.PNG), stddev, colours, res.Took.Round(time.Millisecond))
}

// TestRenderDashboard draws the dashboard with every chart type at
// 1200×800, at scale 1 and 2 (twice the pixels each way), and its whole
// height.
func TestRenderDashboard(t *testing.T) {
	f := newFixture(t, nil)
	r := newRenderer(t, f, 2)
	ctx := context.Background()
	for _, scale := range []float64{1, 2} {
		res, err := r.Render(ctx, f.request("all", "", 1200, 800, scale))
		if err != nil {
			t.Fatalf("scale %g: %v", scale, err)
		}
		wantPicture(t, fmt.Sprintf("all at scale %g", scale), res, int(1200*scale), int(800*scale))
		if len(res.Blocked) != 0 {
			t.Errorf("a bic page asked for what it may not load: %v", res.Blocked)
		}
	}
	req := f.request("all", "", 1200, 800, 1)
	req.Full = true
	res, err := r.Render(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Width != 1200 || res.Height <= 800 {
		t.Errorf("the whole page of nine charts is %d×%d, want 1200 wide and taller than the 800 of the viewport", res.Width, res.Height)
	}
	wantPicture(t, "all, whole page", res, res.Width, res.Height)
	if n := r.browsersStarted(); n != 1 {
		t.Errorf("%d browsers started for three renders, want one kept warm", n)
	}
}

// TestRenderChartTypes draws each of the nine chart types alone at
// 600×400: each image is the chart filling the viewport, and not blank.
func TestRenderChartTypes(t *testing.T) {
	f := newFixture(t, nil)
	r := newRenderer(t, f, 2)
	for _, c := range chartTypes {
		t.Run(c, func(t *testing.T) {
			t.Parallel() // two at a time, one per tab
			res, err := r.Render(context.Background(), f.request("all", c, 600, 400, 1))
			if err != nil {
				t.Fatal(err)
			}
			wantPicture(t, "all/"+c, res, 600, 400)
		})
	}
}

// TestRenderChartError: a chart that was never computed ("No data yet")
// or whose result has no rows gives a RenderError that names each in
// words, and no image; drawing a chart of the same page that has data
// succeeds, and one that the page lacks is ErrNoChart.
func TestRenderChartError(t *testing.T) {
	f := newFixture(t, nil)
	r := newRenderer(t, f, 2)
	ctx := context.Background()
	tests := []struct {
		name, chart string
		want        []ChartError
	}{
		{"Dashboard", "", []ChartError{
			{"missing", "No data yet: this chart has not been computed."},
			{"empty", "No rows for this filter state."},
		}},
		{"NoData", "missing", []ChartError{{"missing", "No data yet: this chart has not been computed."}}},
		{"NoRows", "empty", []ChartError{{"empty", "No rows for this filter state."}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.Render(ctx, f.request("gaps", tt.chart, 800, 600, 1))
			var re *RenderError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a RenderError", err)
			}
			if res.PNG != nil {
				t.Error("a failed render delivered an image")
			}
			if !slices.Equal(re.Charts, tt.want) {
				t.Errorf("charts in error = %+v, want %+v", re.Charts, tt.want)
			}
			for _, c := range tt.want {
				if want := "chart gaps/" + c.Chart + " shows an error: " + c.Message; !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
	t.Run("FineChart", func(t *testing.T) {
		res, err := r.Render(ctx, f.request("gaps", "fine", 600, 400, 1))
		if err != nil {
			t.Fatal(err)
		}
		wantPicture(t, "gaps/fine", res, 600, 400)
	})
	t.Run("NoSuchChart", func(t *testing.T) {
		if _, err := r.Render(ctx, f.request("gaps", "nope", 600, 400, 1)); !errors.Is(err, ErrNoChart) {
			t.Errorf("err = %v, want ErrNoChart", err)
		}
	})
}

// TestRenderBlocksNetwork: a page that asks for a script on the internet,
// an image and a fetch from another port of loopback gets none of them
// (the server on that port sees no request), the render still delivers
// and lists what was blocked; its own stylesheet loads.
func TestRenderBlocksNetwork(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer other.Close()
	page := `<!DOCTYPE html><html><head><link rel="stylesheet" href="../assets/bic.css"></head><body><p>leaky</p>
<script src="https://example.com/x.js"></script>
<img src="` + other.URL + `/leak.png">
<script>
window.addEventListener('load', function () {
  var css = getComputedStyle(document.body).margin;
  fetch('` + other.URL + `/fetch').then(function () { return 'reached'; }, function () { return 'failed'; }).then(function (r) {
    document.body.dataset.fetch = r;
    document.body.dataset.css = css;
    document.body.dataset.bicRendered = 'true';
  });
});
</script></body></html>`
	f := newFixture(t, map[string]string{"leaky": page})
	r := newRenderer(t, f, 1)
	res, err := r.Render(context.Background(), f.request("leaky", "", 400, 300, 1))
	if err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the other server got %d requests from the page", n)
	}
	for _, want := range []string{"https://example.com/x.js", other.URL + "/leak.png", other.URL + "/fetch"} {
		if !slices.Contains(res.Blocked, want) {
			t.Errorf("blocked %v, want %s among them", res.Blocked, want)
		}
	}
	for _, u := range res.Blocked {
		if strings.Contains(u, "/assets/bic.css") {
			t.Errorf("the page's own stylesheet was blocked: %s", u)
		}
	}
}

// TestRenderAnimationSwitch: window.BIC_NO_ANIMATION is set before the
// page's first script runs (bic.js reads it to draw without ECharts'
// animation): the page paints itself black when it is, red when not.
func TestRenderAnimationSwitch(t *testing.T) {
	page := `<!DOCTYPE html><html><body style="margin:0"><script>
document.body.style.height = '100vh';
document.body.style.background = window.BIC_NO_ANIMATION === true ? 'rgb(0, 0, 0)' : 'rgb(255, 0, 0)';
document.body.dataset.bicRendered = 'true';
</script></body></html>`
	f := newFixture(t, map[string]string{"switch": page})
	r := newRenderer(t, f, 1)
	res, err := r.Render(context.Background(), f.request("switch", "", 64, 48, 1))
	if err != nil {
		t.Fatal(err)
	}
	img, _, _ := pixelStats(t, res.PNG)
	if c, _, _, _ := img.At(10, 10).RGBA(); c != 0 {
		t.Errorf("the page did not see BIC_NO_ANIMATION: pixel %v", img.At(10, 10))
	}
}

// TestRenderTimeout: a page that never says it has drawn (a chart still
// loading) gives an error once the render's time is up, never an image,
// and the tab serves the next render.
func TestRenderTimeout(t *testing.T) {
	f := newFixture(t, map[string]string{"stuck": `<!DOCTYPE html><html><body><p>loading…</p></body></html>`})
	chrome := servicetest.Chrome(t)
	r, err := New(context.Background(), Options{Storage: f.store, ChromePath: chrome, Tabs: 1, Timeout: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// A warm browser first, so that the deadline falls while the stuck page
	// waits, not while a busy machine starts Chromium and loads the page.
	if _, err := r.Render(context.Background(), f.request("all", "big_number", 300, 200, 1)); err != nil {
		t.Fatalf("the first render: %v", err)
	}
	start := time.Now()
	res, err := r.Render(context.Background(), f.request("stuck", "", 200, 100, 1))
	if err == nil || res.PNG != nil {
		t.Fatalf("a page that never drew: err %v, %d bytes of image", err, len(res.PNG))
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "wait for the charts to draw") {
		t.Errorf("err = %v, want the deadline while waiting for the charts", err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the render of 4s took %s", took)
	}
	if _, err := r.Render(context.Background(), f.request("all", "big_number", 300, 200, 1)); err != nil {
		t.Errorf("the next render: %v", err)
	}
}

// TestRenderRestartsChromium: after the Chromium process is killed, the
// next render succeeds in a new one, and the old one's user data
// directory is removed.
func TestRenderRestartsChromium(t *testing.T) {
	f := newFixture(t, nil)
	r := newRenderer(t, f, 2)
	ctx := context.Background()
	if _, err := r.Render(ctx, f.request("all", "bar", 300, 200, 1)); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	b := r.b
	r.mu.Unlock()
	p := b.process()
	if p == nil {
		t.Fatal("no Chromium process")
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	res, err := r.Render(ctx, f.request("all", "bar", 300, 200, 1))
	if err != nil {
		t.Fatalf("render after killing Chromium: %v", err)
	}
	wantPicture(t, "all/bar after a restart", res, 300, 200)
	if n := r.browsersStarted(); n != 2 {
		t.Errorf("%d browsers started, want 2", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(b.dir); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the killed browser's user data directory %s is still there", b.dir)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRenderConcurrent: six renders at once on two tabs all succeed, and
// the browser never holds more than two tabs of renders.
func TestRenderConcurrent(t *testing.T) {
	f := newFixture(t, nil)
	r := newRenderer(t, f, 2)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			c := chartTypes[i%len(chartTypes)]
			res, err := r.Render(ctx, f.request("all", c, 400, 300, 1))
			if err == nil && (res.Width != 400 || res.Height != 300) {
				err = fmt.Errorf("image %d×%d", res.Width, res.Height)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("render %d: %v", i, err)
		}
	}
	r.mu.Lock()
	b := r.b
	r.mu.Unlock()
	targets, err := chromedp.Targets(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	for _, ti := range targets {
		if ti.Type == "page" {
			pages++
		}
	}
	// The browser's first tab, plus at most one per render slot.
	if pages > 3 {
		t.Errorf("%d page targets after the renders, want at most 3", pages)
	}
}

// TestRenderRefusesRequests: bad requests fail before any browser work.
func TestRenderRefusesRequests(t *testing.T) {
	f := newFixture(t, nil)
	r := newRenderer(t, f, 1)
	for name, req := range map[string]Request{
		"NoDashboard":  f.request("nope", "", 100, 100, 1),
		"ZeroSize":     f.request("all", "", 0, 100, 1),
		"HugeScale":    f.request("all", "", 100, 100, 9),
		"ForeignPage":  {Release: f.rel, Dashboard: "all", PageKey: f.rel.Dashboards["gaps"].Page, Width: 100, Height: 100},
		"NoRelease":    {Dashboard: "all", Width: 100, Height: 100},
		"OversizeSide": f.request("all", "", 100000, 100, 1),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := r.Render(context.Background(), req); err == nil {
				t.Error("rendered")
			}
		})
	}
	if n := r.browsersStarted(); n != 0 {
		t.Errorf("%d browsers started for requests that were all refused", n)
	}
}

// BenchmarkRenderDashboard draws the dashboard of nine charts at
// 1200×800 in a warm browser.
func BenchmarkRenderDashboard(b *testing.B) {
	f := newFixture(b, nil)
	r := newRenderer(b, f, 2)
	ctx := context.Background()
	req := f.request("all", "", 1200, 800, 1)
	if _, err := r.Render(ctx, req); err != nil {
		b.Fatal(err)
	}
	n, start := 0, time.Now()
	for b.Loop() {
		if _, err := r.Render(ctx, req); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(n), "ms/op")
}

// TestRenderCells: one page load gives every chart's card cropped as the
// page lays it out, none blank; on a page with charts in error, the good
// ones are drawn and the RenderError names the others, which get none.
func TestRenderCells(t *testing.T) {
	f := newFixture(t, nil)
	r := newRenderer(t, f, 2)
	ctx := context.Background()
	req := f.request("all", "", 1200, 800, 1)
	req.Cells = true
	res, err := r.Render(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cells) != len(chartTypes) {
		t.Fatalf("%d cells, want one per chart type (%d)", len(res.Cells), len(chartTypes))
	}
	keys := map[string]bool{req.Key(nil): true}
	for _, c := range chartTypes {
		png := res.Cells[c]
		img, _, _ := pixelStats(t, png)
		b := img.Bounds()
		if b.Dx() < 200 || b.Dx() > 1200 || b.Dy() < 100 {
			t.Errorf("cell %s is %d×%d, want a card of the 1200-wide layout", c, b.Dx(), b.Dy())
		}
		wantPicture(t, "cell "+c, Result{PNG: png, Width: b.Dx(), Height: b.Dy()}, b.Dx(), b.Dy())
		k := req.CellKey(c)
		if keys[k] {
			t.Errorf("cell %s's key %s is another picture's", c, k)
		}
		keys[k] = true
	}

	gaps := f.request("gaps", "", 1200, 800, 1)
	gaps.Cells = true
	res, err = r.Render(ctx, gaps)
	var re *RenderError
	if !errors.As(err, &re) || len(re.Charts) != 2 {
		t.Fatalf("err = %v, want a RenderError naming missing and empty", err)
	}
	if _, ok := res.Cells["fine"]; !ok || len(res.Cells) != 1 {
		t.Errorf("cells of gaps: %d (fine drawn: %v), want fine alone", len(res.Cells), ok)
	}
	chart := f.request("all", "line", 600, 400, 1)
	chart.Cells = true
	if _, err := r.Render(ctx, chart); err == nil {
		t.Error("cells of one chart were drawn, want a refusal")
	}
}
