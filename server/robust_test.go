package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
)

func TestMethods(t *testing.T) {
	st := fileStore(t)
	publish(t, st, "prod", 1, "Sales")
	srv := New(Options{Storage: st})
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"} {
		for _, p := range []string{"/", "/e/prod/d/sales", "/e/prod/api/charts/sales/revenue", "/nope"} {
			r := httptest.NewRequest(m, "http://bic.test"+p, strings.NewReader("a body that is ignored"))
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: %d, Allow %q", m, p, w.Code, w.Header().Get("Allow"))
			}
		}
	}
	// A GET with a body is answered; the body is not read.
	r := httptest.NewRequest("GET", "http://bic.test/e/prod/d/sales", strings.NewReader("ignored"))
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("GET with a body: %d", w.Code)
	}
}

// panicky is storage that panics when asked for one key.
type panicky struct {
	storage.Reader
	key   string
	armed atomic.Bool
}

func (p *panicky) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == p.key && p.armed.Load() {
		panic("storage exploded")
	}
	return p.Reader.Get(ctx, key)
}

func TestPanicRecovered(t *testing.T) {
	st := fileStore(t)
	f := publish(t, st, "prod", 1, "Sales")
	p := &panicky{Reader: st, key: f.pageKey}
	p.armed.Store(true)
	reg := prometheus.NewRegistry()
	srv := New(Options{Storage: p, Registry: reg})
	if w := do(t, srv, "GET", "/e/prod/d/sales"); w.Code != 500 || !strings.Contains(w.Body.String(), "internal error") {
		t.Fatalf("panicking handler: %d %s", w.Code, w.Body)
	}
	if w := do(t, srv, "GET", "/e/prod/api/charts/sales/revenue"); w.Code != 200 {
		t.Fatalf("after a panic: %d %s", w.Code, w.Body)
	}
	p.armed.Store(false)
	if w := do(t, srv, "GET", "/e/prod/d/sales"); w.Code != 200 {
		t.Fatalf("the same request without the panic: %d", w.Code)
	}
	if w := do(t, srv, "GET", "/metrics"); !strings.Contains(w.Body.String(), `bic_server_requests_total{code="500",route="page"} 1`) {
		t.Errorf("the panic is not counted as a 500:\n%s", w.Body)
	}
	// Through a real HTTP server too (a fresh one: the page is cached now),
	// whose connection survives for the next request.
	p.armed.Store(true)
	hs := httptest.NewServer(New(Options{Storage: p}))
	defer hs.Close()
	for i, want := range []int{500, 200} {
		if i == 1 {
			p.armed.Store(false)
		}
		res, err := http.Get(hs.URL + "/e/prod/d/sales")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("request %d: %d, want %d", i, res.StatusCode, want)
		}
	}
}

func TestMetrics(t *testing.T) {
	st := fileStore(t)
	publish(t, st, "prod", 1, "Sales")
	reg := prometheus.NewRegistry()
	srv := New(Options{Storage: st, Registry: reg})
	do(t, srv, "GET", "/e/prod/d/sales")
	do(t, srv, "GET", "/e/prod/d/sales")
	do(t, srv, "GET", "/e/prod/d/nope")
	w := do(t, srv, "GET", "/metrics")
	for _, want := range []string{
		`bic_server_requests_total{code="200",route="page"} 2`,
		`bic_server_requests_total{code="404",route="page"} 1`,
		`bic_server_request_duration_seconds_count{route="page"} 3`,
		`bic_server_blob_cache_hits_total 1`,
		`bic_server_blob_cache_misses_total 1`,
		`bic_server_blob_cache_entries 1`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// broken is storage that does not answer.
type broken struct{ storage.Reader }

func (broken) List(context.Context, string) ([]storage.Info, error) {
	return nil, errors.New("connection refused")
}

func (broken) Get(context.Context, string) (io.ReadCloser, error) {
	return nil, errors.New("connection refused")
}

func TestStorageDown(t *testing.T) {
	st := fileStore(t)
	srv := New(Options{Storage: broken{st}})
	for _, c := range []struct {
		path string
		code int
	}{
		{"/healthz", 200},
		{"/readyz", 503},
		{"/", 503},
		{"/e/prod/d/sales", 503},
	} {
		if w := do(t, srv, "GET", c.path); w.Code != c.code {
			t.Errorf("%s: %d %s, want %d", c.path, w.Code, w.Body, c.code)
		}
	}
}

// flaky is storage whose pointers stop answering when told to.
type flaky struct {
	storage.Reader
	down atomic.Bool
}

func (f *flaky) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if f.down.Load() && strings.HasPrefix(key, "envs/") {
		return nil, errors.New("connection refused")
	}
	return f.Reader.Get(ctx, key)
}

// TestStaleOnStorageError: a release read before keeps serving when its
// pointer cannot be read again.
func TestStaleOnStorageError(t *testing.T) {
	st := fileStore(t)
	publish(t, st, "prod", 1, "Sales")
	fl := &flaky{Reader: st}
	srv := New(Options{Storage: fl, PointerTTL: time.Millisecond})
	if w := do(t, srv, "GET", "/e/prod/d/sales"); w.Code != 200 {
		t.Fatal(w.Code)
	}
	fl.down.Store(true)
	time.Sleep(5 * time.Millisecond)
	if w := do(t, srv, "GET", "/e/prod/d/sales"); w.Code != 200 {
		t.Errorf("with the pointer unreadable: %d %s", w.Code, w.Body)
	}
}

// counting counts pointer reads.
type counting struct {
	storage.Reader
	pointerReads atomic.Int64
}

func (c *counting) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.HasSuffix(key, "/current") {
		c.pointerReads.Add(1)
		time.Sleep(20 * time.Millisecond) // a slow store, so that requests overlap
	}
	return c.Reader.Get(ctx, key)
}

// TestOnePointerRead: concurrent requests share one pointer read.
func TestOnePointerRead(t *testing.T) {
	st := fileStore(t)
	publish(t, st, "prod", 1, "Sales")
	c := &counting{Reader: st}
	srv := New(Options{Storage: c, PointerTTL: time.Hour})
	done := make(chan int)
	for range 50 {
		go func() { done <- do(t, srv, "GET", "/e/prod/api/charts/sales/revenue").Code }()
	}
	for range 50 {
		if code := <-done; code != 200 {
			t.Errorf("code %d", code)
		}
	}
	if n := c.pointerReads.Load(); n != 1 {
		t.Errorf("%d pointer reads for 50 concurrent requests, want 1", n)
	}
}

// fakeOnDemand computes every state as the EU one.
type fakeOnDemand struct {
	data release.Data
	got  Request
	err  error
}

func (f *fakeOnDemand) Compute(_ context.Context, req Request) (release.Data, error) {
	f.got = req
	return f.data, f.err
}

func TestOnDemand(t *testing.T) {
	st := fileStore(t)
	f := publish(t, st, "prod", 3, "Sales")
	od := &fakeOnDemand{data: release.Data{JSON: f.jsonKey[f.euKey], CSV: f.csvKey}}
	srv := New(Options{Storage: st, OnDemand: od})
	w := do(t, srv, "GET", "/e/prod/api/charts/sales/revenue?region=US")
	if w.Code != 200 || w.Body.String() != string(f.json[f.euKey]) {
		t.Fatalf("on demand: %d %s", w.Code, w.Body)
	}
	want := stateKey(t, map[string]any{"region": "US"})
	if od.got.StateKey != want || od.got.Chart != "sales/revenue" || od.got.Env != "prod" || od.got.Revision != 3 || od.got.State["region"] != "US" {
		t.Errorf("request %+v", od.got)
	}
	od.err = context.DeadlineExceeded
	if w := do(t, srv, "GET", "/e/prod/api/charts/sales/revenue?region=US"); w.Code != http.StatusGatewayTimeout {
		t.Errorf("timeout: %d", w.Code)
	}
	od.err = errors.New("no runner")
	if w := do(t, srv, "GET", "/e/prod/api/charts/sales/revenue?region=US"); w.Code != http.StatusBadGateway {
		t.Errorf("failure: %d", w.Code)
	}
}

func TestLargeAndCorruptBlobs(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Store) {
		f := publish(t, st, "prod", 1, "Sales")
		// The page (over 2 KB) is more than a quarter of this cache: streamed.
		srv := New(Options{Storage: st, CacheBytes: 4096})
		w := do(t, srv, "GET", "/e/prod/d/sales", "Accept-Encoding", "gzip")
		if w.Code != 200 || w.Body.String() != string(f.page) || w.Header().Get("Content-Encoding") != "" ||
			w.Header().Get("Content-Length") != strconv.Itoa(len(f.page)) || w.Header().Get("ETag") != `"`+hashOf(f.pageKey)+`"` {
			t.Errorf("streamed page: %d, %d bytes, headers %v", w.Code, w.Body.Len(), w.Header())
		}
		if n, _ := srv.blobs.stats(); n != 0 {
			t.Errorf("%d entries cached", n)
		}
		if w := do(t, srv, "HEAD", "/e/prod/d/sales"); w.Code != 200 || w.Body.Len() != 0 {
			t.Errorf("HEAD of a streamed page: %d, %d bytes", w.Code, w.Body.Len())
		}
		// A blob whose bytes are not those of its hash is never served.
		if err := st.Put(context.Background(), f.jsonKey[f.euKey], strings.NewReader(`{"tampered":true}`)); err != nil {
			t.Fatal(err)
		}
		if w := do(t, srv, "GET", "/e/prod/api/charts/sales/revenue?region=EU"); w.Code != 500 || strings.Contains(w.Body.String(), "tampered") {
			t.Errorf("corrupt blob: %d %s", w.Code, w.Body)
		}
		// A release that names a missing blob: 404, not a hang or a 500.
		if err := st.Delete(context.Background(), f.csvKey); err != nil {
			t.Fatal(err)
		}
		if w := do(t, srv, "GET", "/e/prod/csv/sales/revenue"); w.Code != 404 || !strings.Contains(w.Body.String(), "missing") {
			t.Errorf("missing blob: %d %s", w.Code, w.Body)
		}
	})
}
