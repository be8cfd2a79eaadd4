package main

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner/servicetest"
	"github.com/bic-dev/bic/server"
)

// TestPreviewComment: bic preview --format markdown prints on stdout the
// comment alone: what merging changes in prod, a link to each dashboard,
// the changed dashboard's thumbnail beside prod's as signed links that
// bic serve answers with the PNGs (and the unchanged one marked so), and
// the alert evaluated as a dry run. Run again with nothing new, it still
// describes the pull request against prod.
func TestPreviewComment(t *testing.T) {
	t.Setenv("BIC_CHROME", servicetest.Chrome(t))
	t.Setenv("BIC_PUBLIC_URL", "https://bic.example.com/")
	const secret = "the link secret of the servers"
	t.Setenv("BIC_LINK_SECRET", secret)
	dir := newProject(t)
	overview := filepath.Join(dir, "dashboards", "overview.yaml")
	src, err := os.ReadFile(overview)
	if err != nil {
		t.Fatal(err)
	}
	second := strings.Replace(strings.Replace(string(src), "dashboard: overview", "dashboard: second", 1), "title: Orders overview", "title: Second | look", 1)
	writeTestFile(t, filepath.Join(dir, "dashboards", "second.yaml"), second)
	wantRun(t, 0, "Revision 1 of prod is live.", "", "apply", "-p", dir, "--auto-approve", "--wait")

	writeTestFile(t, overview, strings.Replace(string(src), "title: Orders overview", "title: Orders at a glance", 1))
	code, out, errOut := runBic(t, "preview", "--env", "pr-7", "--wait", "--format", "markdown", "-p", dir)
	if code != 0 {
		t.Fatalf("bic preview: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{
		"## bic preview `pr-7`: revision 1 is live\n",
		"What merging changes in `prod`:",
		"| ~ | `dashboard/overview` | `title`: `\"Orders overview\"` → `\"Orders at a glance\"` |",
		"| **[Orders at a glance](https://bic.example.com/e/pr-7/d/overview)** | <img src=\"https://bic.example.com/images/",
		"| [Second \\| look](https://bic.example.com/e/pr-7/d/second) | unchanged | |",
		"#### Alerts, evaluated now (a dry run: `pr-7` sends nothing)",
		"| `no_orders` |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the comment lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "Revision 1 of pr-7 is live.") || strings.Contains(out, "jobs:") || strings.Contains(out, "Applied revision") {
		t.Errorf("the progress belongs on stderr, the comment alone on stdout:\nstdout: %s\nstderr: %s", out, errOut)
	}
	if strings.Contains(out, secret) {
		t.Error("the comment shows the link secret")
	}

	// Both pictures load from bic serve, on the project's storage, with the
	// servers' secret; the two differ (the title changed).
	st, err := storage.Open(context.Background(), "file://"+filepath.Join(dir, ".bic", "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := server.New(server.Options{Storage: st, ImageSecret: []byte(secret)})
	srcs := regexp.MustCompile(`<img src="https://bic\.example\.com(/images/[^"]+)"`).FindAllStringSubmatch(out, -1)
	if len(srcs) != 2 {
		t.Fatalf("%d pictures in the comment, want prod's and pr-7's of overview:\n%s", len(srcs), out)
	}
	var pictures [][]byte
	for _, m := range srcs {
		path := strings.ReplaceAll(m[1], "&amp;", "&")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		if _, err := png.Decode(bytes.NewReader(rec.Body.Bytes())); err != nil {
			t.Fatalf("GET %s: not a PNG: %v", path, err)
		}
		pictures = append(pictures, rec.Body.Bytes())
	}
	if bytes.Equal(pictures[0], pictures[1]) {
		t.Error("prod's picture and the preview's are the same bytes, though the title changed")
	}

	// Again with nothing new: no revision, the same description of the PR.
	code, again, errOut := runBic(t, "preview", "--env", "pr-7", "--format", "markdown", "-p", dir)
	if code != 0 {
		t.Fatalf("bic preview again: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(again, "## bic preview `pr-7`: up to date and live") || !strings.Contains(again, "`dashboard/overview`") || strings.Count(again, "<img ") != 2 {
		t.Errorf("the comment of an unchanged preview:\n%s", again)
	}
}
