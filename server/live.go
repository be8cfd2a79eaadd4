package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The live-reload channel of bic dev: a page served by a server with
// Options.Live follows /e/ENV/live, a stream of server-sent events that
// says which release the environment serves and what went wrong with the
// last change, and reloads itself when the release changes (its URL keeps
// the viewer's filter state) or shows the error as a banner while the
// release it shows keeps serving. bic serve has no Live: its pages never
// ask for it.

// liveTiming tells a page's script that its server is live, and from
// which release the page came: the page is a stored blob, the same as bic
// serve's, so only its response's headers can differ, and Server-Timing is
// the one a script reads (through the Navigation Timing API) for its own
// page, whatever other tabs load.
const liveTiming = "bic-live"

// Bounds of the live channel.
const (
	// maxLiveStreams bounds the open streams: each holds a connection and
	// a goroutine.
	maxLiveStreams = 256
	// liveHeartbeat is how often an idle stream sends a comment, so that a
	// client that went away is noticed and proxies keep it open.
	liveHeartbeat = 15 * time.Second
	// liveWriteTimeout bounds one event's write to a slow client.
	liveWriteTimeout = 10 * time.Second
	// maxLiveError bounds the error text an event carries.
	maxLiveError = 64 << 10
)

// Live holds what each environment's open pages are told besides its
// release: the error of the last change, shown as a banner. It is safe for
// concurrent use; the zero value is not: use NewLive.
type Live struct {
	mu      sync.Mutex
	errors  map[string]string
	changed chan struct{} // closed and replaced on every change
	streams int
	done    chan struct{} // closed by Close
	once    sync.Once
}

// NewLive returns a Live with no errors.
func NewLive() *Live {
	return &Live{errors: map[string]string{}, changed: make(chan struct{}), done: make(chan struct{})}
}

// Close ends every open stream (their pages reconnect to whatever serves
// next), so that a server shutting down does not wait for them.
func (l *Live) Close() { l.once.Do(func() { close(l.done) }) }

// SetError sets the banner of env's pages: the text of what went wrong
// with the last change (diagnostics as bic validate prints them, or a
// failed job), or "" when the last change went through.
func (l *Live) SetError(env, text string) {
	if len(text) > maxLiveError {
		text = text[:maxLiveError] + "\n…"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.errors[env] == text {
		return
	}
	if text == "" {
		delete(l.errors, env)
	} else {
		l.errors[env] = text
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// Error returns env's banner text.
func (l *Live) Error(env string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errors[env]
}

// state returns env's banner and a channel closed at the next change.
func (l *Live) state(env string) (string, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errors[env], l.changed
}

// open counts a stream in, if there is room.
func (l *Live) open() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.streams >= maxLiveStreams {
		return false
	}
	l.streams++
	return true
}

func (l *Live) close() {
	l.mu.Lock()
	l.streams--
	l.mu.Unlock()
}

// LiveEvent is one event of /e/ENV/live.
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

// liveEvent is env's event now.
func (s *Server) liveEvent(r *http.Request, env string) (LiveEvent, <-chan struct{}, error) {
	text, changed := s.live.state(env)
	ev := LiveEvent{Error: text}
	l, err := s.envs.get(r.Context(), env)
	switch {
	case errors.Is(err, errNoEnv):
	case err != nil:
		return ev, changed, err
	default:
		ev.Release, ev.Revision = releaseID(l.key), l.rel.Revision
	}
	return ev, changed, nil
}

// serveLive serves /e/ENV/live: an event when the stream opens, then one
// whenever the release or the banner changes, until the client goes away
// or the server shuts down. The pointer is re-read once per PointerTTL.
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request, args []string) {
	env := args[0]
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") && r.URL.Query().Get("once") != "" {
		// A one-shot JSON answer, for curl and tests.
		ev, _, err := s.liveEvent(r, env)
		if err != nil {
			writeError(w, r, http.StatusServiceUnavailable, "the release of "+env+" cannot be read now", nil)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(ev)
		return
	}
	select {
	case <-s.live.done:
		writeError(w, r, http.StatusServiceUnavailable, "shutting down", nil)
		return
	default:
	}
	if !s.live.open() {
		writeError(w, r, http.StatusServiceUnavailable, "too many live pages open", nil)
		return
	}
	defer s.live.close()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// A client reconnects after a second if the stream breaks.
	if !write([]byte("retry: 1000\n\n")) {
		return
	}
	poll := time.NewTicker(s.ttl)
	defer poll.Stop()
	beat := time.NewTicker(liveHeartbeat)
	defer beat.Stop()
	var last []byte
	for {
		ev, changed, err := s.liveEvent(r, env)
		if err == nil {
			b, _ := json.Marshal(ev)
			if string(b) != string(last) {
				last = b
				if !write(append(append([]byte("data: "), b...), '\n', '\n')) {
					return
				}
			}
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.live.done:
			return
		case <-changed:
		case <-poll.C:
		case <-beat.C:
			if !write([]byte(": keep-alive\n\n")) {
				return
			}
		}
	}
}
