package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
)

// The live-reload channel of bic dev: a page served by a server with
// Options.Live polls /e/ENV/live, which says which release the
// environment serves and what went wrong with the last change, and
// reloads itself when the release changes (its URL keeps the viewer's
// filter state) or shows the error as a banner while the release it shows
// keeps serving. A poll, not a stream of server-sent events: a browser
// opens at most six connections to a host, and each open tab would hold
// one. bic serve has no Live: its pages never ask for it.

// liveTiming tells a page's script that its server is live, and from
// which release the page came: the page is a stored blob, the same as bic
// serve's, so only its response's headers can differ, and Server-Timing is
// the one a script reads (through the Navigation Timing API) for its own
// page, whatever other tabs load.
const liveTiming = "bic-live"

// maxLiveError bounds the error text an answer carries.
const maxLiveError = 64 << 10

// Live holds what each environment's open pages are told besides its
// release: the error of the last change, shown as a banner. It is safe for
// concurrent use; the zero value is not: use NewLive.
type Live struct {
	mu     sync.Mutex
	errors map[string]string
}

// NewLive returns a Live with no errors.
func NewLive() *Live { return &Live{errors: map[string]string{}} }

// SetError sets the banner of env's pages: the text of what went wrong
// with the last change (diagnostics as bic validate prints them, or a
// failed job), or "" when the last change went through.
func (l *Live) SetError(env, text string) {
	if len(text) > maxLiveError {
		text = text[:maxLiveError] + "\n…"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if text == "" {
		delete(l.errors, env)
	} else {
		l.errors[env] = text
	}
}

// Error returns env's banner text.
func (l *Live) Error(env string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errors[env]
}

// LiveEvent is an answer of /e/ENV/live.
type LiveEvent struct {
	// Release names the release env serves (a short hash of its key), ""
	// when it has none yet.
	Release string `json:"release"`
	// Revision is its revision number.
	Revision int `json:"revision,omitempty"`
	// Error is the banner's text, "" for none.
	Error string `json:"error,omitempty"`
}

// releaseID is the short name of a release key in the live channel.
func releaseID(key string) string {
	h := hashOf(key)
	if len(h) > 16 {
		h = h[:16]
	}
	return h
}

// serveLive serves /e/ENV/live: env's release and banner now, as JSON.
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request, args []string) {
	env := args[0]
	ev := LiveEvent{Error: s.live.Error(env)}
	l, err := s.envs.get(r.Context(), env)
	switch {
	case errors.Is(err, errNoEnv):
	case err != nil:
		writeError(w, r, http.StatusServiceUnavailable, "the release of "+env+" cannot be read now", nil)
		return
	default:
		ev.Release, ev.Revision = releaseID(l.key), l.rel.Revision
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(ev)
}
