package render

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
)

// Bounds on what the host reads from storage for one response: a page
// embeds its charts' data, each bounded by the chart's limit (see the
// runner's maxPageData); an asset is the binary's own.
const (
	maxPage  = 96 << 20
	maxBlob  = 64 << 20
	maxAsset = 16 << 20
)

// host serves the bundle of the releases being rendered to the browser,
// on a loopback listener, each under a path prefix with a random token
// that exists only while its render runs:
//
//	/r/TOKEN/e/ENV/d/DASHBOARD          the page (the dashboard's, or a state page)
//	/r/TOKEN/e/ENV/assets/NAME          rel.Assets
//	/r/TOKEN/e/ENV/blobs/ab/cdef…       a blob that the release names
//	/r/TOKEN/e/ENV/api/charts/DASH/CHART  a chart's default data
//
// These are exactly the relative URLs that pages use (see runner's
// pages.go); anything else is a 404.
type host struct {
	store storage.Reader
	log   *slog.Logger
	ln    net.Listener
	srv   *http.Server

	mu      sync.RWMutex
	bundles map[string]*bundle
	// assets holds the assets pages load (ECharts alone is 1 MB), by blob
	// key: content-addressed, so they never change, and every render loads
	// the same few, which are read from storage once.
	assets      map[string][]byte
	assetsBytes int64
}

// maxCachedAssets bounds the memory of assets; past it the cache starts
// over (a new release brings new keys; the old ones are not loaded again).
const maxCachedAssets = 64 << 20

// bundle is one render's view of a release.
type bundle struct {
	rel       *release.Release
	dashboard string
	page      string                 // the page blob served at d/DASHBOARD
	blobs     func() map[string]bool // every blob the release names, indexed on first use
}

func newHost(ctx context.Context, store storage.Reader, log *slog.Logger) (*host, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("render: listen on loopback: %w", err)
	}
	h := &host{store: store, log: log, ln: ln, bundles: map[string]*bundle{}, assets: map[string][]byte{}}
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("render: page host stopped", "err", err)
		}
	}()
	return h, nil
}

// base is the host's origin, such as http://127.0.0.1:41234.
func (h *host) base() string { return "http://" + h.ln.Addr().String() }

func (h *host) close() error { return h.srv.Close() }

// register makes rel reachable under a fresh token until the returned
// func is called, and returns the URL prefix of that token
// (BASE/r/TOKEN/).
func (h *host) register(s *bundle) (prefix string, remove func()) {
	token := strings.ToLower(rand.Text())
	h.mu.Lock()
	h.bundles[token] = s
	h.mu.Unlock()
	return h.base() + "/r/" + token + "/", func() {
		h.mu.Lock()
		delete(h.bundles, token)
		h.mu.Unlock()
	}
}

// newBundle checks that the release has the dashboard (and the page, if
// one is given) and indexes its blobs.
func newBundle(rel *release.Release, dashboard, pageKey string) (*bundle, error) {
	if rel == nil {
		return nil, errors.New("render: no release")
	}
	d, ok := rel.Dashboards[dashboard]
	if !ok {
		return nil, fmt.Errorf("render: release of %s revision %d has no dashboard %q", rel.Env, rel.Revision, dashboard)
	}
	page := d.Page
	if pageKey != "" {
		known := pageKey == d.Page
		for _, k := range d.StatePages {
			known = known || k == pageKey
		}
		if !known {
			return nil, fmt.Errorf("render: %s is not a page of dashboard %s in the release of %s revision %d", pageKey, dashboard, rel.Env, rel.Revision)
		}
		page = pageKey
	}
	if page == "" {
		return nil, fmt.Errorf("render: dashboard %s of %s revision %d has no page", dashboard, rel.Env, rel.Revision)
	}
	// Pages load blobs by URL rarely (their data is inline): the release
	// is walked only if one does.
	blobs := sync.OnceValue(func() map[string]bool {
		named := map[string]bool{}
		for _, k := range rel.Blobs() {
			named[k] = true
		}
		return named
	})
	return &bundle{rel: rel, dashboard: dashboard, page: page, blobs: blobs}, nil
}

func (h *host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !isLoopback(r.RemoteAddr) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	token, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/r/"), "/")
	if !ok || !strings.HasPrefix(r.URL.Path, "/r/") {
		http.NotFound(w, r)
		return
	}
	h.mu.RLock()
	s := h.bundles[token]
	h.mu.RUnlock()
	if s == nil {
		http.NotFound(w, r)
		return
	}
	key, ctype := s.resolve(rest, r.URL.RawQuery)
	if key == "" {
		http.NotFound(w, r)
		return
	}
	var b []byte
	var err error
	switch {
	case key == s.page:
		b, err = storage.ReadAll(r.Context(), h.store, key, maxPage)
	case strings.HasPrefix(rest, "e/"+s.rel.Env+"/assets/"):
		b, err = h.asset(r.Context(), key)
	default:
		b, err = storage.ReadAll(r.Context(), h.store, key, maxBlob)
	}
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		h.log.Warn("render: read a page's blob", "key", key, "err", err)
		http.Error(w, "cannot read", http.StatusInternalServerError)
		return
	}
	if ctype == "" {
		ctype = http.DetectContentType(b)
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// asset reads an asset's blob, from memory after its first read.
func (h *host) asset(ctx context.Context, key string) ([]byte, error) {
	h.mu.RLock()
	b, ok := h.assets[key]
	h.mu.RUnlock()
	if ok {
		return b, nil
	}
	b, err := storage.ReadAll(ctx, h.store, key, maxAsset)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.assetsBytes+int64(len(b)) > maxCachedAssets {
		h.assets, h.assetsBytes = map[string][]byte{}, 0
	}
	h.assets[key] = b
	h.assetsBytes += int64(len(b))
	return b, nil
}

// resolve maps a path below the token to the blob it serves and its
// content type ("" to detect), or "" for anything a page does not load.
func (s *bundle) resolve(p, query string) (key, ctype string) {
	env, rest, ok := strings.Cut(strings.TrimPrefix(p, "e/"), "/")
	if !ok || !strings.HasPrefix(p, "e/") || env != s.rel.Env {
		return "", ""
	}
	switch {
	case rest == "d/"+s.dashboard && query == "":
		return s.page, "text/html; charset=utf-8"
	case strings.HasPrefix(rest, "assets/"):
		name := strings.TrimPrefix(rest, "assets/")
		k, ok := s.rel.Assets[name]
		if !ok {
			return "", ""
		}
		return k, assetType(name)
	case strings.HasPrefix(rest, "blobs/"):
		if s.blobs()[rest] {
			return rest, ""
		}
	case strings.HasPrefix(rest, "api/charts/") && query == "":
		dash, chart, ok := strings.Cut(strings.TrimPrefix(rest, "api/charts/"), "/")
		if !ok || dash != s.dashboard {
			return "", ""
		}
		c, ok := s.rel.Charts[compiler.ChartID(dash, chart).Name()]
		if !ok {
			return "", ""
		}
		if st, ok := c.States[c.Default]; ok && st.JSON != "" {
			return st.JSON, "application/json"
		}
	}
	return "", ""
}

func assetType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	return "text/plain; charset=utf-8"
}

func isLoopback(remote string) bool {
	h, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
