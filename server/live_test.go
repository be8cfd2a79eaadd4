package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// liveStream reads a /e/ENV/live stream's events.
type liveStream struct {
	t      *testing.T
	resp   *http.Response
	events chan LiveEvent
}

func openLive(t *testing.T, url string) *liveStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: %s %s", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	s := &liveStream{t: t, resp: resp, events: make(chan LiveEvent, 16)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev LiveEvent
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Errorf("event %q: %v", data, err)
				return
			}
			s.events <- ev
		}
	}()
	return s
}

// next is the stream's next event; a test's deadline bounds the wait.
func (s *liveStream) next() LiveEvent {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(30 * time.Second):
		s.t.Fatal("no event within 30s")
	}
	return LiveEvent{}
}

// TestLive follows /e/ENV/live through the changes bic dev makes: the
// first event names the release served, a banner set and cleared is an
// event each, a publish is an event naming the new release; pages carry
// the header that tells their script to follow; bic serve (no Live) has
// neither the route nor the header.
func TestLive(t *testing.T) {
	st := fileStore(t)
	f1 := publish(t, st, "dev", 1, "one")
	live := NewLive()
	srv := httptest.NewServer(New(Options{Storage: st, PointerTTL: 10 * time.Millisecond, Live: live}))
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/e/dev/d/sales")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := liveTiming + `;desc="` + releaseID(f1.relKey) + `"`
	if got := resp.Header.Get("Server-Timing"); got != want {
		t.Fatalf("page Server-Timing %q, want %q", got, want)
	}
	// A revalidated page says the same.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/e/dev/d/sales", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Server-Timing"); resp.StatusCode != http.StatusNotModified || got != want {
		t.Fatalf("revalidated page: %d, Server-Timing %q; want 304, %q", resp.StatusCode, got, want)
	}

	s := openLive(t, srv.URL+"/e/dev/live")
	if ev := s.next(); ev != (LiveEvent{Release: releaseID(f1.relKey), Revision: 1}) {
		t.Fatalf("first event %+v, want release %s revision 1", ev, releaseID(f1.relKey))
	}
	const diag = "dashboards/sales.yaml:7:66: error: chart \"revenue\": <b>no</b>\n1 error(s), 0 warning(s)\n"
	live.SetError("dev", diag)
	live.SetError("other", "another environment's error is not dev's")
	if ev := s.next(); ev.Error != diag || ev.Release != releaseID(f1.relKey) {
		t.Fatalf("after SetError: %+v", ev)
	}
	live.SetError("dev", "")
	if ev := s.next(); ev.Error != "" {
		t.Fatalf("after clearing the error: %+v", ev)
	}
	f2 := publish(t, st, "dev", 2, "two")
	if ev := s.next(); ev != (LiveEvent{Release: releaseID(f2.relKey), Revision: 2}) {
		t.Fatalf("after a publish: %+v, want release %s revision 2", ev, releaseID(f2.relKey))
	}

	// One-shot JSON, and an environment without a release.
	for _, tc := range []struct{ env, want string }{
		{"dev", `{"release":"` + releaseID(f2.relKey) + `","revision":2}`},
		{"nothing", `{"release":""}`},
	} {
		resp, err := http.Get(srv.URL + "/e/" + tc.env + "/live?once=1")
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
		resp.Body.Close()
		if got := strings.TrimSpace(b.String()); got != tc.want {
			t.Errorf("%s once: %s, want %s", tc.env, got, tc.want)
		}
	}

	// Close ends the streams (the server's shutdown does not wait for them).
	live.Close()
	select {
	case _, ok := <-s.events:
		if ok {
			t.Fatal("an event after Close")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the stream did not end after Close")
	}

	// bic serve: no live route, no cookie.
	plain := httptest.NewServer(New(Options{Storage: st}))
	t.Cleanup(plain.Close)
	for _, path := range []string{"/e/dev/live", "/e/dev/live?once=1"} {
		resp, err := http.Get(plain.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("bic serve %s: %d, want 404", path, resp.StatusCode)
		}
	}
	resp, err = http.Get(plain.URL + "/e/dev/d/sales")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header.Get("Server-Timing"); h != "" {
		t.Errorf("bic serve's page says it is live: Server-Timing %s", h)
	}
}

// TestLiveBounds: the error text is cut, and streams past the limit are
// refused instead of holding a goroutine each.
func TestLiveBounds(t *testing.T) {
	live := NewLive()
	live.SetError("dev", strings.Repeat("x", 2*maxLiveError))
	if n := len(live.Error("dev")); n > maxLiveError+8 {
		t.Errorf("error kept at %d bytes, want at most about %d", n, maxLiveError)
	}
	st := fileStore(t)
	publish(t, st, "dev", 1, "one")
	srv := httptest.NewServer(New(Options{Storage: st, Live: live}))
	t.Cleanup(srv.Close)
	live.mu.Lock()
	live.streams = maxLiveStreams
	live.mu.Unlock()
	resp, err := http.Get(srv.URL + "/e/dev/live")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a stream past the limit: %d, want 503", resp.StatusCode)
	}
	live.mu.Lock()
	live.streams = 0
	live.mu.Unlock()
	live.Close()
	resp, err = http.Get(srv.URL + "/e/dev/live")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a stream after Close: %d, want 503", resp.StatusCode)
	}
}
