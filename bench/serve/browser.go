package main

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/bic-dev/bic/bench/internal/benchkit"
)

// browserTimeout bounds one page load until every chart has drawn.
const browserTimeout = 30 * time.Second

// browserResult is the largest dashboard's page loads in Chromium.
type browserResult struct {
	chrome    string // the binary
	version   string // what the browser says it is (Browser.getVersion)
	dashboard string
	runs      int
	// loads are by setup: served cold and warm, exported cold and warm.
	loads []browserLoads
}

// browserLoads are the page loads of one setup.
type browserLoads struct {
	setup string
	url   string
	loads []pageLoad
}

// pageLoad is one page load's figures, each from the page's own clock:
// milliseconds since navigation start.
type pageLoad struct {
	navType   string  // navigate or reload (the Navigation Timing entry's type)
	fetched   float64 // the last byte of the page and of every resource it loaded had arrived
	dcl       float64 // DOMContentLoaded fired
	drawn     float64 // the performance mark bic-drawn: every chart shows its first frame of data
	rendered  float64 // body's data-bic-rendered became "true": every chart's animation done
	charts    int     // section.bic-cell in the page
	errors    int     // charts with a data-bic-error
	requests  int     // requests the load made
	fromCache int     // of them, answered from the browser's cache without the network
	notMod    int     // of them, answered 304 Not Modified
	// server is what bic serve answered during the load, by status code
	// and route (from its /metrics); nil for a file:// page.
	server map[string]int
}

// renderedWatchJS runs before any script of each new document: it notes
// performance.now() when body's data-bic-rendered first becomes "true",
// as a mutation observer's callback (a microtask after the page sets it),
// so that the figure does not depend on how often the bench polls.
const renderedWatchJS = `(() => {
  const seen = () => {
    if (window.__bicRenderedAt === undefined && document.body && document.body.dataset.bicRendered === 'true') {
      window.__bicRenderedAt = performance.now();
    }
  };
  new MutationObserver(seen).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-bic-rendered']});
})();`

// timingsJS reads one load's figures once it has rendered.
const timingsJS = `(() => {
  const n = performance.getEntriesByType('navigation')[0] || {};
  const d = performance.getEntriesByName('bic-drawn')[0];
  const ends = [n.responseEnd || 0].concat(performance.getEntriesByType('resource').map(e => e.responseEnd));
  return {
    type: n.type || '', fetched: Math.max.apply(null, ends), dcl: n.domContentLoadedEventStart || -1, drawn: d ? d.startTime : -1,
    rendered: window.__bicRenderedAt === undefined ? -1 : window.__bicRenderedAt,
    charts: document.querySelectorAll('section.bic-cell').length,
    errors: document.querySelectorAll('section.bic-cell[data-bic-error]').length,
  };
})()`

type timings struct {
	Type     string  `json:"type"`
	Fetched  float64 `json:"fetched"`
	DCL      float64 `json:"dcl"`
	Drawn    float64 `json:"drawn"`
	Rendered float64 `json:"rendered"`
	Charts   int     `json:"charts"`
	Errors   int     `json:"errors"`
}

// startBrowser starts headless Chromium with a user data folder that
// chromedp makes and removes, and the same window and flags as the
// browser test of cmd/bic.
func startBrowser(ctx context.Context, chrome string) (context.Context, func(), error) {
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox, // as root, in a container
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 1024),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancel := chromedp.NewContext(allocCtx)
	stop := func() { cancel(); cancelAlloc() }
	// The first Do starts the browser and must have no deadline: its
	// context is the browser's lifetime.
	if err := chromedp.Do(bctx); err != nil {
		stop()
		return nil, nil, fmt.Errorf("start %s: %w", chrome, err)
	}
	return bctx, stop, nil
}

// browserTests times the page of the dashboard with the most charts
// (pages are the weighed ones, which count each page's charts) from bic
// serve at base and from the static export that `bic publish --out site`
// writes of the project proj.
func browserTests(ctx context.Context, c config, proj, base string, pages []pageWeight, site string) (*browserResult, error) {
	if len(pages) == 0 {
		return nil, fmt.Errorf("no dashboard page to load in the browser")
	}
	largest := pages[0]
	for _, p := range pages[1:] {
		if len(p.refs.data) > len(largest.refs.data) {
			largest = p
		}
	}
	name := path.Base(largest.name)
	if out, err := bicCmd(ctx, c.bic, "publish", "-p", proj, "--env", "prod", "--out", site).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("bic publish --out %s: %w\n%s", site, err, tail(out))
	}
	return browserLoadTimes(ctx, c, name, [][3]string{
		{"bic serve", base + largest.name, strings.TrimPrefix(base, "http://")},
		{"static export (bic publish --out), file://", "file://" + filepath.ToSlash(filepath.Join(site, "e", "prod", "d", name+".html")), ""},
	})
}

// browserLoadTimes loads each of urls (a setup's name, the URL and the
// host:port of its bic serve, "" for none) runs times in Chromium at
// chrome: after an unrecorded run, each run opens a fresh browser context
// (an empty cache, no open connection: a first visit) and loads the page
// cold, then reloads it warm, with the assets in the cache; the runs of
// the setups alternate.
func browserLoadTimes(ctx context.Context, c config, dashboard string, urls [][3]string) (*browserResult, error) {
	bctx, stop, err := startBrowser(ctx, c.chrome)
	if err != nil {
		return nil, err
	}
	defer stop()
	v, err := chromedp.CallBrowser(bctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		return nil, fmt.Errorf("chromium's version: %w", err)
	}
	r := &browserResult{chrome: c.chrome, version: v.Product, dashboard: dashboard, runs: c.browserRuns}
	// An unrecorded first load of each setup in a context of its own: the
	// browser process starts its services (network, renderer) once, as a
	// browser that a viewer already has open has done.
	for _, u := range urls {
		if _, _, err := coldAndWarm(bctx, u[1], u[2]); err != nil {
			return nil, err
		}
		r.loads = append(r.loads, browserLoads{setup: u[0] + ", cold", url: u[1]}, browserLoads{setup: u[0] + ", warm", url: u[1]})
	}
	// Runs interleave the setups, so that a burst of the machine's other
	// work falls on all of them rather than on one.
	for i := range c.browserRuns {
		for j, u := range urls {
			progress(c, "chromium %d/%d: %s", i+1, c.browserRuns, u[1])
			lc, lw, err := coldAndWarm(bctx, u[1], u[2])
			if err != nil {
				return nil, err
			}
			cold, warm := &r.loads[2*j], &r.loads[2*j+1]
			cold.loads, warm.loads = append(cold.loads, lc), append(warm.loads, lw)
		}
	}
	return r, nil
}

// coldAndWarm opens url in a tab of a new browser context and reloads it;
// serverAddr is bic serve's host:port, "" for a file:// URL.
func coldAndWarm(bctx context.Context, url, serverAddr string) (cold, warm pageLoad, err error) {
	tab, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel()
	n := &netCount{}
	n.reset()
	if err := chromedp.Listen(tab, n.listen); err != nil {
		return cold, warm, fmt.Errorf("open a tab: %w", err)
	}
	watch := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: renderedWatchJS})
		return err
	})
	if err := chromedp.Do(tab, watch); err != nil {
		return cold, warm, fmt.Errorf("watch the rendered signal: %w", err)
	}
	if cold, err = loadOnce(tab, n, url, serverAddr, chromedp.Navigate(url)); err != nil {
		return cold, warm, err
	}
	warm, err = loadOnce(tab, n, url, serverAddr, chromedp.Reload())
	return cold, warm, err
}

// loadOnce runs nav (which waits for the load event), waits until every
// chart has drawn and reads the load's figures.
func loadOnce(tab context.Context, n *netCount, url, serverAddr string, nav chromedp.Action[chromedp.Void]) (pageLoad, error) {
	ctx, cancel := context.WithTimeout(tab, browserTimeout)
	defer cancel()
	n.reset()
	var before map[string]float64
	if serverAddr != "" {
		var err error
		if before, err = serverCodes(ctx, serverAddr); err != nil {
			return pageLoad{}, err
		}
	}
	if err := chromedp.Do(ctx, nav); err != nil {
		return pageLoad{}, fmt.Errorf("load %s: %w", url, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.__bicRenderedAt !== undefined`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(browserTimeout))); err != nil {
		return pageLoad{}, fmt.Errorf("%s: not rendered within %s: %w", url, browserTimeout, err)
	}
	t, err := chromedp.Run(ctx, chromedp.Evaluate[timings](timingsJS))
	if err != nil {
		return pageLoad{}, fmt.Errorf("%s: read the timings: %w", url, err)
	}
	if t.Drawn < 0 || t.Rendered < 0 || t.DCL < 0 || t.Charts == 0 {
		return pageLoad{}, fmt.Errorf("%s: incomplete timings %+v", url, t)
	}
	l := pageLoad{navType: t.Type, fetched: t.Fetched, dcl: t.DCL, drawn: t.Drawn, rendered: t.Rendered, charts: t.Charts, errors: t.Errors}
	l.requests, l.fromCache, l.notMod = n.counts()
	if serverAddr != "" {
		after, err := serverCodes(ctx, serverAddr)
		if err != nil {
			return pageLoad{}, err
		}
		l.server = map[string]int{}
		for code, v := range after {
			if d := int(v - before[code]); d != 0 {
				l.server[code] = d
			}
		}
	}
	return l, nil
}

// netCount counts a tab's requests to the network (not data: URLs) and
// how they were answered; it runs on chromedp's reading goroutine. A
// request answered from the cache may be reported both as served from
// cache and with a disk-cache response, so requests are counted by id. A
// revalidated response is reported as the cached 200; its extra info has
// the 304 that came over the wire.
type netCount struct {
	mu                        sync.Mutex
	requests, cached, notMods map[network.RequestID]bool
}

func (n *netCount) listen(ev any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if !strings.HasPrefix(ev.Request.URL, "data:") {
			n.requests[ev.RequestID] = true
		}
	case *network.EventRequestServedFromCache:
		n.cached[ev.RequestID] = true
	case *network.EventResponseReceived:
		if ev.Response.FromDiskCache {
			n.cached[ev.RequestID] = true
		}
	case *network.EventResponseReceivedExtraInfo:
		if ev.StatusCode == 304 {
			n.notMods[ev.RequestID] = true
		}
	}
}

func (n *netCount) reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.requests, n.cached, n.notMods = map[network.RequestID]bool{}, map[network.RequestID]bool{}, map[network.RequestID]bool{}
}

// counts are the requests, those answered from the cache and those
// answered 304.
func (n *netCount) counts() (requests, cached, notMod int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for id := range n.requests {
		if n.cached[id] {
			cached++
		}
		if n.notMods[id] {
			notMod++
		}
	}
	return len(n.requests), cached, notMod
}

// serverCodes are the responses bic serve counted (its /metrics at addr),
// by status code and route ("200 asset"), leaving out the scrapes of
// /metrics.
func serverCodes(ctx context.Context, addr string) (map[string]float64, error) {
	s := benchkit.Scrape{}
	if err := s.Get(ctx, addr); err != nil {
		return nil, err
	}
	label := func(labels, name string) string {
		_, rest, _ := strings.Cut(labels, name+`="`)
		v, _, _ := strings.Cut(rest, `"`)
		return v
	}
	codes := map[string]float64{}
	for k, v := range s {
		labels, ok := strings.CutPrefix(k, "bic_server_requests_total{")
		if !ok || label(labels, "route") == "metrics" {
			continue
		}
		codes[label(labels, "code")+" "+label(labels, "route")] += v
	}
	return codes, nil
}
