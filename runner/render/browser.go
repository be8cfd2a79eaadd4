package render

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// browser is one Chromium process and its idle tabs. It is discarded
// whole when it dies; the Renderer then starts another on next use.
type browser struct {
	ctx         context.Context // the browser's lifetime: its first tab's context
	cancel      context.CancelFunc
	cancelAlloc context.CancelFunc
	dir         string // its user data directory, removed by stop
	idle        chan *tab
	lost        <-chan struct{} // closed when the connection to Chromium drops

	stopOnce sync.Once
}

// chromeFlags are Chromium's switches for rendering pages and nothing
// else: no GPU, no scrollbars in screenshots, no sound, no first-run or
// background work, and no network beyond loopback. The proxy is a dead
// port on loopback, which Chromium bypasses for loopback itself: a
// request that the tab's interception does not see (a worker's, a
// preconnect) still cannot leave the machine.
func chromeFlags(path, dir string) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("dns-prefetch-disable", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("proxy-server", "http://127.0.0.1:9"),
		chromedp.Flag("force-webrtc-ip-handling-policy", "disable_non_proxied_udp"),
	}
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root (a container's
		// usual user); as any other user it stays on.
		opts = append(opts, chromedp.NoSandbox)
	}
	return opts
}

// startBrowser starts Chromium and waits until it answers, or until ctx
// ends. The browser's own lifetime does not derive from ctx: it outlives
// the render that started it.
func (r *Renderer) startBrowser(ctx context.Context) (*browser, error) {
	dir, err := os.MkdirTemp("", "bic-chromium-")
	if err != nil {
		return nil, fmt.Errorf("render: user data directory: %w", err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromeFlags(r.chrome, dir)...)
	bctx, cancel := chromedp.NewContext(allocCtx)
	b := &browser{ctx: bctx, cancel: cancel, cancelAlloc: cancelAlloc, dir: dir, idle: make(chan *tab, r.opts.Tabs)}
	started := make(chan error, 1)
	// The first Run's context is the browser's lifetime: no deadline on
	// it; the wait for it is bounded below instead.
	go func() { started <- chromedp.Do(bctx) }()
	select {
	case err = <-started:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		b.stop()
		return nil, fmt.Errorf("render: start %s: %w", r.chrome, err)
	}
	b.lost = chromedp.FromContext(bctx).Browser.LostConnection
	if p := b.process(); p != nil {
		r.log.Info("render: chromium started", "pid", p.Pid, "path", r.chrome)
	}
	return b, nil
}

// process is the Chromium process, or nil.
func (b *browser) process() *os.Process {
	c := chromedp.FromContext(b.ctx)
	if c == nil || c.Browser == nil {
		return nil
	}
	return c.Browser.Process()
}

// alive reports whether the browser can still be used.
func (b *browser) alive() bool {
	if b.ctx.Err() != nil {
		return false
	}
	select {
	case <-b.lost:
		return false
	default:
		return true
	}
}

// stop ends Chromium (its tabs with it) and removes its user data
// directory. It is safe to call more than once.
func (b *browser) stop() {
	b.stopOnce.Do(func() {
		b.cancel()
		b.cancelAlloc() // waits for the process to exit
		os.RemoveAll(b.dir)
	})
}

// tab is one page target of a browser, reused across renders. Its
// interception lets through only requests to the prefix of the render it
// runs (none between renders).
type tab struct {
	ctx    context.Context
	cancel context.CancelFunc
	target *chromedp.Target
	origin string // the page host's
	log    *slog.Logger

	mu      sync.Mutex
	allowed string   // the URL prefix this render may load; "" allows nothing
	blocked []string // what the page asked for outside it
}

// animationOff is evaluated in each new document of a tab before the
// page's scripts: bic.js draws without ECharts' animation when it is set,
// so a screenshot does not wait for it.
const animationOff = `window.BIC_NO_ANIMATION = true;`

// newTab opens a tab on b, with request interception and the animation
// switch in place.
func (b *browser) newTab(ctx context.Context, origin string, log *slog.Logger) (*tab, error) {
	tctx, cancel := chromedp.NewContext(b.ctx)
	t := &tab{ctx: tctx, cancel: cancel, origin: origin, log: log}
	// Opening the tab happens on tctx (whose lifetime is the tab's);
	// ctx only bounds the wait.
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	if err := chromedp.Do(tctx); err != nil {
		cancel()
		return nil, fmt.Errorf("render: open a tab: %w", err)
	}
	t.target = chromedp.FromContext(tctx).Target
	paused := chromedp.Events(tctx, fetch.RequestPaused)
	go t.intercept(paused)
	setup := func(ctx context.Context, tg *chromedp.Target) error {
		// Every request pauses until intercept lets it through or fails it.
		if _, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}}); err != nil {
			return fmt.Errorf("intercept requests: %w", err)
		}
		if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: animationOff}); err != nil {
			return fmt.Errorf("add the animation switch: %w", err)
		}
		return nil
	}
	if err := chromedp.Do(tctx, chromedp.Func(setup)); err != nil {
		cancel()
		return nil, fmt.Errorf("render: set up a tab: %w", err)
	}
	if ctx.Err() != nil {
		cancel()
		return nil, ctx.Err()
	}
	return t, nil
}

// intercept decides every request of the tab: one below the current
// render's prefix goes on, any other fails as blocked by the client. It
// runs until the tab closes.
func (t *tab) intercept(paused iter.Seq2[fetch.EventRequestPaused, error]) {
	for ev, err := range paused {
		if err != nil {
			return
		}
		t.mu.Lock()
		ok := t.allowed != "" && strings.HasPrefix(ev.Request.URL, t.allowed)
		// Chromium asks the page's origin for its icon by itself: refused,
		// but not the page's doing.
		if !ok && ev.Request.URL != t.origin+"/favicon.ico" {
			t.blocked = append(t.blocked, ev.Request.URL)
		}
		t.mu.Unlock()
		// The answer is sent on the tab's own context: a render that ends
		// meanwhile must not leave the request paused for the next.
		if ok {
			_, err = cdp.Call(t.ctx, t.target, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		} else {
			_, err = cdp.Call(t.ctx, t.target, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		}
		if err != nil && t.ctx.Err() != nil {
			return
		}
	}
}

// allow sets the prefix the tab may load from and clears what it blocked
// so far; it returns what was blocked since the last call.
func (t *tab) allow(prefix string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	blocked := t.blocked
	t.allowed, t.blocked = prefix, nil
	return blocked
}

// browserGone reports whether err says that Chromium itself is gone (it
// crashed, was killed, or its connection dropped), rather than that one
// page failed.
func browserGone(b *browser, err error) bool {
	if err == nil {
		return false
	}
	if !b.alive() {
		return true
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "lost the connection to the browser") || strings.Contains(s, "websocket") || strings.Contains(s, "broken pipe")
}
