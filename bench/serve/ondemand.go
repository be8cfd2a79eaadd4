package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bic-dev/bic/bench/internal/benchkit"
)

// onDemandChart is the chart whose filter states are asked for: the one
// of the wrk runs.
const onDemandChart = "/e/prod/api/charts/sales/revenue_by_month"

// onDemandPage is the dashboard whose charts are all asked at once, and
// onDemandDashboardStates how many states of it at most.
const (
	onDemandPage            = "/e/prod/d/sales"
	onDemandDashboardStates = 10
)

// onDemandRunners is how many `bic runner` processes answer.
const onDemandRunners = 2

// onDemandResult is what a filter state that was not precomputed costs
// through bic serve, NATS and the runners.
type onDemandResult struct {
	nats    string
	runners int
	apply   time.Duration // bic apply --wait of examples/shop, done by the runners
	charts  int           // of onDemandPage
	// phases are in the order they ran: each state for the first time,
	// the same states again, and a precomputed state.
	phases []onDemandPhase
}

// onDemandPhase is one series of requests, one at a time, and what the
// runners did meanwhile (their /metrics before and after).
type onDemandPhase struct {
	name     string
	example  string          // one of its URLs' query
	times    []time.Duration // of each request; of the slowest of each parallel batch
	requests int
	states   int     // distinct X-Bic-State-Key answers
	queries  float64 // bic_warehouse_queries_total
	hits     float64 // bic_cache_lookups_total{result="hit"}
	misses   float64 // bic_cache_lookups_total{result="miss"}
	bytesAvg int64   // mean body size
}

// onDemandTimes applies examples/shop with the runners on a NATS server
// (a stream and request subject of this run's own, deleted after), serves
// it with `bic serve --nats` and times chart requests in filter states
// that were not precomputed. Metadata is SQLite in the project folder,
// storage a local folder: the runners, bic apply and bic serve are
// separate processes on this machine.
func onDemandTimes(ctx context.Context, c config, dir string) (*onDemandResult, error) {
	proj := filepath.Join(dir, "shop")
	if err := benchkit.CopyProject(c.shop, proj); err != nil {
		return nil, err
	}
	stream := fmt.Sprintf("BENCH_SERVE_%d", time.Now().UnixNano())
	defer benchkit.DeleteStream(context.WithoutCancel(ctx), c.nats, stream)
	env := append(benchkit.EmbeddedEnv(), "BIC_NATS_URL="+c.nats, "BIC_NATS_STREAM="+stream)

	// One runner at a time, so that the first has created the metadata
	// database and the stream before the next opens them.
	var runners []*child
	defer func() {
		for _, r := range runners {
			r.stop()
		}
	}()
	var metrics []string
	for i := range onDemandRunners {
		addr, err := benchkit.FreeAddr()
		if err != nil {
			return nil, err
		}
		r, err := startChild(ctx, "bic runner", filepath.Join(dir, fmt.Sprintf("runner-%d.log", i)), env,
			"http://"+addr+"/metrics", c.bic, "runner", "-p", proj, "--metrics-addr", addr)
		if err != nil {
			return nil, err
		}
		runners, metrics = append(runners, r), append(metrics, addr)
	}
	res := &onDemandResult{nats: c.nats, runners: onDemandRunners}
	progress(c, "on-demand: bic apply --wait with %d runners on %s", onDemandRunners, c.nats)
	start := time.Now()
	cmd := exec.CommandContext(ctx, c.bic, "apply", "-p", proj, "--auto-approve", "--wait")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("bic apply --wait with runners: %w\n%s\n%s", err, tail(out), logTails(runners))
	}
	res.apply = time.Since(start)

	srv, err := startServe(ctx, c.bic, proj, filepath.Join(dir, "serve-ondemand.log"), env, "--nats", c.nats)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	// An unrecorded request of the default state: the server's first read
	// of the release, and a connection to it.
	if _, _, err := timedGet(ctx, srv.base+onDemandChart); err != nil {
		return nil, err
	}

	states := make([]string, c.ondemandStates)
	for i := range states {
		states[i] = fmt.Sprintf("?order_value=%d..", 10+7*i)
	}
	precomputed := make([]string, c.ondemandStates)
	for i := range precomputed {
		precomputed[i] = "?channel=web"
	}
	for _, p := range []struct {
		name    string
		queries []string
	}{
		{"a state that was not precomputed, first request", states},
		{"the same states again (kept by bic serve)", states},
		{"a precomputed state (a static value of a select filter)", precomputed},
	} {
		progress(c, "on-demand: %s, %d requests", p.name, len(p.queries))
		ph, err := onDemandSeries(ctx, srv.base, metrics, p.name, p.queries)
		if err != nil {
			return nil, fmt.Errorf("%w\n%s\n%s", err, srv.logTail(), logTails(runners))
		}
		res.phases = append(res.phases, *ph)
	}
	// A filter change on the page asks for every chart at once.
	charts, err := chartURLs(ctx, srv.base, onDemandPage)
	if err != nil {
		return nil, err
	}
	res.charts = len(charts)
	dash := make([]string, min(c.ondemandStates, onDemandDashboardStates))
	for i := range dash {
		dash[i] = fmt.Sprintf("?order_value=..%d", 50+7*i)
	}
	name := fmt.Sprintf("every chart of `%s` at once (%d requests in parallel, as a filter change asks): a state that was not precomputed", onDemandPage, len(charts))
	progress(c, "on-demand: %d charts at once, %d states", len(charts), len(dash))
	ph, err := onDemandParallel(ctx, srv.base, metrics, name, charts, dash)
	if err != nil {
		return nil, fmt.Errorf("%w\n%s\n%s", err, srv.logTail(), logTails(runners))
	}
	res.phases = append(res.phases, *ph)

	if err := srv.stop(); err != nil {
		return nil, err
	}
	for _, r := range runners {
		if err := r.stop(); err != nil {
			return nil, err
		}
	}
	runners = nil
	return res, nil
}

// onDemandSeries requests the chart with each query, one at a time, and
// reads the runners' metrics around them.
func onDemandSeries(ctx context.Context, base string, metrics []string, name string, queries []string) (*onDemandPhase, error) {
	before, err := scrapeAll(ctx, metrics)
	if err != nil {
		return nil, err
	}
	ph := &onDemandPhase{name: name, example: queries[0]}
	keys := map[string]bool{}
	var bytes int64
	for _, q := range queries {
		d, resp, err := timedGet(ctx, base+onDemandChart+q)
		if err != nil {
			return nil, err
		}
		ph.times = append(ph.times, d)
		keys[resp.key] = true
		bytes += int64(resp.size)
	}
	after, err := scrapeAll(ctx, metrics)
	if err != nil {
		return nil, err
	}
	ph.requests = len(queries)
	ph.states, ph.bytesAvg = len(keys), bytes/int64(len(queries))
	ph.delta(before, after)
	return ph, nil
}

// onDemandParallel requests every chart with each query at once, one
// query after another, and times each batch until its slowest answer.
func onDemandParallel(ctx context.Context, base string, metrics []string, name string, charts, queries []string) (*onDemandPhase, error) {
	before, err := scrapeAll(ctx, metrics)
	if err != nil {
		return nil, err
	}
	ph := &onDemandPhase{name: name, example: queries[0]}
	keys := map[string]bool{}
	var bytes int64
	for _, q := range queries {
		type result struct {
			a   answer
			err error
		}
		results := make(chan result, len(charts))
		start := time.Now()
		for _, ch := range charts {
			go func() {
				_, a, err := timedGet(ctx, base+ch+q)
				results <- result{a, err}
			}()
		}
		var errs []error
		for range charts {
			r := <-results
			if r.err != nil {
				errs = append(errs, r.err)
				continue
			}
			keys[r.a.key] = true
			bytes += int64(r.a.size)
		}
		ph.times = append(ph.times, time.Since(start))
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	after, err := scrapeAll(ctx, metrics)
	if err != nil {
		return nil, err
	}
	ph.requests = len(queries) * len(charts)
	ph.states, ph.bytesAvg = len(keys), bytes/int64(ph.requests)
	ph.delta(before, after)
	return ph, nil
}

// chartURLs are the paths of the chart data of the dashboard page at
// base+page, from the page's specs.
func chartURLs(ctx context.Context, base, page string) ([]string, error) {
	html, err := get(ctx, base+page, false)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(base + page)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, ref := range references(string(html)).data {
		a, err := u.Parse(ref)
		if err != nil {
			return nil, err
		}
		paths = append(paths, a.Path)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s names no chart data", page)
	}
	return paths, nil
}

// delta is what the runners did between two scrapes of their metrics.
func (ph *onDemandPhase) delta(before, after benchkit.Scrape) {
	ph.queries = after.Value("bic_warehouse_queries_total") - before.Value("bic_warehouse_queries_total")
	ph.hits = after[`bic_cache_lookups_total{result="hit"}`] - before[`bic_cache_lookups_total{result="hit"}`]
	ph.misses = after[`bic_cache_lookups_total{result="miss"}`] - before[`bic_cache_lookups_total{result="miss"}`]
}

// answer is what timedGet keeps of a response.
type answer struct {
	key  string // X-Bic-State-Key
	size int
}

// timedGet times a GET of url until its whole body is read; anything but
// a 200 is an error.
func timedGet(ctx context.Context, url string) (time.Duration, answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, answer{}, err
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, answer{}, fmt.Errorf("get %s: %w", url, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, answer{}, fmt.Errorf("get %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, answer{}, fmt.Errorf("get %s: %s: %s", url, resp.Status, tail(body))
	}
	return d, answer{key: resp.Header.Get("X-Bic-State-Key"), size: len(body)}, nil
}

// scrapeAll adds up the runners' metrics.
func scrapeAll(ctx context.Context, addrs []string) (benchkit.Scrape, error) {
	s := benchkit.Scrape{}
	for _, a := range addrs {
		if err := s.Get(ctx, a); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// natsReachable checks that a NATS server answers at url before anything
// is started for it.
func natsReachable(url string) error {
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("NATS at %s (set -nats or BIC_NATS_URL, or pass -ondemand=false): %w", url, err)
	}
	nc.Close()
	return nil
}

func logTails(cs []*child) string {
	var b strings.Builder
	for _, c := range cs {
		data, _ := os.ReadFile(c.log)
		fmt.Fprintf(&b, "--- %s\n%s\n", filepath.Base(c.log), tail(data))
	}
	return b.String()
}
