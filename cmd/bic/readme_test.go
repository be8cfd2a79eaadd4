package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEError builds the project that README.md's tour shows, makes the
// typo its error example describes, and checks that bic validate prints
// exactly the README's block: a README must not show output bic does not give.
func TestREADMEError(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	blocks := regexp.MustCompile("(?s)```yaml\n(# (\\S+)\n.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) < 3 {
		t.Fatalf("README.md has %d yaml blocks with a file name, want the tour's 3", len(blocks))
	}
	for _, b := range blocks {
		writeTestFile(t, filepath.Join(dir, string(b[2])), string(b[1]))
	}
	writeTestFile(t, filepath.Join(dir, "data", "orders.csv"), "ordered_at,country,amount\n")
	sales := filepath.Join(dir, "dashboards", "sales.yaml")
	src, err := os.ReadFile(sales)
	if err != nil {
		t.Fatal(err)
	}
	typo := strings.Replace(string(src), "metrics: [revenue]", "metrics: [revenu]", 1)
	if typo == string(src) {
		t.Fatal("the README's sales.yaml has no metrics: [revenue] to misspell")
	}
	writeTestFile(t, sales, typo)

	want := regexp.MustCompile("(?s)bic validate` prints.*?```text\n(.*?)```").FindSubmatch(readme)
	if want == nil {
		t.Fatal("README.md has no error example after \"bic validate` prints\"")
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"validate", dir}, &stdout, &stderr); code != exitInvalid {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitInvalid, stderr.String())
	}
	if got := stderr.String(); got != string(want[1]) {
		t.Errorf("bic validate printed:\n%s\nREADME.md shows:\n%s", got, want[1])
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
