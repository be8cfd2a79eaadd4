package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/bic-dev/bic/publish/storage"
)

func do(t testing.TB, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "http://bic.test"+target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRoutes(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Store) {
		f := publish(t, st, "prod", 1, "Sales")
		srv := New(Options{Storage: st})
		hash := func(key string) string { return hashOf(key) }
		for _, c := range []struct {
			name, path string
			code       int
			ctype      string
			body       string // exact body when set
			contains   string
			cache      string
			header     map[string]string
		}{
			{name: "index lists environments and dashboards, escaped", path: "/", code: 200, ctype: "text/html; charset=utf-8",
				contains: `<strong>Sales &lt;script&gt;alert(1)&lt;/script&gt;</strong></a><p>The picture is of an earlier release.</p><p>money &amp; more</p>`, cache: "no-cache"},
			{name: "page", path: "/e/prod/d/sales", code: 200, ctype: "text/html; charset=utf-8", body: string(f.page), cache: "no-cache",
				header: map[string]string{"ETag": `"` + hash(f.pageKey) + `"`, "X-Bic-Revision": "1"}},
			{name: "chart json, default state", path: "/e/prod/api/charts/sales/revenue", code: 200, ctype: "application/json",
				body: string(f.json[f.defaultKey]), cache: "no-cache",
				header: map[string]string{"X-Bic-State-Key": f.defaultKey, "X-Bic-Computed-At": "2024-01-02T03:04:05Z"}},
			{name: "chart json, default state spelt out", path: "/e/prod/api/charts/sales/revenue?period=last_30_days", code: 200,
				body: string(f.json[f.defaultKey])},
			{name: "chart json, precomputed state", path: "/e/prod/api/charts/sales/revenue?region=EU", code: 200,
				body: string(f.json[f.euKey]), header: map[string]string{"X-Bic-State-Key": f.euKey}},
			{name: "csv", path: "/e/prod/csv/sales/revenue", code: 200, ctype: "text/csv; charset=utf-8", body: string(f.csv),
				cache: "no-cache", header: map[string]string{"Content-Disposition": `attachment; filename="sales-revenue.csv"`}},
			{name: "csv of a state", path: "/e/prod/csv/sales/revenue?region=EU", code: 200, body: string(f.csv)},
			{name: "asset of an environment", path: "/e/prod/assets/bic.js", code: 200, ctype: "text/javascript; charset=utf-8",
				body: string(f.assetJS), cache: cacheAsset},
			{name: "asset with its hash is immutable", path: "/e/prod/assets/bic.js?v=" + hash(f.assetKey), code: 200, cache: cacheImmutable},
			{name: "asset of any environment", path: "/assets/bic.js", code: 200, body: string(f.assetJS)},
			{name: "blob", path: "/" + f.pageKey, code: 200, ctype: "text/html; charset=utf-8", body: string(f.page), cache: cacheImmutable},
			{name: "blob of an environment", path: "/e/prod/" + f.jsonKey[f.euKey], code: 200, ctype: "application/json", cache: cacheImmutable},
			{name: "healthz", path: "/healthz", code: 200, body: "ok\n"},
			{name: "readyz", path: "/readyz", code: 200, contains: "ok"},
			{name: "metrics without a registry", path: "/metrics", code: 404},
			{name: "unknown environment", path: "/e/staging/d/sales", code: 404, ctype: "application/json; charset=utf-8", contains: "no environment staging"},
			{name: "unknown dashboard", path: "/e/prod/d/nope", code: 404, contains: "no dashboard nope"},
			{name: "unknown chart", path: "/e/prod/api/charts/sales/nope", code: 404, contains: "no chart sales/nope"},
			{name: "chart of an unknown dashboard", path: "/e/prod/api/charts/nope/revenue", code: 404},
			{name: "unknown asset", path: "/e/prod/assets/nope.js", code: 404},
			{name: "unknown asset anywhere", path: "/assets/nope.js", code: 404},
			{name: "a blob no release names", path: "/" + f.unnamedKey, code: 404},
			{name: "the release document itself", path: "/" + f.relKey, code: 404},
			{name: "a blob of no environment", path: "/e/prod/" + f.unnamedKey, code: 404},
			{name: "a blob key that is not a hash", path: "/blobs/ab/cd", code: 404},
			{name: "unknown route", path: "/nope", code: 404},
			{name: "environment without a route", path: "/e/prod", code: 404},
		} {
			t.Run(c.name, func(t *testing.T) {
				w := do(t, srv, "GET", c.path)
				if w.Code != c.code {
					t.Fatalf("GET %s: %d %s, want %d", c.path, w.Code, w.Body, c.code)
				}
				if c.ctype != "" && w.Header().Get("Content-Type") != c.ctype {
					t.Errorf("Content-Type %q, want %q", w.Header().Get("Content-Type"), c.ctype)
				}
				if c.body != "" && w.Body.String() != c.body {
					t.Errorf("body %q, want %q", w.Body, c.body)
				}
				if !strings.Contains(w.Body.String(), c.contains) {
					t.Errorf("body %q does not contain %q", w.Body, c.contains)
				}
				if c.cache != "" && w.Header().Get("Cache-Control") != c.cache {
					t.Errorf("Cache-Control %q, want %q", w.Header().Get("Cache-Control"), c.cache)
				}
				for k, v := range c.header {
					if got := w.Header().Get(k); got != v {
						t.Errorf("%s: %q, want %q", k, got, v)
					}
				}
				if c.code >= 400 {
					var e map[string]any
					if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e["error"] == nil {
						t.Errorf("error body %q is not {\"error\": …}", w.Body)
					}
				}
			})
		}
		t.Run("HEAD has headers and no body", func(t *testing.T) {
			w := do(t, srv, "HEAD", "/e/prod/d/sales")
			if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != strconv.Itoa(len(f.page)) {
				t.Errorf("HEAD: %d, %d bytes, Content-Length %q", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
			}
		})
	})
}

func TestETagAndCompression(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Store) {
		f := publish(t, st, "prod", 1, "Sales")
		srv := New(Options{Storage: st})
		plain := `"` + hashOf(f.pageKey) + `"`
		gz := `"` + hashOf(f.pageKey) + `-gzip"`
		br := `"` + hashOf(f.pageKey) + `-br"`
		for _, c := range []struct {
			name, path, inm, ae string
			code                int
			etag, encoding      string
		}{
			{name: "plain", path: "/e/prod/d/sales", code: 200, etag: plain},
			{name: "brotli first", path: "/e/prod/d/sales", ae: "gzip, deflate, br", code: 200, etag: br, encoding: "br"},
			{name: "gzip", path: "/e/prod/d/sales", ae: "gzip, deflate", code: 200, etag: gz, encoding: "gzip"},
			{name: "brotli refused by q=0", path: "/e/prod/d/sales", ae: "br;q=0, gzip", code: 200, etag: gz, encoding: "gzip"},
			{name: "gzip refused by q=0", path: "/e/prod/d/sales", ae: "gzip;q=0", code: 200, etag: plain},
			{name: "any coding", path: "/e/prod/d/sales", ae: "*", code: 200, etag: br, encoding: "br"},
			{name: "any but brotli", path: "/e/prod/d/sales", ae: "*, br;q=0", code: 200, etag: gz, encoding: "gzip"},
			{name: "not modified", path: "/e/prod/d/sales", inm: plain, code: 304, etag: plain},
			{name: "not modified, gzip tag", path: "/e/prod/d/sales", inm: gz, ae: "gzip", code: 304, etag: gz},
			{name: "not modified, brotli tag", path: "/e/prod/d/sales", inm: br, ae: "br", code: 304, etag: br},
			{name: "not modified, one of a list", path: "/e/prod/d/sales", inm: `"x", W/` + plain, code: 304, etag: plain},
			{name: "another tag", path: "/e/prod/d/sales", inm: `"` + strings.Repeat("0", 64) + `"`, code: 200, etag: plain},
			{name: "blob not modified", path: "/" + f.pageKey, inm: plain, code: 304, etag: plain},
			{name: "small json is not compressed", path: "/e/prod/api/charts/sales/revenue?region=EU", ae: "gzip", code: 200,
				etag: `"` + hashOf(f.jsonKey[f.euKey]) + `"`},
			{name: "png-like types are not compressed", path: "/e/prod/assets/bic.js", ae: "gzip", code: 200,
				etag: `"` + hashOf(f.assetKey) + `-gzip"`, encoding: "gzip"},
		} {
			t.Run(c.name, func(t *testing.T) {
				w := do(t, srv, "GET", c.path, "If-None-Match", c.inm, "Accept-Encoding", c.ae)
				if w.Code != c.code {
					t.Fatalf("%d, want %d", w.Code, c.code)
				}
				if got := w.Header().Get("ETag"); got != c.etag {
					t.Errorf("ETag %s, want %s", got, c.etag)
				}
				if got := w.Header().Get("Content-Encoding"); got != c.encoding {
					t.Errorf("Content-Encoding %q, want %q", got, c.encoding)
				}
				if c.code == 304 && w.Body.Len() != 0 {
					t.Errorf("304 with a body of %d bytes", w.Body.Len())
				}
				if c.encoding != "" {
					var zr io.Reader = brotli.NewReader(w.Body)
					if c.encoding == "gzip" {
						var err error
						if zr, err = gzip.NewReader(w.Body); err != nil {
							t.Fatal(err)
						}
					}
					b, err := io.ReadAll(zr)
					if err != nil {
						t.Fatal(err)
					}
					if !strings.Contains(c.path, "assets") && !bytes.Equal(b, f.page) {
						t.Errorf("decoded %q, want the page", b)
					}
				}
				if c.code == 200 && strings.Contains(c.path, "/d/") && w.Header().Get("Vary") != "Accept-Encoding" {
					t.Errorf("Vary %q", w.Header().Get("Vary"))
				}
			})
		}
	})
}

func TestFilterStates(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Store) {
		f := publish(t, st, "prod", 1, "Sales")
		srv := New(Options{Storage: st})
		for _, c := range []struct {
			name, query string
			code        int
			body        string
			stateKey    string
			contains    string
		}{
			{name: "default", query: "", code: 200, body: string(f.json[f.defaultKey])},
			{name: "precomputed", query: "region=EU", code: 200, body: string(f.json[f.euKey])},
			{name: "precomputed with the default spelt out", query: "region=EU&period=last_30_days", code: 200, body: string(f.json[f.euKey])},
			{name: "empty value restricts nothing", query: "region=EU&country=", code: 200, body: string(f.json[f.euKey])},
			{name: "not precomputed", query: "region=US", code: 404, contains: "not precomputed",
				stateKey: stateKey(t, map[string]any{"region": "US"})},
			{name: "multi-select repeated", query: "country=FR&country=DE", code: 404,
				stateKey: stateKey(t, map[string]any{"country": []any{"DE", "FR"}})},
			{name: "multi-select comma list", query: "country=DE,FR,DE", code: 404,
				stateKey: stateKey(t, map[string]any{"country": []any{"FR", "DE"}})},
			{name: "number range", query: "price=10..100", code: 404,
				stateKey: stateKey(t, map[string]any{"price": map[string]any{"min": 10.0, "max": 100.0}})},
			{name: "number range open above", query: "price=10..", code: 404,
				stateKey: stateKey(t, map[string]any{"price": map[string]any{"min": 10.0}})},
			{name: "date range named", query: "period=last_7_days", code: 404,
				stateKey: stateKey(t, map[string]any{"period": "last_7_days"})},
			{name: "date range from..to", query: "period=2024-01-01..2024-12-31", code: 404,
				stateKey: stateKey(t, map[string]any{"period": map[string]any{"from": "2024-01-01", "to": "2024-12-31"}})},
			{name: "date range cleared", query: "period=", code: 404,
				stateKey: stateKey(t, map[string]any{"period": nil})},
			{name: "boolean", query: "paid=true", code: 404, stateKey: stateKey(t, map[string]any{"paid": true})},
			{name: "unknown filter", query: "colour=red", code: 400, contains: `no filter \"colour\"`},
			{name: "value not among the choices", query: "region=XX", code: 400, contains: "not one of the filter's values"},
			{name: "select given twice", query: "region=EU&region=US", code: 400, contains: "takes one value"},
			{name: "number range without ..", query: "price=10", code: 400, contains: "MIN..MAX"},
			{name: "number range of words", query: "price=a..b", code: 400, contains: "expected a number"},
			{name: "number range reversed", query: "price=10..1", code: 400, contains: "before it starts"},
			{name: "bad date range", query: "period=someday", code: 400, contains: "period"},
			{name: "bad boolean", query: "paid=maybe", code: 400, contains: "true or false"},
		} {
			t.Run(c.name, func(t *testing.T) {
				w := do(t, srv, "GET", "/e/prod/api/charts/sales/revenue?"+c.query)
				if w.Code != c.code {
					t.Fatalf("?%s: %d %s, want %d", c.query, w.Code, w.Body, c.code)
				}
				if c.body != "" && w.Body.String() != c.body {
					t.Errorf("body %s, want %s", w.Body, c.body)
				}
				if !strings.Contains(w.Body.String(), c.contains) {
					t.Errorf("body %s does not contain %s", w.Body, c.contains)
				}
				if c.stateKey != "" {
					var e struct {
						StateKey string `json:"state_key"`
					}
					json.Unmarshal(w.Body.Bytes(), &e)
					if e.StateKey != c.stateKey {
						t.Errorf("state_key %q, want %q (body %s)", e.StateKey, c.stateKey, w.Body)
					}
				}
			})
		}
	})
}

func TestPointerFlip(t *testing.T) {
	t.Run("default ttl", func(t *testing.T) {
		t.Parallel()
		testPointerFlip(t, fileStore(t), 0)
	})
	eachStore(t, func(t *testing.T, st storage.Store) {
		testPointerFlip(t, st, 50*time.Millisecond)
	})
}

// testPointerFlip: a publish is served within 2 s.
func testPointerFlip(t *testing.T, st storage.Store, ttl time.Duration) {
	publish(t, st, "prod", 1, "first")
	srv := New(Options{Storage: st, PointerTTL: ttl})
	if w := do(t, srv, "GET", "/e/prod/d/sales"); !strings.Contains(w.Body.String(), "<title>first</title>") {
		t.Fatalf("before the flip: %d %s", w.Code, w.Body)
	}
	if w := do(t, srv, "GET", "/e/preview/d/sales"); w.Code != 404 {
		t.Fatalf("an environment not yet published: %d", w.Code)
	}
	publish(t, st, "prod", 2, "second")
	publish(t, st, "preview", 1, "preview")
	flipped := time.Now()
	for _, c := range []struct{ path, want string }{
		{"/e/prod/d/sales", "<title>second</title>"},
		{"/e/preview/d/sales", "<title>preview</title>"},
		{"/e/prod/api/charts/sales/revenue?region=EU", `"rev":2`},
		{"/", "preview"},
	} {
		for {
			w := do(t, srv, "GET", c.path)
			if strings.Contains(w.Body.String(), c.want) {
				break
			}
			if time.Since(flipped) > 2*time.Second {
				t.Fatalf("%s still answers %d %.80q two seconds after the flip", c.path, w.Code, w.Body)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Logf("flip seen after %v", time.Since(flipped))
}

func TestTraversal(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Store) {
		f := publish(t, st, "prod", 1, "Sales")
		srv := New(Options{Storage: st})
		if w := do(t, srv, "GET", "/e/prod/d/sales"); w.Code != 200 {
			t.Fatalf("the page itself: %d", w.Code)
		}
		for _, p := range []string{
			"/e/prod/d/../../envs/prod/current",
			"/e/prod/d/..",
			"/e/../d/sales",
			"/e/prod/d/%2e%2e",
			"/e/prod%2Fd/sales",
			"/e/prod/d/sales%2F..%2F..",
			"/e/prod/d/sales%00",
			`/e/prod/d/sales\..\..`,
			"/e/prod/assets/..%5c..%5cenvs",
			"/e/prod/assets/.tmp",
			"/assets/../envs/prod/current",
			"/assets/%2e%2e/envs/prod/current",
			"/envs/prod/current",
			"/blobs/../envs/prod/current",
			"/blobs/" + hashOf(f.pageKey)[:2] + "/../../envs/prod/current",
			"/" + strings.Replace(f.pageKey, "/", "%2F", 1),
			"/blobs/" + strings.ToUpper(hashOf(f.pageKey)[:2]) + "/" + hashOf(f.pageKey)[2:],
			"//e/prod/d/sales",
			"/e/prod/d/sales/",
			"/e/prod//d/sales",
			"/e/" + strings.Repeat("a", 200) + "/d/sales",
			"/e/pr%20od/d/sales",
			"/e/pr.od/d/sales",
			"/e/prod/d/sa+les",
			"/e/prod/d/sales.html",
		} {
			t.Run(p, func(t *testing.T) {
				// as the HTTP server reads a request line: the path is not cleaned
				r := httptest.NewRequest("GET", p, nil)
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, r)
				if w.Code != http.StatusNotFound {
					t.Errorf("GET %s: %d %.100q, want 404", p, w.Code, w.Body)
				}
			})
		}
	})
}

// TestNothingOutside: a file beside the local store's directory is not
// reachable, however the path is spelt.
func TestNothingOutside(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "store")
	if err := os.WriteFile(filepath.Join(parent, "secret"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(context.Background(), "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	publish(t, st, "prod", 1, "Sales")
	srv := httptest.NewServer(New(Options{Storage: st}))
	defer srv.Close()
	for _, p := range []string{"/../secret", "/e/prod/../../secret", "/e/prod/assets/..%2F..%2Fsecret", "/assets/..%2fsecret", "/blobs/..%2F..%2Fsecret"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.URL.Opaque = p // sent as written, not cleaned by the client
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || string(b) == "secret" {
			t.Errorf("GET %s: %d %q", p, res.StatusCode, b)
		}
	}
}
