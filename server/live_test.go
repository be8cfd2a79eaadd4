package server

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// getLive is one poll of url: its status and answer.
func getLive(t *testing.T, url string) (int, LiveEvent) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ev LiveEvent
	if resp.StatusCode == http.StatusOK {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("GET %s: Content-Type %q", url, ct)
		}
		if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return resp.StatusCode, ev
}

// TestLive polls /e/ENV/live through the changes bic dev makes: it names
// the release served, then the banner set and cleared, then the release a
// publish made; pages carry the header that tells their script to poll;
// bic serve (no Live) has neither the route nor the header.
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

	poll := func(env string) LiveEvent {
		t.Helper()
		code, ev := getLive(t, srv.URL+"/e/"+env+"/live")
		if code != http.StatusOK {
			t.Fatalf("GET /e/%s/live: %d", env, code)
		}
		return ev
	}
	if ev := poll("dev"); ev != (LiveEvent{Release: releaseID(f1.relKey), Revision: 1}) {
		t.Fatalf("first answer %+v, want release %s revision 1", ev, releaseID(f1.relKey))
	}
	const diag = "dashboards/sales.yaml:7:66: error: chart \"revenue\": <b>no</b>\n1 error(s), 0 warning(s)\n"
	live.SetError("dev", diag)
	live.SetError("other", "another environment's error is not dev's")
	if ev := poll("dev"); ev.Error != diag || ev.Release != releaseID(f1.relKey) {
		t.Fatalf("after SetError: %+v", ev)
	}
	live.SetError("dev", "")
	if ev := poll("dev"); ev.Error != "" {
		t.Fatalf("after clearing the error: %+v", ev)
	}
	f2 := publish(t, st, "dev", 2, "two")
	// Seen once the server reads the pointer again (its TTL is 10 ms).
	ev := poll("dev")
	for deadline := time.Now().Add(10 * time.Second); ev.Revision == 1 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		ev = poll("dev")
	}
	if ev != (LiveEvent{Release: releaseID(f2.relKey), Revision: 2}) {
		t.Fatalf("after a publish: %+v, want release %s revision 2", ev, releaseID(f2.relKey))
	}
	// The index follows the same channel, from the release it lists.
	resp, err = http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	var index strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&index)
	resp.Body.Close()
	if want := `data-live-env="dev" data-release="` + releaseID(f2.relKey) + `"`; !strings.Contains(index.String(), want) || !strings.Contains(index.String(), "<script>") {
		t.Errorf("the index does not follow the live channel from %s:\n%s", want, index.String())
	}
	// The answer as the pages' script reads it, and an environment
	// without a release.
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
			t.Errorf("%s: %s, want %s", tc.env, got, tc.want)
		}
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
	resp, err = http.Get(plain.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	index.Reset()
	_, _ = bufio.NewReader(resp.Body).WriteTo(&index)
	resp.Body.Close()
	if strings.Contains(index.String(), "data-live-env") || strings.Contains(index.String(), "<script>") {
		t.Errorf("bic serve's index follows a live channel:\n%s", index.String())
	}
}

// TestLiveBounds: the error text is cut.
func TestLiveBounds(t *testing.T) {
	live := NewLive()
	live.SetError("dev", strings.Repeat("x", 2*maxLiveError))
	if n := len(live.Error("dev")); n > maxLiveError+8 {
		t.Errorf("error kept at %d bytes, want at most about %d", n, maxLiveError)
	}
}
