package server

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/bic-dev/bic/publish/storage"
)

// Defaults of Options.
const (
	DefaultCacheBytes = 256 << 20
	DefaultPointerTTL = time.Second
)

// Options configure a Server. Only Storage is required.
type Options struct {
	// Storage holds the pointers, releases and blobs; the server only reads.
	Storage storage.Reader
	// Log receives what goes wrong; nil discards it.
	Log *slog.Logger
	// CacheBytes bounds the memory of hot blobs (and their compressed
	// forms); 0 means DefaultCacheBytes.
	CacheBytes int64
	// PointerTTL is how long a pointer read is trusted: a publish is seen
	// within PointerTTL plus one storage read. 0 means DefaultPointerTTL.
	PointerTTL time.Duration
	// Registry, when set, receives the server's metrics; when it is also a
	// prometheus.Gatherer (a *prometheus.Registry is), /metrics serves it.
	Registry prometheus.Registerer
	// OnDemand computes a filter state that the release did not
	// precompute; nil answers such a state with 404.
	OnDemand OnDemand
	// Auth is who may read the environments. With AuthToken, every
	// /e/ENV/ route needs a credential for ENV from the allow-list in
	// storage (re-read once per PointerTTL; none there refuses every
	// environment), / lists only the credential's environment, and the
	// global /blobs/ is 404; /assets/, /healthz, /readyz and /metrics stay
	// open (bind /metrics privately). See auth.go.
	Auth Auth
	// Live, when set, serves /e/ENV/live, which the pages of bic dev follow
	// to reload themselves and show errors (see live.go); nil for bic serve.
	Live *Live
	// ImageSecret signs the links to alerts' and reports' pictures
	// (BIC_LINK_SECRET, shared with the runners), served at /images/;
	// empty turns the route off.
	ImageSecret []byte
}

// Server serves the releases in its storage over HTTP. It is safe for
// concurrent use; everything it caches is either immutable (blobs,
// releases by key) or re-read after PointerTTL (pointers).
type Server struct {
	store    storage.Reader
	log      *slog.Logger
	ttl      time.Duration
	onDemand OnDemand
	// gate checks credentials; nil with AuthNone.
	gate *gate
	// live is bic dev's live-reload channel; nil for bic serve.
	live *Live
	// imageSecret verifies /images/ links; empty: none is valid.
	imageSecret []byte

	blobs      *blobCache
	blobFlight singleflight.Group
	envs       *pointers
	metrics    *metrics
	gatherer   prometheus.Gatherer
}

// New returns a Server for opts.
func New(opts Options) *Server {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = DefaultCacheBytes
	}
	if opts.PointerTTL <= 0 {
		opts.PointerTTL = DefaultPointerTTL
	}
	s := &Server{
		store:    opts.Storage,
		log:      opts.Log,
		ttl:      opts.PointerTTL,
		onDemand: opts.OnDemand,
		blobs:    newBlobCache(opts.CacheBytes),
		live:     opts.Live,

		imageSecret: opts.ImageSecret,
	}
	s.envs = newPointers(opts.Storage, opts.PointerTTL, opts.Log)
	if opts.Auth != AuthNone { // an unknown mode refuses, as AuthToken does
		s.gate = newGate(opts.Storage, opts.PointerTTL, opts.Log)
	}
	if opts.Registry != nil {
		s.metrics = newMetrics(opts.Registry, s.blobs, opts.Log)
		s.gatherer, _ = opts.Registry.(prometheus.Gatherer)
	}
	return s
}

// Route names, the values of the route label of the metrics.
const (
	routeIndex   = "index"
	routeHealth  = "healthz"
	routeReady   = "readyz"
	routeMetrics = "metrics"
	routePage    = "page"
	routeJSON    = "chart_json"
	routeCSV     = "chart_csv"
	routeAsset   = "asset"
	routeThumb   = "thumbnail"
	routeBlob    = "blob"
	routeLive    = "live"
	routeImage   = "image"
	routeOther   = "other"
)

// ServeHTTP routes r. It answers only GET and HEAD, never reads a request
// body, and turns a panic into a 500 so that one bad request cannot stop
// the server.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	route := routeOther
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if !sw.wroteHeader {
				writeError(sw, r, http.StatusInternalServerError, "internal error", nil)
			}
			sw.code = http.StatusInternalServerError
		}
		s.metrics.observe(route, sw.status(), time.Since(start))
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		sw.Header().Set("Allow", "GET, HEAD")
		writeError(sw, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed (GET, HEAD)", nil)
		return
	}
	var h func(http.ResponseWriter, *http.Request, []string)
	var args []string
	route, h, args = s.match(r)
	if h == nil {
		writeError(sw, r, http.StatusNotFound, "not found", nil)
		return
	}
	var hw http.ResponseWriter = sw
	if s.gate != nil {
		var ok bool
		if hw, ok = s.guard(sw, r, route, args); !ok {
			return
		}
	}
	h(hw, r, args)
}

// maxName is the longest name of an environment, dashboard, chart or
// asset segment.
const maxName = 128

// validName reports whether s may name an environment, dashboard or
// chart: 1 to 128 letters, digits, - and _.
func validName(s string) bool {
	if s == "" || len(s) > maxName {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i]) {
			return false
		}
	}
	return true
}

// validAssetSegment reports whether s may be one segment of an asset's
// name: a name that may also hold dots, though not start with one.
func validAssetSegment(s string) bool {
	if s == "" || len(s) > maxName || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// match finds r's handler and its arguments from the path. It refuses
// (nil handler: 404) any path with an escape, a backslash, an empty or dot
// segment, or a name that validName refuses, so that no request names
// anything but what a release names.
func (s *Server) match(r *http.Request) (string, func(http.ResponseWriter, *http.Request, []string), []string) {
	p := r.URL.EscapedPath()
	if p == "/" {
		return routeIndex, s.serveIndex, nil
	}
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, `%\`) {
		return routeOther, nil, nil
	}
	segs := strings.Split(p[1:], "/")
	for _, seg := range segs {
		if seg == "" || seg[0] == '.' {
			return routeOther, nil, nil
		}
	}
	switch segs[0] {
	case "healthz":
		if len(segs) == 1 {
			return routeHealth, s.serveHealth, nil
		}
	case "readyz":
		if len(segs) == 1 {
			return routeReady, s.serveReady, nil
		}
	case "metrics":
		if len(segs) == 1 {
			return routeMetrics, s.serveMetrics, nil
		}
	case "assets":
		if name, ok := assetName(segs[1:]); ok {
			return routeAsset, s.serveAnyAsset, []string{name}
		}
	case "blobs":
		if key, ok := blobKey(segs[1:]); ok {
			return routeBlob, s.serveAnyBlob, []string{key}
		}
	case "images":
		if hash, ok := imageHash(segs[1:]); ok {
			return routeImage, s.serveImage, []string{hash}
		}
	case "e":
		if len(segs) < 3 || !validName(segs[1]) {
			break
		}
		env, rest := segs[1], segs[2:]
		switch {
		case rest[0] == "d" && len(rest) == 2 && validName(rest[1]):
			return routePage, s.servePage, []string{env, rest[1]}
		case rest[0] == "api" && len(rest) == 4 && rest[1] == "charts" && validName(rest[2]) && validName(rest[3]):
			return routeJSON, s.serveChartJSON, []string{env, rest[2], rest[3]}
		case rest[0] == "thumbs" && len(rest) == 2 && strings.HasSuffix(rest[1], ".png") && validName(strings.TrimSuffix(rest[1], ".png")):
			return routeThumb, s.serveThumb, []string{env, strings.TrimSuffix(rest[1], ".png")}
		case rest[0] == "thumbs" && len(rest) == 3 && validName(rest[1]) && strings.HasSuffix(rest[2], ".png") && validName(strings.TrimSuffix(rest[2], ".png")):
			return routeThumb, s.serveChartThumb, []string{env, rest[1], strings.TrimSuffix(rest[2], ".png")}
		case rest[0] == "csv" && len(rest) == 3 && validName(rest[1]) && validName(rest[2]):
			return routeCSV, s.serveChartCSV, []string{env, rest[1], rest[2]}
		case rest[0] == "live" && len(rest) == 1 && s.live != nil:
			return routeLive, s.serveLive, []string{env}
		case rest[0] == "assets":
			if name, ok := assetName(rest[1:]); ok {
				return routeAsset, s.serveEnvAsset, []string{env, name}
			}
		case rest[0] == "blobs":
			if key, ok := blobKey(rest[1:]); ok {
				return routeBlob, s.serveEnvBlob, []string{env, key}
			}
		}
	}
	return routeOther, nil, nil
}

// assetName joins the segments of an asset's name, if each is valid.
func assetName(segs []string) (string, bool) {
	if len(segs) == 0 || len(segs) > 8 {
		return "", false
	}
	for _, seg := range segs {
		if !validAssetSegment(seg) {
			return "", false
		}
	}
	return strings.Join(segs, "/"), true
}

// blobKey is the storage key of blobs/ab/cdef…, if the segments are a
// valid content address.
func blobKey(segs []string) (string, bool) {
	if len(segs) != 2 || len(segs[0]) != 2 {
		return "", false
	}
	key := storage.BlobKey(segs[0] + segs[1])
	return key, key != ""
}
