package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bic-dev/bic/bench/internal/benchkit"
	"github.com/bic-dev/bic/runner/servicetest"
)

func TestReferences(t *testing.T) {
	tests := []struct {
		name string
		html string
		want pageRefs
	}{
		{
			name: "scripts and a stylesheet load; a canonical link and an anchor do not",
			html: `<link rel="stylesheet" href="../assets/bic.css"><link rel="canonical" href="/x">` +
				`<script src="../assets/echarts.min.js"></script><script src='../assets/bic.js'></script>` +
				`<a href="../d/other">other</a>`,
			want: pageRefs{assets: []string{"../assets/bic.css", "../assets/echarts.min.js", "../assets/bic.js"}},
		},
		{
			name: "an asset named twice is loaded once; a data: URL not at all",
			html: `<script src="a.js"></script><script src="a.js"></script><link rel="icon preload" href="i.png"><link rel="icon" href="data:,">`,
			want: pageRefs{assets: []string{"a.js", "i.png"}},
		},
		{
			name: "inline data is not fetched; a chart without it is",
			html: `<script type="application/json" class="bic-spec">{"name":"a","api":"../api/charts/d/a"}</script>` +
				`<script type="application/json" class="bic-data">{}</script>` +
				`<script type="application/json" class="bic-spec">{"name":"b","api":"../api/charts/d/b"}</script>` +
				`<a class="bic-csv" href="../csv/d/a" download>CSV</a>`,
			want: pageRefs{data: []string{"../api/charts/d/a", "../api/charts/d/b"}, inline: 1, fetchedOnLoad: 1, downloads: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := references(tt.html)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(pageRefs{})); diff != "" {
				t.Errorf("references (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseWrk(t *testing.T) {
	const out = `Running 2s test @ http://127.0.0.1:18081/e/prod/api/charts/sales/revenue_by_month
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.79ms    1.67ms  17.52ms   74.21%
    Req/Sec    10.03k     1.77k   15.00k    72.50%
  Latency Distribution
     50%  812.00us
     75%    2.40ms
     90%    3.80ms
     99%    7.75ms
  39972 requests in 2.01s, 149.51MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  19901.49
Transfer/sec:     74.44MB
`
	got, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	want := &wrkResult{rps: 19901.49, p50: 812 * time.Microsecond, p99: 7750 * time.Microsecond, requests: 39972, errors: "3 non-2xx responses"}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(wrkResult{})); diff != "" {
		t.Errorf("parseWrk (-want +got):\n%s", diff)
	}
	if _, err := parseWrk("Requests/sec: 1\n"); err == nil {
		t.Error("parseWrk without a latency distribution: no error")
	}
}

// TestRunSmall runs the command's parts that need no wrk and no nginx on
// examples/shop and a second phase of 3 dashboards, so that it cannot
// rot: it builds bic, applies, serves, weighs the pages and reads the
// RSS. It checks what was found, never how fast.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bic and applies examples/shop; run without -short")
	}
	ctx := context.Background()
	bin, remove, err := benchkit.BuildBic(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	c := config{bic: bin, shop: "../../examples/shop", skipWrk: true, skipNginx: true, dashboards: 3}
	rep, err := run(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.pages) != 3 {
		t.Fatalf("%d pages weighed, want examples/shop's 3", len(rep.pages))
	}
	for _, p := range rep.pages {
		if p.html == 0 || p.htmlGzip == 0 || p.htmlGzip >= p.html {
			t.Errorf("%s: %d bytes raw, %d gzip", p.name, p.html, p.htmlGzip)
		}
		if len(p.refs.assets) == 0 || p.assets == 0 || p.assetsZ >= p.assets {
			t.Errorf("%s: assets %v, %d bytes raw, %d gzip", p.name, p.refs.assets, p.assets, p.assetsZ)
		}
		if len(p.refs.data) == 0 {
			t.Errorf("%s references no chart data", p.name)
		}
	}
	if _, ok := rep.assets["/e/prod/assets/echarts.min.js"]; !ok {
		t.Errorf("assets %v lack echarts.min.js", rep.assets)
	}
	if rep.rssIdle == 0 {
		t.Error("no idle RSS")
	}
	if rep.loads != nil || rep.rssAfter != 0 {
		t.Error("load figures without wrk")
	}
	m := rep.many
	if m == nil || m.dashboards != 3 || m.rssIdle == 0 || m.rssHot == 0 || m.pageBytes == 0 {
		t.Fatalf("second phase: %+v", m)
	}
	var b strings.Builder
	rep.print(&b, c)
	for _, want := range []string{"| `/e/prod/d/sales`: requests of a first load | **4**", "| 3 dashboards: after each page was requested once"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, b.String())
		}
	}
}

// TestRunServices runs the parts that need Chromium and a NATS server,
// once each and small: the largest dashboard's page loads cold and warm,
// served and exported, and two filter states that were not precomputed,
// answered by runners, then again and a precomputed one. It checks what
// was measured, never how fast.
func TestRunServices(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bic, starts Chromium and runners; run without -short")
	}
	chrome := servicetest.Chrome(t)
	natsURL := servicetest.NATS(t)
	ctx := context.Background()
	bin, remove, err := benchkit.BuildBic(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	c := config{bic: bin, shop: "../../examples/shop", skipWrk: true, skipNginx: true,
		browserRuns: 1, chrome: chrome, ondemandStates: 2, nats: natsURL}
	rep, err := run(ctx, c)
	if err != nil {
		t.Fatal(err)
	}

	b := rep.browser
	if b == nil || b.dashboard != "sales" || b.version == "" || len(b.loads) != 4 {
		t.Fatalf("browser: %+v", b)
	}
	for _, l := range b.loads {
		if len(l.loads) != 1 {
			t.Fatalf("%s: %d loads, want 1", l.setup, len(l.loads))
		}
		p := l.loads[0]
		if p.charts < 10 || p.errors != 0 || p.requests == 0 || !(0 < p.dcl && 0 < p.fetched && p.dcl <= p.rendered && 0 < p.drawn && p.drawn <= p.rendered) {
			t.Errorf("%s: %+v", l.setup, p)
		}
		if want := map[bool]string{false: "navigate", true: "reload"}[strings.HasSuffix(l.setup, "warm")]; p.navType != want {
			t.Errorf("%s: navigation type %q, want %q", l.setup, p.navType, want)
		}
	}

	o := rep.ondemand
	if o == nil || len(o.phases) != 4 {
		t.Fatalf("on-demand: %+v", o)
	}
	first, again, pre, all := o.phases[0], o.phases[1], o.phases[2], o.phases[3]
	for _, p := range o.phases {
		if len(p.times) != 2 || p.bytesAvg == 0 {
			t.Errorf("%s: %+v", p.name, p)
		}
	}
	// A chart whose query the filter does not change finds the default
	// state's entry in the cache.
	if n := 2 * o.charts; o.charts < 10 || all.requests != n || all.states != 2 || all.hits+all.misses != float64(n) || all.misses == 0 || all.queries != all.misses {
		t.Errorf("every chart at once, 2 states: %+v, want %d requests of 2 state keys, each a cache lookup, a query for each miss", all, n)
	}
	if first.states != 2 || first.misses != 2 || first.queries != 2 {
		t.Errorf("first requests of 2 states: %+v, want 2 state keys, 2 cache misses, 2 warehouse queries", first)
	}
	// bic serve keeps the runners' answers until their data is stale.
	if again.states != 2 || again.hits+again.misses+again.queries != 0 {
		t.Errorf("the same states again: %+v, want 2 state keys and nothing asked of the runners", again)
	}
	if pre.states != 1 || pre.hits+pre.misses+pre.queries != 0 {
		t.Errorf("a precomputed state: %+v, want one state key and nothing asked of the runners", pre)
	}

	var out strings.Builder
	rep.print(&out, c)
	for _, want := range []string{"page load in Chromium**: `sales`", "| bic serve, warm |", "on-demand filter state", "| the same states again", "at once"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
}
