package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/access"
)

// BenchmarkChartJSON compares a chart's JSON served through the Server
// (routing, pointer lookup, state, cache, ETag, metrics) with a bare
// handler writing the same bytes from memory: the cost of everything the
// server adds.
func BenchmarkChartJSON(b *testing.B) {
	st := fileStore(b)
	f := publish(b, st, "prod", 1, "Sales")
	body := f.json[f.defaultKey]
	bare := bareHandler(body)
	srv := New(Options{Storage: st})
	// With token auth: a bearer token (one sha256 and a map lookup) and
	// the session cookie of a signed link (one HMAC).
	tok, hash := access.NewToken()
	if err := access.Write(context.Background(), st, []access.Entry{{ID: hash.ID(), Env: "prod", Hash: hash.String(), CreatedAt: time.Now()}}); err != nil {
		b.Fatal(err)
	}
	authed := New(Options{Storage: st, Auth: AuthToken})
	cookie := "bic_session=" + access.Sign(hash, "prod", time.Now().Add(time.Hour))
	for _, c := range []struct {
		name   string
		h      http.Handler
		path   string
		header []string
	}{
		{"bare", bare, "/e/prod/api/charts/sales/revenue", nil},
		{"server", srv, "/e/prod/api/charts/sales/revenue", nil},
		{"server_state", srv, "/e/prod/api/charts/sales/revenue?region=EU", nil},
		{"server_auth_bearer", authed, "/e/prod/api/charts/sales/revenue", []string{"Authorization", "Bearer " + tok}},
		{"server_auth_cookie", authed, "/e/prod/api/charts/sales/revenue", []string{"Cookie", cookie}},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", c.path, nil)
			for i := 0; i+1 < len(c.header); i += 2 {
				r.Header.Set(c.header[i], c.header[i+1])
			}
			if w := do(b, c.h, "GET", c.path, c.header...); w.Code != 200 {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				w := &discardWriter{h: http.Header{}}
				c.h.ServeHTTP(w, r)
				if w.code != 200 {
					b.Fatal(w.code)
				}
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmark measures the handlers rather than a recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	return len(b), nil
}

// BenchmarkChartJSONHTTP is BenchmarkChartJSON over loopback HTTP with a
// keep-alive client, where what the server adds is measured against a
// whole request rather than a bare function call.
func BenchmarkChartJSONHTTP(b *testing.B) {
	st := fileStore(b)
	f := publish(b, st, "prod", 1, "Sales")
	body := f.json[f.defaultKey]
	bare := bareHandler(body)
	for _, c := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", bare},
		{"server", New(Options{Storage: st})},
	} {
		b.Run(c.name, func(b *testing.B) {
			hs := httptest.NewServer(c.h)
			defer hs.Close()
			client := hs.Client()
			url := hs.URL + "/e/prod/api/charts/sales/revenue"
			b.SetBytes(int64(len(body)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := client.Get(url)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Fatal(res.StatusCode)
					}
				}
			})
		})
	}
}

// bareHandler writes body from memory, as the simplest Go server would.
func bareHandler(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
}
