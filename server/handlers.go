package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bic-dev/bic/compiler/query/filterstate"
	"github.com/bic-dev/bic/publish/release"
)

// readyTimeout bounds /readyz's listing of storage.
const readyTimeout = 2 * time.Second

// onDemandTimeout bounds an on-demand computation, so that a page gets an
// answer rather than a hung request.
const onDemandTimeout = 30 * time.Second

// release answers r with env's current release, or writes why not.
func (s *Server) release(w http.ResponseWriter, r *http.Request, env string) (*loaded, bool) {
	l, err := s.envs.get(r.Context(), env)
	switch {
	case errors.Is(err, errNoEnv):
		writeError(w, r, http.StatusNotFound, "no environment "+env, nil)
		return nil, false
	case err != nil:
		s.log.Error("read release", "env", env, "error", err)
		writeError(w, r, http.StatusServiceUnavailable, "the release of "+env+" cannot be read now", nil)
		return nil, false
	}
	return l, true
}

// servePage serves /e/ENV/d/DASHBOARD.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, args []string) {
	env, name := args[0], args[1]
	l, ok := s.release(w, r, env)
	if !ok {
		return
	}
	d, ok := l.rel.Dashboards[name]
	if !ok || d.Page == "" {
		writeError(w, r, http.StatusNotFound, "environment "+env+" has no dashboard "+name, nil)
		return
	}
	page := d.Page
	// A link to a precomputed state opens that state's page, drawn whole;
	// any other state (or one that does not parse) gets the default page,
	// whose script asks the API for it and says what went wrong.
	if r.URL.RawQuery != "" && len(d.StatePages) > 0 {
		if key, err := l.queryStateKey(name, d, r); err == nil {
			if p, ok := d.StatePages[key]; ok {
				page = p
			}
		}
	}
	extra := []string{"X-Bic-Revision", strconv.Itoa(l.rel.Revision)}
	if s.live != nil {
		// Under bic dev the page follows /e/ENV/live: it is told the
		// release it came from, the one just read.
		extra = append(extra, "Server-Timing", liveTiming+`;desc="`+releaseID(l.key)+`"`)
	}
	s.serveBlob(w, r, blobResponse{key: page, contentType: "text/html; charset=utf-8", cacheControl: cacheRevalid, extra: extra})
}

// serveThumb serves /e/ENV/thumbs/DASHBOARD.png, the dashboard's image
// drawn before its release was published. Its URL names the dashboard,
// not the image, so it is cached briefly, like a page.
func (s *Server) serveThumb(w http.ResponseWriter, r *http.Request, args []string) {
	env, name := args[0], args[1]
	l, ok := s.release(w, r, env)
	if !ok {
		return
	}
	d := l.rel.Dashboards[name]
	s.servePicture(w, r, l, env, name, d.Thumbnail, d.ThumbnailStale)
}

// servePicture serves a thumbnail of what (a dashboard, or
// DASHBOARD/CHART) from l's release: its PNG blob, or 404 without one.
// Its URL names what is drawn, not the image, so it is cached briefly,
// like a page, and says which revision it is of and whether it is an
// earlier picture, kept.
func (s *Server) servePicture(w http.ResponseWriter, r *http.Request, l *loaded, env, what, png string, stale bool) {
	if png == "" {
		writeError(w, r, http.StatusNotFound, "environment "+env+" has no thumbnail of "+what, nil)
		return
	}
	extra := []string{"X-Bic-Revision", strconv.Itoa(l.rel.Revision)}
	if stale {
		extra = append(extra, "X-Bic-Thumbnail-Stale", "true")
	}
	s.serveBlob(w, r, blobResponse{key: png, contentType: "image/png", cacheControl: cacheRevalid, extra: extra})
}

// queryStateKey is the filter-state key of r's query for dashboard d,
// memoised per release.
func (l *loaded) queryStateKey(name string, d release.Dashboard, r *http.Request) (string, error) {
	if key, ok := l.stateKey(name, r.URL.RawQuery); ok {
		return key, nil
	}
	state, err := stateOf(name, d.Filters, r)
	if err != nil {
		return "", err
	}
	key := state.Key()
	l.rememberStateKey(name, r.URL.RawQuery, key)
	return key, nil
}

// chartData finds the data of DASHBOARD/CHART for the state in r's query,
// or writes why there is none.
func (s *Server) chartData(w http.ResponseWriter, r *http.Request, args []string) (release.Data, string, bool) {
	env, dash, chart := args[0], args[1], args[2]
	l, ok := s.release(w, r, env)
	if !ok {
		return release.Data{}, "", false
	}
	d, okD := l.rel.Dashboards[dash]
	c, okC := l.rel.Charts[dash+"/"+chart]
	if !okD || !okC {
		writeError(w, r, http.StatusNotFound, "environment "+env+" has no chart "+dash+"/"+chart, nil)
		return release.Data{}, "", false
	}
	key := c.Default
	if r.URL.RawQuery != "" || key == "" {
		var err error
		if key, err = l.queryStateKey(dash, d, r); err != nil {
			writeError(w, r, http.StatusBadRequest, err.Error(), nil)
			return release.Data{}, "", false
		}
	}
	if data, ok := c.States[key]; ok {
		return data, key, true
	}
	// A miss: the state itself, for the answer and for OnDemand.
	state, err := stateOf(dash, d.Filters, r)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err.Error(), nil)
		return release.Data{}, "", false
	}
	if s.onDemand == nil {
		writeError(w, r, http.StatusNotFound, "this filter state of "+dash+"/"+chart+" was not precomputed", map[string]any{
			"state_key": key, "state": state})
		return release.Data{}, "", false
	}
	ctx, cancel := context.WithTimeout(r.Context(), onDemandTimeout)
	defer cancel()
	data, err := s.onDemand.Compute(ctx, Request{Env: env, Release: l.key, Revision: l.rel.Revision,
		Dashboard: dash, Chart: dash + "/" + chart, State: state, StateKey: key})
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, r, http.StatusGatewayTimeout, "computing this filter state took too long; try again", map[string]any{"state_key": key})
		return release.Data{}, "", false
	case err != nil:
		s.log.Error("compute on demand", "env", env, "chart", dash+"/"+chart, "state_key", key, "error", err)
		writeError(w, r, http.StatusBadGateway, "this filter state could not be computed", map[string]any{"state_key": key})
		return release.Data{}, "", false
	}
	return data, key, true
}

// stateOf is the normalised filter state of r's query. The dashboard's
// name only appears in messages.
func stateOf(name string, d filterstate.Dashboard, r *http.Request) (filterstate.State, error) {
	if d.Name == "" {
		d.Name = name
	}
	chosen, err := stateFromQuery(d, r.URL.Query())
	if err != nil {
		return nil, err
	}
	return filterstate.Normalize(d, chosen)
}

// dataHeaders say which state a chart's data is for and when it was
// computed, so that a page can show "as of …" without parsing the data.
func dataHeaders(data release.Data, key string) []string {
	h := append(make([]string, 0, 6), "X-Bic-State-Key", key)
	if !data.ComputedAt.IsZero() {
		h = append(h, "X-Bic-Computed-At", data.ComputedAt.UTC().Format(time.RFC3339))
	}
	if !data.StaleAt.IsZero() {
		h = append(h, "X-Bic-Stale-At", data.StaleAt.UTC().Format(time.RFC3339))
	}
	return h
}

// serveChartJSON serves /e/ENV/api/charts/DASHBOARD/CHART?FILTER=VALUE….
func (s *Server) serveChartJSON(w http.ResponseWriter, r *http.Request, args []string) {
	s.serveChart(w, r, args, false)
}

// serveChartCSV serves /e/ENV/csv/DASHBOARD/CHART?FILTER=VALUE… as a download.
func (s *Server) serveChartCSV(w http.ResponseWriter, r *http.Request, args []string) {
	s.serveChart(w, r, args, true)
}

func (s *Server) serveChart(w http.ResponseWriter, r *http.Request, args []string, csv bool) {
	data, key, ok := s.chartData(w, r, args)
	if !ok {
		return
	}
	what := "JSON"
	br := blobResponse{key: data.JSON, contentType: "application/json", cacheControl: cacheRevalid, extra: dataHeaders(data, key)}
	if csv {
		what = "CSV"
		// The names are checked by validName, so they need no quoting.
		br.key, br.contentType = data.CSV, "text/csv; charset=utf-8"
		br.extra = append(br.extra, "Content-Disposition", `attachment; filename="`+args[1]+"-"+args[2]+`.csv"`)
	}
	if br.key == "" {
		writeError(w, r, http.StatusNotFound, "chart "+args[1]+"/"+args[2]+" has no "+what, nil)
		return
	}
	s.serveBlob(w, r, br)
}

// assetResponse is how to serve the asset name of l: by name it may change
// with the next release, so it is cached briefly, unless the URL carries
// the blob's hash (?v=HASH), which makes it content-addressed.
func assetResponse(r *http.Request, key, name string) blobResponse {
	cc := cacheAsset
	if r.URL.Query().Get("v") == hashOf(key) {
		cc = cacheImmutable
	}
	return blobResponse{key: key, contentType: contentType(name), cacheControl: cc}
}

// serveEnvAsset serves /e/ENV/assets/NAME.
func (s *Server) serveEnvAsset(w http.ResponseWriter, r *http.Request, args []string) {
	env, name := args[0], args[1]
	l, ok := s.release(w, r, env)
	if !ok {
		return
	}
	key, ok := l.rel.Assets[name]
	if !ok {
		writeError(w, r, http.StatusNotFound, "environment "+env+" has no asset "+name, nil)
		return
	}
	s.serveBlob(w, r, assetResponse(r, key, name))
}

// serveAnyAsset serves /assets/NAME: the asset of the first environment,
// by name, that has it.
func (s *Server) serveAnyAsset(w http.ResponseWriter, r *http.Request, args []string) {
	name := args[0]
	found := false
	s.eachRelease(w, r, false, func(l *loaded) bool {
		if key, ok := l.rel.Assets[name]; ok {
			found = true
			s.serveBlob(w, r, assetResponse(r, key, name))
			return false
		}
		return true
	}, func() {
		if !found {
			writeError(w, r, http.StatusNotFound, "no asset "+name, nil)
		}
	})
}

// serveEnvBlob serves /e/ENV/blobs/ab/cdef…: a blob that env's release
// names.
func (s *Server) serveEnvBlob(w http.ResponseWriter, r *http.Request, args []string) {
	env, key := args[0], args[1]
	l, ok := s.release(w, r, env)
	if !ok {
		return
	}
	ctype, ok := l.named[key]
	if !ok {
		writeError(w, r, http.StatusNotFound, "environment "+env+" names no blob "+key, nil)
		return
	}
	s.serveBlob(w, r, blobResponse{key: key, contentType: ctype, cacheControl: cacheImmutable})
}

// serveAnyBlob serves /blobs/ab/cdef…: a blob that the current release of
// some environment names (or named, when the server last read it), and
// nothing else in storage.
func (s *Server) serveAnyBlob(w http.ResponseWriter, r *http.Request, args []string) {
	key := args[0]
	found := false
	s.eachRelease(w, r, true, func(l *loaded) bool {
		if ctype, ok := l.named[key]; ok {
			found = true
			s.serveBlob(w, r, blobResponse{key: key, contentType: ctype, cacheControl: cacheImmutable})
			return false
		}
		return true
	}, func() {
		if !found {
			writeError(w, r, http.StatusNotFound, "no release names blob "+key, nil)
		}
	})
}

// eachRelease calls f with every environment's current release, in the
// order of their names, until f returns false; then done, unless storage
// failed, which it answers. With stale, a release read before is good
// enough, however old (see getAny).
func (s *Server) eachRelease(w http.ResponseWriter, r *http.Request, stale bool, f func(*loaded) bool, done func()) {
	get := s.envs.get
	if stale {
		get = s.envs.getAny
	}
	envs, err := s.envs.list(r.Context())
	if err != nil {
		s.log.Error("list environments", "error", err)
		writeError(w, r, http.StatusServiceUnavailable, "storage did not answer", nil)
		return
	}
	for _, env := range envs {
		l, err := get(r.Context(), env)
		if err != nil {
			if !errors.Is(err, errNoEnv) {
				s.log.Warn("read release", "env", env, "error", err)
			}
			continue
		}
		if !f(l) {
			return
		}
	}
	done()
}

// serveHealth is the liveness probe: the process answers.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request, _ []string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodHead {
		io.WriteString(w, "ok\n")
	}
}

// serveReady is the readiness probe: storage answers and its pointers can
// be listed.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request, _ []string) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	envs, err := listEnvs(ctx, s.store)
	if err != nil {
		s.log.Warn("not ready", "error", err)
		writeError(w, r, http.StatusServiceUnavailable, "storage does not answer", nil)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodHead {
		io.WriteString(w, "ok: "+strconv.Itoa(len(envs))+" environments\n")
	}
}

// serveMetrics serves the registry's metrics, when it can be gathered.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request, _ []string) {
	if s.gatherer == nil {
		writeError(w, r, http.StatusNotFound, "metrics are not enabled", nil)
		return
	}
	promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}
