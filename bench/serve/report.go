package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
)

// report is one run's figures; a nil or empty part was not measured.
type report struct {
	wrk       string
	shopApply time.Duration
	pages     []pageWeight
	assets    map[string][2]int64 // asset path → raw, gzip bytes
	loads     []loadResult
	// rssIdle is bic serve's RSS once /readyz answers, rssAfter after
	// every wrk run.
	rssIdle, rssAfter int64
	many              *manyResult
	browser           *browserResult
	ondemand          *onDemandResult
	// load is /proc/loadavg at the start and the end: the machine is
	// shared, and its other work skews every figure here.
	load [2]string
}

// print writes the notes and the markdown table.
func (r *report) print(w io.Writer, c config) {
	if len(r.loads) > 0 {
		fmt.Fprintf(w, "%s on loopback, `wrk %s URL` for every setup, %d rounds with the setups interleaved (the first after an unrecorded %s warm-up of each); each figure is the median of the rounds, with the range of requests/s in brackets. No Accept-Encoding unless the row says gzip. "+
			"The bare Go handler is a goroutine of this bench process (net/http, one listener per body, no routing: it writes the bytes `bic serve` sent, with the same Content-Type and bic serve's server timeouts). ",
			r.wrk, strings.Join(wrkArgs(c, c.duration), " "), c.rounds, wrkDuration(warmup))
		if !c.skipNginx {
			fmt.Fprint(w, "nginx (a child process, `worker_processes auto`: one worker per CPU, `access_log off`, sendfile) serves the same bytes as files at the same paths with the same Content-Type. ")
		}
		fmt.Fprintln(w, "wrk, the servers and this process share the machine's CPUs.")
		fmt.Fprintln(w)
	}
	if b := r.browser; b != nil {
		fmt.Fprintf(w, "Chromium: %s (%s), headless, a 1280×1024 window, no GPU, driven by chromedp. After one unrecorded load and reload of each setup (the browser process starts its network and renderer services once, as a browser a viewer has open already did), each of %d runs (the setups alternating) opens a new browser context (an empty cache, no open connection: a first visit) with one tab, loads the page (cold) and reloads it (warm: Page.reload; the requests column says how the browser answered them). "+
			"Times are the page's own clock, ms since navigation start: fetched is the latest responseEnd of the page's and its resources' timing entries (the last byte of the page and its assets had arrived); DOMContentLoaded is Navigation Timing's domContentLoadedEventStart; drawn is the performance mark `bic-drawn` that bic.js sets once every chart has shown its first frame of data; rendered is performance.now() when body's data-bic-rendered becomes \"true\" (seen by a mutation observer that the bench adds before any page script), once every chart's entry animation has ended.\n\n",
			b.version, b.chrome, b.runs)
	}
	if o := r.ondemand; o != nil {
		fmt.Fprintf(w, "On-demand filter states: examples/shop applied by %d `bic runner` processes on the NATS server at %s (a stream of this run's own), metadata in SQLite and storage in a folder, shared by the runners, `bic apply` and `bic serve --nats`; each a process of its own on this machine. "+
			"Requests are one at a time from this process (Go's HTTP client, a kept-alive connection), timed until the body is read; every answer was a 200. The runners' figures are the change of their /metrics over each series.\n\n",
			o.runners, o.nats)
	}
	if r.load[0] != "" {
		fmt.Fprintf(w, "The machine has %d CPUs and is shared with other work; load average (1, 5, 15 min): %s at the start, %s at the end.\n\n",
			runtime.NumCPU(), r.load[0], r.load[1])
	}
	fmt.Fprintln(w, "| figure | measured | goal |")
	fmt.Fprintln(w, "| --- | --- | --- |")
	row := func(name, value, goal string) { fmt.Fprintf(w, "| %s | %s | %s |\n", name, value, goal) }

	for i, t := range targets {
		results := r.loadsOf(t.path)
		if len(results) == 0 {
			continue
		}
		row(fmt.Sprintf("**%d. %s** `%s` (%s)", i+1, t.label, t.path, size(int64(results[0].bytes))), "requests/s; p99 (p50)", "")
		var bic, bare *loadResult
		for _, l := range results {
			goal := ""
			if l.setup == setupBic {
				goal = "p99 < 10 ms " + benchkit.Mark(l.p99 < 10*time.Millisecond)
				bic = &l
			}
			if l.setup == setupGo {
				bare = &l
			}
			v := fmt.Sprintf("%s/s; %s (%s)", thousands(int64(l.rps+0.5)), benchkit.Dur(l.p99), benchkit.Dur(l.p50))
			if len(l.runs) > 1 {
				lo, hi := l.runs[0].rps, l.runs[0].rps
				for _, r := range l.runs {
					lo, hi = min(lo, r.rps), max(hi, r.rps)
				}
				v = fmt.Sprintf("%s/s [%s–%s]; %s (%s)", thousands(int64(l.rps+0.5)), thousands(int64(lo+0.5)), thousands(int64(hi+0.5)), benchkit.Dur(l.p99), benchkit.Dur(l.p50))
			}
			if l.setup == setupBic {
				v = "**" + v + "**"
			}
			if l.errors != "" {
				v += "; " + l.errors
			}
			row(l.setup, v, goal)
		}
		if bic != nil && bare != nil && bare.rps > 0 {
			ratio := bic.rps / bare.rps
			row("bic serve ÷ bare Go handler (requests/s)", fmt.Sprintf("**%.2f×**", math.Floor(ratio*100)/100), "≥ 0.9× "+benchkit.Mark(ratio >= 0.9))
		}
		for _, l := range results {
			if l.setup == setupNginx && bic != nil && l.rps > 0 {
				row("bic serve ÷ nginx (requests/s)", fmt.Sprintf("%.2f×", bic.rps/l.rps), "")
			}
		}
	}

	n := len(targets)
	if len(r.pages) > 0 {
		n++
		row(fmt.Sprintf("**%d. page weight** (examples/shop, bytes as bic serve sends them)", n), "raw / gzip", "")
		for _, p := range r.pages {
			raw, gz := p.total()
			row(fmt.Sprintf("`%s`: HTML; + assets = total", p.name),
				fmt.Sprintf("%s / %s; + %s / %s = **%s / %s**", size(p.html), size(p.htmlGzip), size(p.assets), size(p.assetsZ), size(raw), size(gz)), "")
			row(fmt.Sprintf("`%s`: requests of a first load", p.name), fmt.Sprintf(
				"**%d**: the page, %d assets, %d chart data (%d charts' data inline in the page; their %d data URLs are fetched when a filter changes; %d CSV download links)",
				p.requests(), len(p.refs.assets), p.refs.fetchedOnLoad, p.refs.inline, len(p.refs.data), p.refs.downloads), "")
		}
		paths := make([]string, 0, len(r.assets))
		for a := range r.assets {
			paths = append(paths, a)
		}
		slices.Sort(paths)
		var parts []string
		for _, a := range paths {
			parts = append(parts, fmt.Sprintf("`%s` %s / %s", a, size(r.assets[a][0]), size(r.assets[a][1])))
		}
		row("assets, shared by the pages", strings.Join(parts, "; "), "")
	}

	if b := r.browser; b != nil {
		n++
		charts := 0
		if len(b.loads) > 0 && len(b.loads[0].loads) > 0 {
			charts = b.loads[0].loads[0].charts
		}
		row(fmt.Sprintf("**%d. page load in Chromium**: `%s`, the dashboard with the most charts (%d), %d runs of each", n, b.dashboard, charts, b.runs),
			"median / max, ms since navigation start: fetched; DOMContentLoaded; **drawn**; rendered", "")
		for _, l := range b.loads {
			fetched, dcl := l.series(func(p pageLoad) float64 { return p.fetched }), l.series(func(p pageLoad) float64 { return p.dcl })
			drawn, rendered := l.series(func(p pageLoad) float64 { return p.drawn }), l.series(func(p pageLoad) float64 { return p.rendered })
			v := fmt.Sprintf("%s; %s; **%s**; %s; %s", fetched, dcl, drawn, rendered, l.requests())
			goal := ""
			if strings.HasPrefix(l.setup, "bic serve") {
				goal = "drawn < 500 ms " + benchkit.Mark(drawn.max < 500)
			}
			row(l.setup, v, goal)
		}
	}
	if o := r.ondemand; o != nil {
		n++
		row(fmt.Sprintf("**%d. on-demand filter state**: `GET %s?…` through `bic serve --nats`, NATS and %d runners", n, onDemandChart, o.runners),
			"median / p90 / max (min); what the runners did meanwhile", "")
		row("examples/shop: `bic apply --wait`, the jobs done by the runners", benchkit.Dur(o.apply), "")
		for _, p := range o.phases {
			q := quantiles(p.times)
			v := fmt.Sprintf("**%s** / %s / %s (%s); %d requests, %d distinct state keys, %s each; runners: %s warehouse queries, %s cache hits, %s misses",
				benchkit.Dur(q.median), benchkit.Dur(q.p90), benchkit.Dur(q.max), benchkit.Dur(q.min), p.requests, p.states, size(p.bytesAvg),
				thousands(int64(p.queries)), thousands(int64(p.hits)), thousands(int64(p.misses)))
			name := fmt.Sprintf("%s (e.g. `%s`)", p.name, p.example)
			if len(p.times) != p.requests {
				name = fmt.Sprintf("%s (e.g. `%s`; %d batches, each timed until its slowest answer)", p.name, p.example, len(p.times))
			}
			row(name, v, "")
		}
	}

	n++
	row(fmt.Sprintf("**%d. memory**: RSS of the `bic serve` process (/proc/PID/status VmRSS)", n), "", "")
	row("examples/shop (3 dashboards): idle after startup", size(r.rssIdle), "")
	if r.rssAfter > 0 {
		row("examples/shop: after the wrk runs", size(r.rssAfter), "")
	}
	if m := r.many; m != nil {
		row(fmt.Sprintf("%s one-chart dashboards: `bic apply --wait`; file storage", thousands(int64(m.dashboards))),
			fmt.Sprintf("%s; %s in %s files", benchkit.Dur(m.apply), size(m.artifacts), thousands(int64(m.artifactsObjects))), "")
		row(fmt.Sprintf("%s dashboards: idle after startup", thousands(int64(m.dashboards))), size(m.rssIdle), "")
		row(fmt.Sprintf("%s dashboards: after each page was requested once (%s of pages in %s, one at a time)", thousands(int64(m.dashboards)), size(m.pageBytes), benchkit.Dur(m.pages)),
			"**"+size(m.rssHot)+"**", "")
	}
}

// loadsOf are the load results of one target, in the order they ran.
func (r *report) loadsOf(path string) []loadResult {
	var out []loadResult
	for _, l := range r.loads {
		if l.target == path {
			out = append(out, l)
		}
	}
	return out
}

// size prints bytes exactly below 10 KiB, else in KiB or MiB.
func size(b int64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20))
	case b >= 10<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	default:
		return thousands(b) + " B"
	}
}

// thousands prints n with commas between groups of three digits.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
