package server

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/bic-dev/bic/publish/access"
	"github.com/bic-dev/bic/publish/storage"
)

// Auth is who may read the environments a Server serves.
type Auth int

const (
	// AuthNone serves every environment to anyone who can reach the server.
	AuthNone Auth = iota
	// AuthToken serves an environment only to a request with a credential
	// for it: a token of the allow-list in storage (see publish/access),
	// or a signed link or session cookie made from one.
	AuthToken
)

func (a Auth) String() string {
	switch a {
	case AuthNone:
		return "none"
	case AuthToken:
		return "token"
	}
	return "Auth(" + strconv.Itoa(int(a)) + ")"
}

// ParseAuth reads the value of bic serve --auth.
func ParseAuth(s string) (Auth, error) {
	switch s {
	case "none", "":
		return AuthNone, nil
	case "token":
		return AuthToken, nil
	}
	return 0, fmt.Errorf("--auth %q: expected none or token", s)
}

// The names of the credentials a request may carry besides the
// Authorization header.
const (
	// sessionCookie holds a signed link (never a token), set on the path
	// /e/ENV/ of the one environment it admits.
	sessionCookie = "bic_session"
	// tokenParam carries a token in a URL, for the first request of a
	// browser; the server sets the cookie and redirects without it.
	tokenParam = "token"
	// sessionTTL is how long the cookie made from ?token= lasts (less if
	// the token expires sooner).
	sessionTTL = 12 * time.Hour
	// allowListGrace is how long the allow-list read before keeps
	// answering while storage fails; after it, every environment is
	// refused until storage answers.
	allowListGrace = 30 * time.Second
)

// gate holds the allow-list, re-read from storage at most once per ttl.
type gate struct {
	store storage.Reader
	ttl   time.Duration
	log   *slog.Logger

	flight singleflight.Group
	mu     sync.RWMutex
	list   *access.List // nil: no allow-list, which admits no one
	readAt time.Time    // the last read, successful or not
	okAt   time.Time    // the last successful read
	none   bool         // the last read found no allow-list
}

func newGate(store storage.Reader, ttl time.Duration, log *slog.Logger) *gate {
	return &gate{store: store, ttl: ttl, log: log}
}

// errNoCheck is current's answer when the allow-list cannot be read and
// the one read before is too old to trust.
var errNoCheck = errors.New("the allow-list cannot be read")

// current is the allow-list, reading it again when the last read is older
// than ttl.
func (g *gate) current(ctx context.Context) (*access.List, error) {
	g.mu.RLock()
	l, readAt, okAt := g.list, g.readAt, g.okAt
	g.mu.RUnlock()
	if !readAt.IsZero() && time.Since(readAt) < g.ttl {
		return g.usable(l, okAt)
	}
	g.flight.Do("", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		l, err := access.ReadAllowList(ctx, g.store)
		now := time.Now()
		g.mu.Lock()
		defer g.mu.Unlock()
		g.readAt = now
		switch {
		case errors.Is(err, access.ErrNoAllowList):
			if !g.none {
				g.log.Warn("no allow-list in storage: every environment is refused", "key", access.AllowListKey)
			}
			g.list, g.okAt, g.none = nil, now, true
		case err != nil:
			g.log.Error("read allow-list; keeping the one read before", "error", err, "read_before", g.okAt)
		default:
			g.list, g.okAt, g.none = l, now, false
		}
		return nil, nil
	})
	g.mu.RLock()
	l, okAt = g.list, g.okAt
	g.mu.RUnlock()
	return g.usable(l, okAt)
}

// usable is l, read successfully at okAt, unless that read is too old to
// trust: the grace period, or the re-read interval when that is longer.
func (g *gate) usable(l *access.List, okAt time.Time) (*access.List, error) {
	if okAt.IsZero() || time.Since(okAt) > max(allowListGrace, g.ttl) {
		return nil, errNoCheck
	}
	return l, nil
}

// guard admits r to its route or answers it. An environment's routes need
// a credential for that environment; a request without one is 401 whether
// or not the environment exists, so that names cannot be probed. The
// global /blobs/ is 404 (pages use /e/ENV/blobs/), / lists only what the
// credential admits, and the public routes (/assets/, probes, metrics)
// pass as they are. The writer it returns marks every response private.
func (s *Server) guard(w http.ResponseWriter, r *http.Request, route string, args []string) (http.ResponseWriter, bool) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/e/"):
		if !s.admit(w, r, args[0]) {
			return nil, false
		}
		return &privateWriter{ResponseWriter: w}, true
	case route == routeBlob:
		writeError(w, r, http.StatusNotFound, "not found", nil)
		return nil, false
	case route == routeIndex:
		return &privateWriter{ResponseWriter: w}, true
	}
	return w, true
}

// admit reports whether r carries a credential for env, and otherwise
// answers it: 401, or a 303 that turns a credential in the URL into the
// session cookie. It looks at, in order, the URL (?token=, ?bic_link=),
// the Authorization header (Bearer TOKEN) and the session cookie.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, env string) bool {
	l, err := s.gate.current(r.Context())
	if err != nil {
		writeError(w, r, http.StatusServiceUnavailable, "access cannot be checked now", nil)
		return false
	}
	now := time.Now()
	if q := r.URL.RawQuery; q != "" && (strings.Contains(q, tokenParam+"=") || strings.Contains(q, access.LinkParam+"=")) {
		if rest, link, expires, found := s.fromQuery(l, env, q, now); found {
			if link == "" {
				unauthorized(w, r, true)
				return false
			}
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: link, Path: "/e/" + env + "/",
				Expires: expires, MaxAge: max(int(expires.Sub(now).Seconds()), 1),
				HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r)})
			h := w.Header()
			h.Set("Cache-Control", "no-store")
			h.Set("Referrer-Policy", "no-referrer")
			target := r.URL.Path
			if rest != "" {
				target += "?" + rest
			}
			h.Set("Location", target)
			w.WriteHeader(http.StatusSeeOther)
			return false
		}
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if _, ok := l.Check(env, strings.TrimSpace(tok), now); ok {
			return true
		}
		unauthorized(w, r, false)
		return false
	}
	cookies := r.CookiesNamed(sessionCookie)
	for _, c := range cookies {
		if _, ok := l.Verify(env, c.Value, now); ok {
			return true
		}
	}
	if len(cookies) > 0 {
		// A session that no longer admits is dropped from the browser.
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/e/" + env + "/", MaxAge: -1,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r)})
	}
	unauthorized(w, r, len(cookies) > 0)
	return false
}

// fromQuery finds a credential in the raw query q: found reports whether
// there is one, link is the session it opens for env ("" when it admits
// nothing), and rest is q without it.
func (s *Server) fromQuery(l *access.List, env, q string, now time.Time) (rest, link string, expires time.Time, found bool) {
	var kept []string
	for part := range strings.SplitSeq(q, "&") {
		key, value, _ := strings.Cut(part, "=")
		if key == tokenParam || key == access.LinkParam {
			if v, err := url.QueryUnescape(value); err == nil {
				value = v
			}
		}
		switch key {
		case tokenParam:
			found = true
			if e, ok := l.Check(env, value, now); ok && link == "" {
				expires = now.Add(sessionTTL)
				if e.ExpiresAt != nil && e.ExpiresAt.Before(expires) {
					expires = *e.ExpiresAt
				}
				link = access.Sign(access.HashToken(value), env, expires)
			}
		case access.LinkParam:
			found = true
			if exp, ok := l.Verify(env, value, now); ok && link == "" {
				link, expires = value, exp
			}
		default:
			kept = append(kept, part)
		}
	}
	return strings.Join(kept, "&"), link, expires, found
}

// secure reports whether r came over TLS, directly or through a proxy
// that says so, so that the cookie is only sent back the same way.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// authPage is the 401 for a browser: it says what is needed and names no
// environment.
var authPage = template.Must(template.New("auth").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>bic: access token needed</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>An access token is needed</h1>
<p>{{.}}</p>
<p>Ask for a link (<code>bic link create</code>) or a token (<code>bic token create</code>),
then open the page with <code>?token=…</code> or send <code>Authorization: Bearer …</code>.</p>
</body>
</html>
`))

// unauthorized answers 401, as HTML for a browser and JSON otherwise. The
// message is the same for a missing, wrong, expired or revoked credential
// and for one of another environment, and never repeats the credential.
func unauthorized(w http.ResponseWriter, r *http.Request, presented bool) {
	msg := "this environment needs an access token"
	if presented {
		msg = "the access token or link is not valid for this environment (wrong, expired or revoked)"
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="bic"`)
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		writeError(w, r, http.StatusUnauthorized, msg, nil)
		return
	}
	var b strings.Builder
	authPage.Execute(&b, msg)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusUnauthorized)
	if r.Method != http.MethodHead {
		w.Write([]byte(b.String()))
	}
}

// indexEnv is the environment whose dashboards / may list for r under
// token auth: the one its bearer token admits. Without one it answers r
// with the 401 page and returns false. (The session cookies are set on
// /e/ENV/ and never reach /.)
func (s *Server) indexEnv(w http.ResponseWriter, r *http.Request) (string, bool) {
	l, err := s.gate.current(r.Context())
	if err != nil {
		writeError(w, r, http.StatusServiceUnavailable, "access cannot be checked now", nil)
		return "", false
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok {
		if env, ok := l.EnvOf(strings.TrimSpace(tok), time.Now()); ok {
			return env, true
		}
	}
	unauthorized(w, r, ok)
	return "", false
}

// privateWriter marks what it writes as a response for one viewer only:
// no shared cache may keep it, and caches keep one copy per credential.
type privateWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *privateWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		privatize(w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *privateWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *privateWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Header values of private responses, shared as those of serveBlob are.
var (
	hvPrivate = map[string][]string{
		cacheImmutable: {"private, max-age=31536000, immutable"},
		cacheAsset:     {"private, max-age=300"},
		cacheRevalid:   {"private, no-cache"},
	}
	hvVaryAuth     = []string{"Cookie, Authorization"}
	hvVaryEncAuth  = []string{"Accept-Encoding, Cookie, Authorization"}
	hvPrivateOther = []string{"private, no-cache"}
)

// privatize rewrites the caching headers of h for a private response;
// one that says no-store (errors, redirects) stays as it is.
func privatize(h http.Header) {
	cc := h["Cache-Control"]
	if len(cc) == 1 && cc[0] == "no-store" {
		return
	}
	switch {
	case len(cc) == 1 && hvPrivate[cc[0]] != nil:
		h["Cache-Control"] = hvPrivate[cc[0]]
	case len(cc) == 1 && strings.HasPrefix(cc[0], "private"):
	default:
		h["Cache-Control"] = hvPrivateOther
	}
	if v := h["Vary"]; len(v) == 1 && v[0] == "Accept-Encoding" {
		h["Vary"] = hvVaryEncAuth
	} else if len(v) == 0 {
		h["Vary"] = hvVaryAuth
	} else {
		h["Vary"] = append(v[:len(v):len(v)], "Cookie, Authorization")
	}
}
