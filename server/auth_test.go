package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/access"
	"github.com/bic-dev/bic/publish/storage"
)

// lockedBuffer is a log sink for parallel tests.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// authFixture is two published environments and the tokens of an
// allow-list in storage.
type authFixture struct {
	st                             storage.Store
	prod                           *fixture
	srv                            *Server
	log                            *lockedBuffer
	entries                        []access.Entry
	prodTok, prTok, expiredTok     string
	revokedTok, stagingTok, unlist string
	tokens                         []string // every token, to look for in bodies and logs
}

func newAuthFixture(t *testing.T, st storage.Store) *authFixture {
	t.Helper()
	a := &authFixture{st: st, log: &lockedBuffer{}}
	a.prod = publish(t, st, "prod", 1, "Sales")
	publish(t, st, "pr-42", 1, "Preview")
	now := time.Now().UTC()
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	add := func(env string, expires *time.Time) string {
		tok, h := access.NewToken()
		a.entries = append(a.entries, access.Entry{ID: h.ID(), Env: env, Hash: h.String(), CreatedAt: now, ExpiresAt: expires})
		a.tokens = append(a.tokens, tok)
		return tok
	}
	a.prodTok = add("prod", nil)
	a.prTok = add("pr-42", &future)
	a.expiredTok = add("prod", &past)
	a.revokedTok = add("prod", nil)
	a.stagingTok = add("staging", nil) // an environment without a release
	a.unlist, _ = access.NewToken()
	a.tokens = append(a.tokens, a.unlist)
	if err := access.Write(context.Background(), st, a.entries); err != nil {
		t.Fatal(err)
	}
	a.srv = New(Options{Storage: st, Auth: AuthToken, Log: slog.New(slog.NewTextHandler(a.log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	return a
}

func hashOfToken(tok string) access.Hash { return access.HashToken(tok) }

// checkNoToken fails if s holds any token of a, or a part of one.
func (a *authFixture) checkNoToken(t *testing.T, what, s string) {
	t.Helper()
	for _, tok := range a.tokens {
		if strings.Contains(s, tok) || strings.Contains(s, tok[len(access.Prefix):len(access.Prefix)+20]) {
			t.Errorf("%s holds a token: %.300s", what, s)
		}
	}
}

// TestAuthEveryRoute tries every route with every kind of credential:
// none, wrong, another environment's, expired, for an environment
// without a release, expired and foreign and tampered links, and valid
// ones by header, URL and cookie.
func TestAuthEveryRoute(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Store) {
		a := newAuthFixture(t, st)
		f := a.prod
		later := time.Now().Add(time.Hour)
		link := access.Sign(hashOfToken(a.prodTok), "prod", later)
		tampered := link[:len(link)-3] + map[bool]string{true: "AAA", false: "BBB"}[!strings.HasSuffix(link, "AAA")]
		routes := []struct {
			name, path string
			env        bool // an /e/prod/ route; else global
		}{
			{"page", "/e/prod/d/sales", true},
			{"chart json with a filter", "/e/prod/api/charts/sales/revenue?region=EU", true},
			{"csv", "/e/prod/csv/sales/revenue", true},
			{"env asset", "/e/prod/assets/bic.js", true},
			{"env blob", "/e/prod/" + f.jsonKey[f.euKey], true},
			{"global blob", "/" + f.pageKey, false},
			{"index", "/", false},
		}
		withQuery := func(p, kv string) string {
			if strings.Contains(p, "?") {
				return p + "&" + kv
			}
			return p + "?" + kv
		}
		type cred struct {
			name   string
			target func(path string) string
			header []string
			// code on an /e/prod/ route, on the global blob, on the index
			env, blob, index int
			// indexHas is what the index lists with this credential
			indexHas string
		}
		bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
		same := func(p string) string { return p }
		creds := []cred{
			{name: "no credential", target: same, env: 401, blob: 404, index: 401},
			{name: "a wrong token", target: same, header: bearer(a.unlist), env: 401, blob: 404, index: 401},
			{name: "a malformed bearer", target: same, header: bearer("hunter2"), env: 401, blob: 404, index: 401},
			{name: "another environment's token", target: same, header: bearer(a.prTok), env: 401, blob: 404, index: 200, indexHas: "pr-42"},
			{name: "an expired token", target: same, header: bearer(a.expiredTok), env: 401, blob: 404, index: 401},
			{name: "a wrong token in the URL", target: func(p string) string { return withQuery(p, "token="+a.unlist) }, env: 401, blob: 404, index: 401},
			{name: "another environment's token in the URL", target: func(p string) string { return withQuery(p, "token="+a.prTok) }, env: 401, blob: 404, index: 401},
			{name: "an expired signed link", target: func(p string) string {
				return withQuery(p, "bic_link="+access.Sign(hashOfToken(a.prodTok), "prod", time.Now().Add(-time.Second)))
			}, env: 401, blob: 404, index: 401},
			{name: "a link signed for another environment", target: func(p string) string {
				return withQuery(p, "bic_link="+access.Sign(hashOfToken(a.prodTok), "pr-42", later))
			}, env: 401, blob: 404, index: 401},
			{name: "a link of another environment's token", target: func(p string) string {
				return withQuery(p, "bic_link="+access.Sign(hashOfToken(a.prTok), "pr-42", later))
			}, env: 401, blob: 404, index: 401},
			{name: "a link of an expired token", target: func(p string) string {
				return withQuery(p, "bic_link="+access.Sign(hashOfToken(a.expiredTok), "prod", later))
			}, env: 401, blob: 404, index: 401},
			{name: "a tampered signature", target: func(p string) string { return withQuery(p, "bic_link="+tampered) }, env: 401, blob: 404, index: 401},
			{name: "a cookie of an expired link", target: same,
				header: []string{"Cookie", "bic_session=" + access.Sign(hashOfToken(a.prodTok), "prod", time.Now().Add(-time.Second))}, env: 401, blob: 404, index: 401},
			{name: "a cookie of another environment", target: same,
				header: []string{"Cookie", "bic_session=" + access.Sign(hashOfToken(a.prTok), "pr-42", later)}, env: 401, blob: 404, index: 401},
			{name: "a cookie holding the token itself", target: same, header: []string{"Cookie", "bic_session=" + a.prodTok}, env: 401, blob: 404, index: 401},
			{name: "a valid token", target: same, header: bearer(a.prodTok), env: 200, blob: 404, index: 200, indexHas: "prod"},
			{name: "a valid session cookie", target: same, header: []string{"Cookie", "bic_session=" + link}, env: 200, blob: 404, index: 401},
			{name: "a valid token in the URL", target: func(p string) string { return withQuery(p, "token="+a.prodTok) }, env: 303, blob: 404, index: 401},
			{name: "a valid link", target: func(p string) string { return withQuery(p, "bic_link="+link) }, env: 303, blob: 404, index: 401},
		}
		for _, rt := range routes {
			for _, c := range creds {
				t.Run(rt.name+"/"+c.name, func(t *testing.T) {
					want := c.env
					switch {
					case rt.path == "/":
						want = c.index
					case !rt.env:
						want = c.blob
					}
					target := c.target(rt.path)
					w := do(t, a.srv, "GET", target, c.header...)
					if w.Code != want {
						t.Fatalf("GET %s: %d %s, want %d", rt.path, w.Code, w.Body, want)
					}
					a.checkNoToken(t, "the body", w.Body.String())
					a.checkNoToken(t, "the headers", headersOf(w.Header()))
					switch want {
					case 401:
						if wa := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Bearer") {
							t.Errorf("WWW-Authenticate %q, want a Bearer challenge (no basic popup)", wa)
						}
						for _, env := range []string{"prod", "pr-42"} {
							if strings.Contains(w.Body.String(), env) {
								t.Errorf("a 401 names the environment %s: %s", env, w.Body)
							}
						}
					case 200:
						if cc := w.Header().Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
							t.Errorf("Cache-Control %q, want private", cc)
						}
						if v := w.Header().Get("Vary"); !strings.Contains(v, "Cookie") || !strings.Contains(v, "Authorization") {
							t.Errorf("Vary %q, want Cookie and Authorization", v)
						}
						if rt.path == "/" {
							other := map[string]string{"prod": "pr-42", "pr-42": "prod"}[c.indexHas]
							if !strings.Contains(w.Body.String(), "<h2>"+c.indexHas+"</h2>") || strings.Contains(w.Body.String(), "<h2>"+other+"</h2>") {
								t.Errorf("the index lists the wrong environments: %s", w.Body)
							}
						}
					case 303:
						followLink(t, a, w.Result(), rt.path)
					}
				})
			}
		}
		t.Run("the session cookie of a 303 keeps the query", func(t *testing.T) {
			w := do(t, a.srv, "GET", "/e/prod/api/charts/sales/revenue?region=EU&bic_link="+link+"&x=1")
			if loc := w.Header().Get("Location"); w.Code != 303 || loc != "/e/prod/api/charts/sales/revenue?region=EU&x=1" {
				t.Errorf("%d Location %q", w.Code, loc)
			}
		})
		t.Run("Secure behind a TLS proxy", func(t *testing.T) {
			w := do(t, a.srv, "GET", "/e/prod/d/sales?bic_link="+link, "X-Forwarded-Proto", "https")
			if c := w.Result().Cookies(); len(c) != 1 || !c[0].Secure {
				t.Errorf("cookies %v, want one Secure", c)
			}
		})
		t.Run("a session that no longer admits is dropped", func(t *testing.T) {
			w := do(t, a.srv, "GET", "/e/prod/d/sales", "Cookie", "bic_session="+access.Sign(hashOfToken(a.prodTok), "prod", time.Now().Add(-time.Second)))
			if c := w.Result().Cookies(); w.Code != 401 || len(c) != 1 || c[0].MaxAge >= 0 || c[0].Path != "/e/prod/" {
				t.Errorf("%d, cookies %v", w.Code, c)
			}
		})
		t.Run("a percent-encoded link", func(t *testing.T) {
			if w := do(t, a.srv, "GET", "/e/prod/d/sales?bic_link="+strings.ReplaceAll(link, ".", "%2E")); w.Code != 303 {
				t.Errorf("%d", w.Code)
			}
		})
		t.Run("HTML 401 for a browser", func(t *testing.T) {
			w := do(t, a.srv, "GET", "/e/prod/d/sales", "Accept", "text/html,*/*")
			if w.Code != 401 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || !strings.Contains(w.Body.String(), "access token is needed") {
				t.Errorf("%d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
			}
		})
		t.Run("an unknown environment is 401 without a credential, 404 with one", func(t *testing.T) {
			if w := do(t, a.srv, "GET", "/e/staging/d/sales"); w.Code != 401 {
				t.Errorf("without: %d", w.Code)
			}
			if w := do(t, a.srv, "GET", "/e/staging/d/sales", bearer(a.stagingTok)...); w.Code != 404 {
				t.Errorf("with: %d %s", w.Code, w.Body)
			}
		})
		t.Run("ETag and 304 with a token", func(t *testing.T) {
			w := do(t, a.srv, "GET", "/e/prod/d/sales", "Authorization", "Bearer "+a.prodTok, "If-None-Match", `"`+hashOf(f.pageKey)+`"`)
			if w.Code != 304 || !strings.HasPrefix(w.Header().Get("Cache-Control"), "private") {
				t.Errorf("%d %q", w.Code, w.Header().Get("Cache-Control"))
			}
			if w := do(t, a.srv, "GET", "/e/prod/"+f.jsonKey[f.euKey], "Authorization", "Bearer "+a.prodTok); w.Header().Get("Cache-Control") != "private, max-age=31536000, immutable" {
				t.Errorf("an env blob: Cache-Control %q", w.Header().Get("Cache-Control"))
			}
		})
		t.Run("public routes stay open", func(t *testing.T) {
			for _, p := range []string{"/assets/bic.js", "/healthz", "/readyz"} {
				if w := do(t, a.srv, "GET", p); w.Code != 200 {
					t.Errorf("%s: %d", p, w.Code)
				}
			}
		})
		t.Run("a revoked token is refused within 2s", func(t *testing.T) {
			revokedLink := access.Sign(hashOfToken(a.revokedTok), "prod", later)
			for _, h := range [][]string{bearer(a.revokedTok), {"Cookie", "bic_session=" + revokedLink}} {
				if w := do(t, a.srv, "GET", "/e/prod/d/sales", h...); w.Code != 200 {
					t.Fatalf("before revoking: %d", w.Code)
				}
			}
			var kept []access.Entry
			for _, e := range a.entries {
				if e.ID != hashOfToken(a.revokedTok).ID() {
					kept = append(kept, e)
				}
			}
			if err := access.Write(context.Background(), st, kept); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for {
				w1 := do(t, a.srv, "GET", "/e/prod/d/sales", bearer(a.revokedTok)...)
				w2 := do(t, a.srv, "GET", "/e/prod/d/sales", "Cookie", "bic_session="+revokedLink)
				if w1.Code == 401 && w2.Code == 401 {
					break
				}
				if time.Since(start) > 2*time.Second {
					t.Fatalf("still %d, %d after 2s", w1.Code, w2.Code)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if w := do(t, a.srv, "GET", "/e/prod/d/sales", bearer(a.prodTok)...); w.Code != 200 {
				t.Errorf("the other token: %d", w.Code)
			}
		})
		a.checkNoToken(t, "the log", a.log.String())
		assertNoTokenInStorage(t, st, a.tokens)
	})
}

// followLink follows a 303 from a credential in the URL: the redirect
// drops the credential, and its cookie opens path.
func followLink(t *testing.T, a *authFixture, res *http.Response, path string) {
	t.Helper()
	loc := res.Header.Get("Location")
	if loc != path {
		t.Errorf("Location %q, want %q", loc, path)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the redirect's Cache-Control %q", cc)
	}
	cookies := res.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v", cookies)
	}
	c := cookies[0]
	if c.Name != "bic_session" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/e/prod/" || c.Secure || c.MaxAge <= 0 {
		t.Errorf("cookie %+v", c)
	}
	a.checkNoToken(t, "the cookie", c.Value)
	w := do(t, a.srv, "GET", loc, "Cookie", c.Name+"="+c.Value)
	if w.Code != 200 {
		t.Fatalf("GET %s with the cookie: %d %s", loc, w.Code, w.Body)
	}
	// The cookie is for its environment only.
	other := strings.Replace(loc, "/e/prod/", "/e/pr-42/", 1)
	if w := do(t, a.srv, "GET", other, "Cookie", c.Name+"="+c.Value); w.Code != 401 {
		t.Errorf("GET %s with prod's cookie: %d", other, w.Code)
	}
}

func headersOf(h http.Header) string {
	var b strings.Builder
	h.Write(&b)
	return b.String()
}

// assertNoTokenInStorage reads every object of st and fails if one holds a
// token, or the random part of one.
func assertNoTokenInStorage(t *testing.T, st storage.Store, tokens []string) {
	t.Helper()
	ctx := context.Background()
	infos, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, info := range infos {
		rc, err := st.Get(ctx, info.Key)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		found = found || info.Key == access.AllowListKey
		for _, tok := range tokens {
			if bytes.Contains(b, []byte(tok)) || bytes.Contains(b, []byte(tok[len(access.Prefix):])) || strings.Contains(info.Key, tok) {
				t.Errorf("%s holds a token", info.Key)
			}
		}
	}
	if !found {
		t.Errorf("no %s among %d objects", access.AllowListKey, len(infos))
	}
}

// TestAuthWithoutAllowList: a server with token auth and nothing in
// storage refuses every environment rather than serving openly.
func TestAuthWithoutAllowList(t *testing.T) {
	st := fileStore(t)
	publish(t, st, "prod", 1, "Sales")
	log := &lockedBuffer{}
	srv := New(Options{Storage: st, Auth: AuthToken, Log: slog.New(slog.NewTextHandler(log, nil))})
	tok, _ := access.NewToken()
	for _, p := range []string{"/e/prod/d/sales", "/e/prod/api/charts/sales/revenue", "/"} {
		for _, h := range [][]string{nil, {"Authorization", "Bearer " + tok}} {
			if w := do(t, srv, "GET", p, h...); w.Code != 401 {
				t.Errorf("GET %s %v: %d", p, h, w.Code)
			}
		}
	}
	if !strings.Contains(log.String(), "no allow-list") {
		t.Errorf("the log does not say why: %s", log)
	}
	if w := do(t, New(Options{Storage: st, Auth: Auth(7)}), "GET", "/e/prod/d/sales"); w.Code != 401 {
		t.Errorf("an unknown auth mode serves: %d", w.Code)
	}
}

func TestParseAuth(t *testing.T) {
	for in, want := range map[string]Auth{"none": AuthNone, "token": AuthToken} {
		if got, err := ParseAuth(in); err != nil || got != want || got.String() != in {
			t.Errorf("ParseAuth(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseAuth("basic"); err == nil {
		t.Error("ParseAuth(basic) is not an error")
	}
}
