package render

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// pollInterval is how often a render asks the page whether it has drawn.
const pollInterval = 15 * time.Millisecond

// ChartError is a chart that shows an error or no data instead of its
// data: its name and the message the page shows.
type ChartError struct {
	Chart   string `json:"chart"`
	Message string `json:"message"`
}

// RenderError is a render that delivers no image because charts show an
// error or no data. Its message says which, in words, for the delivery
// that would have carried the image.
type RenderError struct {
	Dashboard string
	Charts    []ChartError
}

func (e *RenderError) Error() string {
	var b strings.Builder
	for i, c := range e.Charts {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "chart %s/%s shows an error: %s", e.Dashboard, c.Chart, c.Message)
		if !strings.HasSuffix(c.Message, ".") {
			b.WriteString(".")
		}
	}
	return b.String()
}

// ErrNoChart is wrapped when a request names a chart that the page does
// not have.
var ErrNoChart = errors.New("no such chart on the page")

// isolateJS, evaluated before the page's scripts when one chart is drawn
// alone, leaves only that chart on the page, filling the viewport: once
// the document is parsed (before bic.js starts drawing, at
// DOMContentLoaded) it removes the other charts, hides the page's header
// and filters, and sizes the chart's card to the viewport, so ECharts
// draws at that size from its first frame. %s is the chart's name as a
// JSON string.
const isolateJS = `(function () {
  var name = %s;
  function isolate() {
    if (document.readyState !== 'interactive') return;
    document.removeEventListener('readystatechange', isolate);
    var keep = document.getElementById('chart-' + name);
    if (!keep) return;
    Array.prototype.forEach.call(document.querySelectorAll('section.bic-cell'), function (el) { if (el !== keep) el.remove(); });
    keep.setAttribute('data-bic-only', '');
    var st = document.createElement('style');
    st.textContent = 'html, body { margin: 0 !important; padding: 0 !important; overflow: hidden !important; }' +
      'body > :not(main) { display: none !important; }' +
      '.bic-grid, .bic-row { display: block !important; margin: 0 !important; padding: 0 !important; }' +
      '[data-bic-only] { box-sizing: border-box; width: 100vw; height: 100vh; margin: 0; border-radius: 0; }' +
      '[data-bic-only] .bic-body { max-height: none !important; }' +
      '[data-bic-only] .bic-canvas { position: absolute; inset: 0; width: auto; height: auto; }';
    document.head.appendChild(st);
  }
  document.addEventListener('readystatechange', isolate);
})();`

// renderedJS is true once bic.js has drawn every chart or shown its
// message.
const renderedJS = `document.body !== null && document.body.dataset.bicRendered === 'true'`

// errorsJS reads the charts that show an error (only the one asked for,
// when one is), and whether the page has that chart.
const errorsJS = `((only) => ({
  found: !only || document.getElementById('chart-' + only) !== null,
  errors: Array.from(document.querySelectorAll('section.bic-cell[data-bic-error]'))
    .filter(el => !only || el.dataset.chart === only)
    .map(el => ({chart: el.dataset.chart || '', message: el.getAttribute('data-bic-error') || ''})),
}))(%s)`

// heightJS is the page's whole height in CSS pixels.
const heightJS = `Math.ceil(Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0))`

type pageState struct {
	Found  bool         `json:"found"`
	Errors []ChartError `json:"errors"`
}

// drawPage loads u in t and screenshots it as req asks, within ctx.
func drawPage(ctx context.Context, t *tab, u string, req Request) (Result, error) {
	// Actions run on the tab's chromedp context, ended with ctx.
	actx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	if dl, ok := ctx.Deadline(); ok {
		var c2 context.CancelFunc
		actx, c2 = context.WithDeadline(actx, dl)
		defer c2()
	}
	fail := func(what string, err error) (Result, error) {
		if ctx.Err() != nil && actx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return Result{}, fmt.Errorf("render %s: %s: %w", req.what(), what, err)
	}

	if req.Chart != "" {
		name, _ := json.Marshal(req.Chart)
		added, err := chromedp.Call(actx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: fmt.Sprintf(isolateJS, name)})
		if err != nil {
			return fail("isolate the chart", err)
		}
		defer func() {
			// On the tab's context: the script must go even when the
			// render ran out of time, or it would isolate the next page.
			rctx, cancel := context.WithTimeout(t.ctx, 5*time.Second)
			defer cancel()
			chromedp.Call(rctx, page.RemoveScriptToEvaluateOnNewDocument, page.RemoveScriptToEvaluateOnNewDocumentParams(added))
		}()
	}
	if err := chromedp.Do(actx, chromedp.EmulateViewport(int64(req.Width), int64(req.Height), chromedp.EmulateScale(req.Scale))); err != nil {
		return fail("set the viewport", err)
	}
	t0 := time.Now()
	resp, err := chromedp.Run(actx, chromedp.NavigateResponse(u))
	if err != nil {
		return fail("load the page", err)
	}
	if resp != nil && resp.Status != 200 {
		return fail("load the page", fmt.Errorf("status %d", resp.Status))
	}
	timeout := time.Until(deadlineOf(actx))
	if _, err := chromedp.Run(actx, chromedp.Poll[bool](renderedJS, chromedp.WithPollingInterval(pollInterval), chromedp.WithPollingTimeout(timeout))); err != nil {
		return fail("wait for the charts to draw", err)
	}
	t1 := time.Now()
	only, _ := json.Marshal(req.Chart)
	st, err := chromedp.Run(actx, chromedp.Evaluate[pageState](fmt.Sprintf(errorsJS, only)))
	if err != nil {
		return fail("read the charts' state", err)
	}
	if !st.Found {
		return Result{}, fmt.Errorf("render %s: %w", req.what(), ErrNoChart)
	}
	if req.Cells {
		return drawCells(actx, req, st.Errors)
	}
	if len(st.Errors) > 0 {
		return Result{}, &RenderError{Dashboard: req.Dashboard, Charts: st.Errors}
	}
	shot := chromedp.CaptureScreenshot()
	if req.Full && req.Chart == "" {
		shot = fullScreenshot(req.Width)
	}
	b, err := chromedp.Run(actx, shot)
	if err != nil {
		return fail("screenshot", err)
	}
	t.log.Debug("render: page drawn", "dashboard", req.Dashboard, "chart", req.Chart,
		"load", t1.Sub(t0).Round(time.Millisecond).String(), "screenshot", time.Since(t1).Round(time.Millisecond).String())
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return fail("read the screenshot", err)
	}
	return Result{PNG: b, Width: cfg.Width, Height: cfg.Height}, nil
}

// cellsJS lists each chart's card on the page, in CSS pixels from the
// document's top left.
const cellsJS = `Array.from(document.querySelectorAll('section.bic-cell[data-chart]')).map(el => {
  const r = el.getBoundingClientRect();
  return {chart: el.dataset.chart, x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height};
})`

type cellRect struct {
	Chart string  `json:"chart"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	W     float64 `json:"w"`
	H     float64 `json:"h"`
}

// drawCells screenshots the whole page once and crops each chart's card
// from it; the charts in failed (in error) get no picture, and the
// RenderError returned with the others names them.
func drawCells(ctx context.Context, req Request, failed []ChartError) (Result, error) {
	b, err := chromedp.Run(ctx, fullScreenshot(req.Width))
	if err != nil {
		return Result{}, fmt.Errorf("render %s: screenshot: %w", req.what(), err)
	}
	rects, err := chromedp.Run(ctx, chromedp.Evaluate[[]cellRect](cellsJS))
	if err != nil {
		return Result{}, fmt.Errorf("render %s: read the charts' places: %w", req.what(), err)
	}
	page, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return Result{}, fmt.Errorf("render %s: read the screenshot: %w", req.what(), err)
	}
	sub, ok := page.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		return Result{}, fmt.Errorf("render %s: the screenshot cannot be cropped (%T)", req.what(), page)
	}
	bad := map[string]bool{}
	for _, f := range failed {
		bad[f.Chart] = true
	}
	// The screenshot's pixels per CSS pixel: the device scale.
	k := float64(page.Bounds().Dx()) / float64(req.Width)
	res := Result{PNG: b, Width: page.Bounds().Dx(), Height: page.Bounds().Dy(), Cells: map[string][]byte{}}
	for _, c := range rects {
		if bad[c.Chart] || c.W < 1 || c.H < 1 {
			continue
		}
		r := image.Rect(int(math.Floor(c.X*k)), int(math.Floor(c.Y*k)), int(math.Ceil((c.X+c.W)*k)), int(math.Ceil((c.Y+c.H)*k))).Intersect(page.Bounds())
		if r.Empty() {
			continue
		}
		var out bytes.Buffer
		if err := png.Encode(&out, sub.SubImage(r)); err != nil {
			return Result{}, fmt.Errorf("render %s: crop chart %s: %w", req.what(), c.Chart, err)
		}
		res.Cells[c.Chart] = out.Bytes()
	}
	if len(failed) > 0 {
		return res, &RenderError{Dashboard: req.Dashboard, Charts: failed}
	}
	return res, nil
}

// fullScreenshot captures the page's whole height at the viewport's width.
func fullScreenshot(width int) chromedp.Action[[]byte] {
	return func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		h, err := chromedp.Evaluate[float64](heightJS)(ctx, t)
		if err != nil {
			return nil, err
		}
		h = math.Min(math.Max(h, 1), maxSide)
		res, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			CaptureBeyondViewport: ptr(true),
			FromSurface:           ptr(true),
			Clip:                  &page.Viewport{X: 0, Y: 0, Width: float64(width), Height: h, Scale: 1},
		})
		if err != nil {
			return nil, err
		}
		return res.Data, nil
	}
}

// blank shows about:blank in the tab of ctx, so that a pooled tab holds
// no page (and runs no script) between renders.
func blank(ctx context.Context) error {
	return chromedp.Do(ctx, chromedp.Navigate("about:blank"))
}

// deadlineOf is ctx's deadline, or a minute from now.
func deadlineOf(ctx context.Context) time.Time {
	if dl, ok := ctx.Deadline(); ok {
		return dl
	}
	return time.Now().Add(time.Minute)
}

func ptr[T any](v T) *T { return &v }
