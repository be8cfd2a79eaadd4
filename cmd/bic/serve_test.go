package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestApplyServeAndPublish: on the embedded defaults, apply --wait makes
// the revision live; bic serve shows its dashboards from storage alone;
// bic publish --out writes the same pages as a static site whose
// references stay inside it.
func TestApplyServeAndPublish(t *testing.T) {
	dir := newProject(t)
	out := filepath.Join(t.TempDir(), "site")
	wantRun(t, 1, "", "no release published yet: run bic apply --env prod --wait first", "publish", "-p", dir, "--out", out)
	wantRun(t, 0, "Revision 1 of prod is live.", "", "apply", "-p", dir, "--auto-approve", "--wait")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var serveErr bytes.Buffer
	go func() { done <- run(ctx, []string{"serve", "-p", dir, "--addr", addr}, io.Discard, &serveErr) }()
	get := func(path string) (int, string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			res, err := http.Get("http://" + addr + path)
			if err == nil {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				return res.StatusCode, string(b)
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %v (%s)", path, err, serveErr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	code, index := get("/")
	if code != 200 || !strings.Contains(index, "e/prod/d/") {
		t.Fatalf("GET /: %d\n%s", code, index)
	}
	dash := index[strings.Index(index, "e/prod/d/")+len("e/prod/d/"):]
	dash = dash[:strings.IndexAny(dash, `"'`)]
	if code, page := get("/e/prod/d/" + dash); code != 200 || !strings.Contains(page, "../assets/echarts.min.js") {
		t.Errorf("GET the %s page: %d\n%.300s", dash, code, page)
	}
	if code, js := get("/e/prod/assets/echarts.min.js"); code != 200 || !strings.Contains(js, "5.4.3") {
		t.Errorf("GET echarts.min.js: %d", code)
	}
	if code, _ := get("/e/nope/d/" + dash); code != 404 {
		t.Errorf("an unknown environment: %d, want 404", code)
	}
	cancel() // as an interrupt: the server shuts down and says so
	if code := <-done; code != 130 {
		t.Errorf("bic serve stopped with exit %d, want 130: %s", code, serveErr.String())
	}

	wantRun(t, 0, "Wrote "+out, "", "publish", "-p", dir, "--out", out)
	page, err := os.ReadFile(filepath.Join(out, "e", "prod", "d", dash+".html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"../assets/echarts.min.js", "../assets/bic.js"} {
		if !bytes.Contains(page, []byte(ref)) {
			t.Errorf("the exported page does not load %s", ref)
		}
		if _, err := os.Stat(filepath.Join(out, "e", "prod", "d", filepath.FromSlash(ref))); err != nil {
			t.Errorf("the export lacks %s: %v", ref, err)
		}
	}
	if bytes.Contains(page, []byte("http://")) || bytes.Contains(page, []byte("https://")) {
		t.Error("the exported page refers to another host")
	}
	csvs, _ := filepath.Glob(filepath.Join(out, "e", "prod", "csv", dash, "*"))
	if len(csvs) == 0 {
		t.Errorf("the export has no CSV of %s", dash)
	}
	if _, err := os.Stat(filepath.Join(out, "index.html")); err != nil {
		t.Error(fmt.Errorf("no index.html: %w", err))
	}
}
