package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/access"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner/servicetest"
)

var tokenRE = regexp.MustCompile(`bic_[A-Za-z0-9_-]{43}`)
var tokenIDRE = regexp.MustCompile(`Created token ([0-9a-f]{12}) `)

// createToken runs bic token create and returns the token and its id.
func createToken(t *testing.T, args ...string) (tok, id string) {
	t.Helper()
	code, out, errOut := runBic(t, append([]string{"token", "create"}, args...)...)
	if code != 0 {
		t.Fatalf("bic token create: exit %d: %s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "not shown again") {
		t.Errorf("no warning that the token is shown once: %s", errOut)
	}
	tok, m := tokenRE.FindString(out), tokenIDRE.FindStringSubmatch(out)
	if tok == "" || m == nil || !strings.Contains(out, "Published the allow-list") {
		t.Fatalf("bic token create printed no token, id or publish: %s", out)
	}
	return tok, m[1]
}

// TestTokenServeAuth: on the embedded defaults, bic token create makes a
// token and publishes the allow-list; bic serve --auth token admits it,
// refuses no token and another environment's; bic link create makes a
// link that becomes a session cookie; bic token revoke locks it out
// within 2s; and no token is in a log, the metadata DB or storage.
func TestTokenServeAuth(t *testing.T) {
	t.Setenv("BIC_METADATA_URL", "")
	t.Setenv("BIC_STORAGE_URL", "")
	t.Setenv("BIC_TOKEN", "")
	dir := newProject(t)
	wantRun(t, 0, "Revision 1 of prod is live.", "", "apply", "-p", dir, "--auto-approve", "--wait")
	wantRun(t, 2, "", "needs --env NAME", "token", "create", "-p", dir)
	wantRun(t, 2, "", "--ttl: expected a duration", "token", "create", "-p", dir, "--env", "prod", "--ttl", "soon")
	prodTok, prodID := createToken(t, "-p", dir, "--env", "prod")
	prTok, prID := createToken(t, "-p", dir, "--env", "pr-42", "--ttl", "1h")
	tokens := []string{prodTok, prTok}

	code, list, errOut := runBic(t, "token", "list", "-p", dir)
	if code != 0 || !strings.Contains(list, prodID) || !strings.Contains(list, prID) || !strings.Contains(list, "never") {
		t.Errorf("bic token list: exit %d: %s%s", code, list, errOut)
	}
	for _, tok := range tokens {
		if strings.Contains(list, tok) || strings.Contains(list, access.HashToken(tok).String()) {
			t.Error("bic token list shows a token or its hash")
		}
	}
	if code, only, _ := runBic(t, "token", "list", "-p", dir, "--env", "pr-42"); code != 0 || strings.Contains(only, prodID) || !strings.Contains(only, prID) {
		t.Errorf("bic token list --env pr-42: %s", only)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var serveOut, serveErr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "-p", dir, "--addr", addr, "--auth", "token"}, &serveOut, &serveErr)
	}()
	var stopped sync.Once
	stop := func() { stopped.Do(func() { cancel(); <-done }) }
	defer stop()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, header ...string) (*http.Response, string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			res, err := client.Do(req)
			if err == nil {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				for _, tok := range tokens {
					if strings.Contains(string(b), tok) {
						t.Errorf("GET %s: the body holds a token", path)
					}
				}
				return res, string(b)
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %v (%s)", path, err, serveErr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	if res, body := get("/"); res.StatusCode != 401 || strings.Contains(body, "prod") {
		t.Errorf("GET / without a token: %d %s", res.StatusCode, body)
	}
	res, index := get("/", bearer(prodTok)...)
	if res.StatusCode != 200 || !strings.Contains(index, "e/prod/d/") {
		t.Fatalf("GET / with prod's token: %d\n%s", res.StatusCode, index)
	}
	dash := index[strings.Index(index, "e/prod/d/")+len("e/prod/d/"):]
	dash = dash[:strings.IndexAny(dash, `"'`)]
	page := "/e/prod/d/" + dash
	for _, c := range []struct {
		name   string
		header []string
		code   int
	}{
		{"no token", nil, 401},
		{"a wrong token", bearer("bic_" + strings.Repeat("A", 43)), 401},
		{"another environment's token", bearer(prTok), 401},
		{"prod's token", bearer(prodTok), 200},
	} {
		if res, _ := get(page, c.header...); res.StatusCode != c.code {
			t.Errorf("%s: GET %s: %d, want %d", c.name, page, res.StatusCode, c.code)
		}
	}

	wantRun(t, 1, "", "reads prod, not pr-42", "link", "create", "-p", dir, "--env", "pr-42", "--token-id", prodID)
	code, link, errOut := runBic(t, "link", "create", "-p", dir, "--env", "prod", "--ttl", "1h", "--dashboard", dash, "--base-url", "http://"+addr)
	if code != 0 || !strings.HasPrefix(link, "http://"+addr+page+"?bic_link=") {
		t.Fatalf("bic link create: exit %d: %s%s", code, link, errOut)
	}
	res, _ = get(strings.TrimPrefix(strings.TrimSpace(link), "http://"+addr))
	if res.StatusCode != 303 || res.Header.Get("Location") != page || len(res.Cookies()) != 1 {
		t.Fatalf("GET the link: %d, Location %q, cookies %v", res.StatusCode, res.Header.Get("Location"), res.Cookies())
	}
	cookie := res.Cookies()[0]
	if res, _ := get(page, "Cookie", cookie.Name+"="+cookie.Value); res.StatusCode != 200 {
		t.Errorf("GET %s with the link's cookie: %d", page, res.StatusCode)
	}
	t.Setenv("BIC_TOKEN", prodTok)
	if code, q, errOut := runBic(t, "link", "create", "-p", dir, "--env", "prod", "--ttl", "10m"); code != 0 || !strings.HasPrefix(q, "?bic_link="+prodID+".") {
		t.Errorf("bic link create with $BIC_TOKEN: exit %d: %s%s", code, q, errOut)
	}
	t.Setenv("BIC_TOKEN", "")

	wantRun(t, 1, "", "no such token", "token", "revoke", "-p", dir, "000000000000")
	wantRun(t, 0, "Revoked token "+prodID+" of prod", "", "token", "revoke", "-p", dir, prodID)
	start := time.Now()
	for {
		r1, _ := get(page, bearer(prodTok)...)
		r2, _ := get(page, "Cookie", cookie.Name+"="+cookie.Value)
		if r1.StatusCode == 401 && r2.StatusCode == 401 {
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("2s after bic token revoke: %d, %d", r1.StatusCode, r2.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantRun(t, 1, "", "no active token "+prodID, "link", "create", "-p", dir, "--env", "prod", "--token-id", prodID)
	stop()
	if !strings.Contains(serveOut.String(), "(auth: token)") {
		t.Errorf("bic serve does not say it checks tokens: %s", serveOut.String())
	}
	for _, tok := range tokens {
		if strings.Contains(serveErr.String(), tok) {
			t.Error("the server's log holds a token")
		}
	}
	// The metadata DB (SQLite and its journal) and storage are under .bic.
	assertNoTokenUnder(t, filepath.Join(dir, ".bic"), tokens)
}

// assertNoTokenUnder fails if a file under dir holds a token or the random
// part of one.
func assertNoTokenUnder(t *testing.T, dir string, tokens []string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, tok := range tokens {
			if bytes.Contains(b, []byte(tok)) || bytes.Contains(b, []byte(tok[len(access.Prefix):])) {
				t.Errorf("%s holds a token", path)
			}
		}
		return nil
	})
	if err != nil || files < 3 {
		t.Fatalf("walk %s: %d files, %v", dir, files, err)
	}
}

// TestTokenCommandsPostgres: bic token create, list and revoke on the
// real PostgreSQL publish the allow-list to storage each time, and the
// token is nowhere in the database.
func TestTokenCommandsPostgres(t *testing.T) {
	base := servicetest.Postgres(t)
	schema := fmt.Sprintf("bic_token_%d", time.Now().UnixNano())
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	t.Setenv("BIC_METADATA_URL", base+sep+"search_path="+schema)
	storeDir := t.TempDir()
	t.Setenv("BIC_STORAGE_URL", "file://"+storeDir)
	dir := t.TempDir()
	tok, id := createToken(t, "-p", dir, "--env", "pr-7", "--ttl", "2d")
	st, err := storage.Open(context.Background(), "file://"+storeDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := access.ReadAllowList(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := l.Check("pr-7", tok, time.Now()); !ok || e.ID != id || e.ExpiresAt == nil {
		t.Errorf("the allow-list does not admit the token: %+v", l.Entries())
	}
	wantRun(t, 0, id, "", "token", "list", "-p", dir)
	wantRun(t, 0, "Revoked token "+id, "", "token", "revoke", "-p", dir, id)
	if l, err := access.ReadAllowList(context.Background(), st); err != nil || len(l.Entries()) != 0 {
		t.Errorf("after revoking: %v, %v", l.Entries(), err)
	}
	var n int
	if err := admin.QueryRow(`SELECT count(*) FROM `+schema+`.access_tokens WHERE hash = $1 AND revoked_at IS NOT NULL`, access.HashToken(tok).String()).Scan(&n); err != nil || n != 1 {
		t.Errorf("the revoked row: %d, %v", n, err)
	}
	if err := admin.QueryRow(`SELECT count(*) FROM `+schema+`.access_tokens WHERE hash LIKE '%' || $1 || '%' OR id = $1`, tok).Scan(&n); err != nil || n != 0 {
		t.Errorf("the token itself is in the database: %d, %v", n, err)
	}
}
