package compiler

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// writeLargeDashboard writes a project whose one dashboard file holds n
// charts written out in full, no aliases: about 140 bytes a chart.
func writeLargeDashboard(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"bic.yaml":             "name: large\nconnections:\n  local: {type: duckdb}\n",
		"datasets/orders.yaml": "dataset: orders\ntable: orders\ndimensions:\n  ordered_at: {type: time}\nmetrics:\n  revenue: {expr: sum(amount)}\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "dashboards"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "dashboards", "large.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "dashboard: large\ntitle: Large\ncharts:\n")
	for i := range n {
		fmt.Fprintf(w, "  - name: chart_%d\n    type: line\n    dataset: orders\n    metrics: [revenue]\n    x: ordered_at\n    grain: month\n    title: A chart %d\n", i, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestLargeYAMLValidates: a 20 MB dashboard of 149,000 charts, with no
// aliases, is a valid project. It was refused as an alias bomb ("expands to
// more than 1000000 values") because every plain value counted, and CUE's
// check of one list grows with the square of its length. Under -race it is
// 10,000 charts (still 40 windows of the list); TestPlainValuesAreNotAliases
// keeps the first cause covered there.
func TestLargeYAMLValidates(t *testing.T) {
	n, size := 149_000, int64(20_000_000)
	if raceEnabled {
		n, size = 10_000, 1_000_000
	}
	dir := writeLargeDashboard(t, n)
	if info, err := os.Stat(filepath.Join(dir, "dashboards", "large.yaml")); err != nil || info.Size() < size {
		t.Fatalf("the generated file is smaller than %d bytes: %v", size, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	res := mustCompile(t, newTestCompiler(t), root.FS())
	if len(res.Diagnostics) > 0 {
		t.Fatalf("unexpected diagnostics: %v", res.Diagnostics[:min(5, len(res.Diagnostics))])
	}
	if got := len(res.Manifest.Charts); got != n {
		t.Errorf("%d charts, want %d", got, n)
	}
}

// TestPlainValuesAreNotAliases: the alias guard counts what aliases expand
// to, not the values a file writes out: 1.1 million of them, in a helper
// key, are not an alias bomb.
func TestPlainValuesAreNotAliases(t *testing.T) {
	var b strings.Builder
	b.WriteString("dashboard: values\ntitle: Values\ncharts:\n  - {name: total, type: big_number, dataset: orders, metrics: [revenue]}\n_values:\n")
	for range 1_100_000 {
		b.WriteString("  - 1\n")
	}
	fsys := fstest.MapFS{
		"bic.yaml":               {Data: []byte("name: values\nconnections:\n  local: {type: duckdb}\n")},
		"datasets/orders.yaml":   {Data: []byte("dataset: orders\ntable: orders\ndimensions:\n  country: {type: string}\nmetrics:\n  revenue: {expr: sum(amount)}\n")},
		"dashboards/values.yaml": {Data: []byte(b.String())},
	}
	res := mustCompile(t, newTestCompiler(t), fsys)
	if len(res.Diagnostics) > 0 {
		t.Fatalf("unexpected diagnostics: %v", res.Diagnostics)
	}
}
