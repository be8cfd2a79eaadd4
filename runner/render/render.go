package render

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
)

// Defaults of Options.
const (
	DefaultTabs    = 2
	DefaultTimeout = 30 * time.Second
)

// Options configure a Renderer.
type Options struct {
	// Storage holds the bundles that pages are loaded from.
	Storage storage.Reader
	// ChromePath is the Chromium binary; empty means $BIC_CHROME, else
	// the first of chromium, chromium-browser, google-chrome on PATH.
	ChromePath string
	// Tabs bounds the renders that run at once, each in a tab of its
	// own, kept open between renders. Default 2.
	Tabs int
	// Timeout bounds one render, from the wait for a tab to the image.
	// Default 30 s.
	Timeout time.Duration
	// Log receives the browser's starts and restarts. Default: discard.
	Log *slog.Logger
}

// Validate reports what is missing from o.
func (o Options) Validate() error {
	switch {
	case o.Storage == nil:
		return errors.New("render: no storage")
	case o.Tabs < 0:
		return fmt.Errorf("render: %d tabs", o.Tabs)
	case o.Timeout < 0:
		return fmt.Errorf("render: timeout %s", o.Timeout)
	}
	return nil
}

// ErrNoChrome is returned by New when no Chromium binary is found.
var ErrNoChrome = errors.New("render: no Chromium found (set BIC_CHROME to its path)")

// ErrClosed is returned by Render after Close.
var ErrClosed = errors.New("render: renderer closed")

// Renderer draws pages in one headless Chromium, shared by every render
// of a runner process. It is safe for concurrent use.
type Renderer struct {
	opts   Options
	chrome string
	log    *slog.Logger
	host   *host
	slots  chan struct{} // one per tab: the renders that may run at once

	wg      sync.WaitGroup // tabs being returned to the pool, browsers stopping
	mu      sync.Mutex
	b       *browser
	closed  bool
	started int // browsers started, for tests and logs
}

// New makes a Renderer and starts its loopback page host; Chromium starts
// on the first render.
func New(ctx context.Context, o Options) (*Renderer, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Tabs == 0 {
		o.Tabs = DefaultTabs
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	chrome, err := findChrome(o.ChromePath)
	if err != nil {
		return nil, err
	}
	h, err := newHost(ctx, o.Storage, o.Log)
	if err != nil {
		return nil, err
	}
	r := &Renderer{opts: o, chrome: chrome, log: o.Log, host: h, slots: make(chan struct{}, o.Tabs)}
	return r, nil
}

// findChrome is path, or $BIC_CHROME, or Chromium on PATH.
func findChrome(path string) (string, error) {
	if path == "" {
		path = os.Getenv("BIC_CHROME")
	}
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("render: chromium %s: %w", path, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChrome
}

// Close stops Chromium, removes its user data directory and stops the
// page host. Renders that run fail.
func (r *Renderer) Close() error {
	r.mu.Lock()
	b := r.b
	r.b, r.closed = nil, true
	r.mu.Unlock()
	if b != nil {
		b.stop()
	}
	r.wg.Wait()
	return r.host.close()
}

// browser returns the running browser, starting one when there is none
// or the last one died.
func (r *Renderer) browser(ctx context.Context) (*browser, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, false, ErrClosed
	}
	if r.b != nil && r.b.alive() {
		return r.b, false, nil
	}
	if r.b != nil {
		r.log.Warn("render: chromium is gone; starting another")
		old := r.b
		r.wg.Add(1)
		go func() { defer r.wg.Done(); old.stop() }()
		r.b = nil
	}
	b, err := r.startBrowser(ctx)
	if err != nil {
		return nil, false, err
	}
	r.b = b
	r.started++
	return b, true, nil
}

// discard drops b after a render found it gone, unless another render
// did so already.
func (r *Renderer) discard(b *browser) {
	r.mu.Lock()
	if r.b == b {
		r.b = nil
	}
	r.mu.Unlock()
	b.stop()
}

// acquire returns an idle tab of b, or opens one.
func (r *Renderer) acquire(ctx context.Context, b *browser) (*tab, error) {
	select {
	case t := <-b.idle:
		if t.ctx.Err() == nil {
			return t, nil
		}
	default:
	}
	return b.newTab(ctx, r.host.base(), r.log)
}

// release returns t to b's pool once it shows a blank page, or closes it.
func (r *Renderer) release(b *browser, t *tab) {
	t.allow("")
	ctx, cancel := context.WithTimeout(t.ctx, 5*time.Second)
	defer cancel()
	if err := blank(ctx); err != nil || !b.alive() {
		t.cancel()
		return
	}
	select {
	case b.idle <- t:
	default:
		t.cancel()
	}
}

// Render draws one dashboard, or one chart of it, and returns its PNG. A
// chart that shows an error or no data gives a *RenderError and no
// image. When Chromium turns out to be gone (it crashed or was killed)
// the render is tried once more in a new one.
func (r *Renderer) Render(ctx context.Context, req Request) (Result, error) {
	start := time.Now()
	if err := req.check(); err != nil {
		return Result{}, err
	}
	s, err := newBundle(req.Release, req.Dashboard, req.PageKey)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("render %s: wait for a tab: %w", req.what(), ctx.Err())
	}
	// The slot is held until the tab is back in the pool: the caller
	// gets its image before the tab is blanked.
	var used *tab
	var usedIn *browser
	defer func() {
		if used == nil {
			<-r.slots
			return
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.release(usedIn, used)
			<-r.slots
		}()
	}()

	for attempt := 0; ; attempt++ {
		b, fresh, err := r.browser(ctx)
		if err != nil {
			return Result{}, err
		}
		t, err := r.acquire(ctx, b)
		if err != nil && !browserGone(b, err) {
			return Result{}, fmt.Errorf("render %s: %w", req.what(), err)
		}
		var res Result
		if err == nil {
			res, err = r.renderIn(ctx, t, s, req)
			if err == nil || !browserGone(b, err) {
				used, usedIn = t, b
				if err != nil {
					return res, err // with Cells, those that drew
				}
				res.Took = time.Since(start)
				return res, nil
			}
			t.cancel()
		}
		r.discard(b)
		if fresh || attempt > 0 || ctx.Err() != nil {
			return Result{}, fmt.Errorf("render %s: chromium is gone: %w", req.what(), err)
		}
		r.log.Warn("render: chromium is gone; rendering again in a new one", "dashboard", req.Dashboard, "chart", req.Chart, "err", err)
	}
}

// renderIn runs one render in t, its bundle reachable while it runs.
func (r *Renderer) renderIn(ctx context.Context, t *tab, s *bundle, req Request) (Result, error) {
	prefix, remove := r.host.register(s)
	defer remove()
	t.allow(prefix)
	res, err := drawPage(ctx, t, prefix+"e/"+s.rel.Env+"/d/"+s.dashboard, req)
	res.Blocked = t.allow("")
	if len(res.Blocked) > 0 {
		r.log.Warn("render: blocked requests of a page", "dashboard", req.Dashboard, "blocked", res.Blocked)
	}
	return res, err
}

// browsersStarted reports how many browsers this Renderer started.
func (r *Renderer) browsersStarted() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started
}

// Request names what to draw.
type Request struct {
	Release *release.Release
	// ReleaseKey is the release's blob key, for messages.
	ReleaseKey string
	Dashboard  string
	// Chart is one chart of the dashboard to draw alone, filling the
	// viewport; empty draws the whole dashboard.
	Chart string
	// PageKey is a state page of the dashboard (a value of its
	// StatePages) to draw instead of its default page.
	PageKey string
	// Width and Height are the viewport in CSS pixels, such as 1200×800
	// for a dashboard or 600×400 for a chart.
	Width, Height int
	// Scale is the device scale factor (default 1): 2 gives an image of
	// twice the width and height.
	Scale float64
	// Full draws the whole height of the page instead of the viewport.
	Full bool
	// Cells draws the whole page once (its full height at Width) and
	// returns each chart's card cropped as the page lays it out, in
	// Result.Cells: every chart's thumbnail from one page load. Chart must
	// be empty.
	Cells bool
}

// maxSide bounds an image's side in CSS pixels.
const maxSide = 8192

func (q *Request) check() error {
	if q.Scale == 0 {
		q.Scale = 1
	}
	switch {
	case q.Release == nil:
		return errors.New("render: no release")
	case q.Dashboard == "":
		return errors.New("render: no dashboard")
	case q.Width <= 0 || q.Height <= 0 || q.Width > maxSide || q.Height > maxSide:
		return fmt.Errorf("render %s: size %d×%d is not within 1–%d", q.what(), q.Width, q.Height, maxSide)
	case q.Scale < 0.25 || q.Scale > 4:
		return fmt.Errorf("render %s: scale %g is not within 0.25–4", q.what(), q.Scale)
	case q.Cells && q.Chart != "":
		return fmt.Errorf("render %s: cells are drawn from the whole dashboard, not one chart", q.what())
	}
	return nil
}

// what names the request in messages: dashboard or dashboard/chart.
func (q Request) what() string {
	if q.Chart != "" {
		return q.Dashboard + "/" + q.Chart
	}
	return q.Dashboard
}

// Result is a rendered image.
type Result struct {
	PNG           []byte
	Width, Height int // of the PNG, in pixels
	Took          time.Duration
	// Blocked lists what the page asked for outside its bundle; the
	// browser refused each.
	Blocked []string
	// Cells are, with Request.Cells, the PNG of each chart's card by
	// chart name (PNG is then the whole page); a chart in error has none
	// (the RenderError returned with them names it).
	Cells map[string][]byte
}
