package superset_test

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/goccy/go-yaml"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/compiler/internal/fixture"
	"github.com/bic-dev/bic/compiler/superset"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// examples is Superset's own example export (Sales and Slack dashboards),
// shared by the helpers of this repository.
const examples = "testdata/export"

func examplesDir(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(examples, "metadata.yaml")); err != nil {
		t.Fatalf("the Superset examples are missing (%v): they are compiler/superset/testdata/export of the repository", err)
	}
	return examples
}

// importFS imports fsys and fails the test on an error.
func importFS(t testing.TB, fsys fs.FS) *superset.Result {
	t.Helper()
	res, err := superset.Import(context.Background(), fsys, superset.Options{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

// compile compiles the imported project and fails on any error.
func compile(t testing.TB, res *superset.Result) compiler.Result {
	t.Helper()
	fsys := fstest.MapFS{}
	for p, b := range res.Files {
		fsys[p] = &fstest.MapFile{Data: b}
	}
	s, err := compiler.NewSchema()
	if err != nil {
		t.Fatal(err)
	}
	out, err := compiler.New(s).Compile(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	if out.Diagnostics.HasErrors(false) {
		var b bytes.Buffer
		_ = compiler.WriteText(&b, out.Diagnostics, out.Sources)
		t.Fatalf("the imported project does not validate:\n%s", b.String())
	}
	return out
}

// zipOf builds a ZIP of the folder dir as Superset writes one: every file
// under one top folder.
func zipOf(t testing.TB, dir, top string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create(top + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func warningsText(ws []superset.Warning) string {
	var b strings.Builder
	for _, w := range ws {
		b.WriteString(w.String())
		b.WriteString("\n")
	}
	return b.String()
}

func TestImportExamples(t *testing.T) {
	dir := examplesDir(t)
	zipped := zipOf(t, dir, "dashboard_export_20240101T000000/")
	zfs, err := superset.OpenZip(bytes.NewReader(zipped), int64(len(zipped)), superset.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	fromDir := importFS(t, os.DirFS(dir))
	fromZip := importFS(t, zfs)
	for name, res := range map[string]*superset.Result{"folder": fromDir, "zip": fromZip} {
		t.Run(name, func(t *testing.T) {
			out := compile(t, res)
			if got := len(out.Manifest.Dashboards); got != 2 {
				t.Errorf("%d dashboards, want 2", got)
			}
		})
	}
	// The same export gives the same project, folder or ZIP.
	if len(fromDir.Files) != len(fromZip.Files) {
		t.Fatalf("folder gives %d files, zip %d", len(fromDir.Files), len(fromZip.Files))
	}
	for p, b := range fromDir.Files {
		if !bytes.Equal(b, fromZip.Files[p]) {
			t.Errorf("%s differs between the folder and the zip", p)
		}
	}
	if warningsText(fromDir.Warnings) != warningsText(fromZip.Warnings) {
		t.Errorf("warnings differ:\n%s\nvs\n%s", warningsText(fromDir.Warnings), warningsText(fromZip.Warnings))
	}
	got := map[string][2]int{}
	for _, s := range fromDir.Dashboards {
		got[s.Title] = [2]int{s.Translated, s.Warned}
	}
	want := map[string][2]int{"Sales Dashboard": {9, 1}, "Slack Dashboard": {7, 2}}
	if !maps.Equal(got, want) {
		t.Errorf("charts translated/warned per dashboard = %v, want %v", got, want)
	}

	// Every chart of a supported viz type is in a dashboard; every other
	// one has a warning that names its file and viz type.
	supported := []string{"echarts_timeseries_bar", "echarts_area", "pie", "heatmap_v2", "big_number", "big_number_total", "table"}
	var dashboards strings.Builder
	for p, b := range fromDir.Files {
		if strings.HasPrefix(p, "dashboards/") {
			dashboards.Write(b)
		}
	}
	charts, _ := filepath.Glob(filepath.Join(dir, "charts", "*.yaml"))
	if len(charts) != 19 {
		t.Fatalf("%d chart files in the examples, want 19", len(charts))
	}
	warned := warningsText(fromDir.Warnings)
	for _, file := range charts {
		var c struct {
			UUID    string `yaml:"uuid"`
			VizType string `yaml:"viz_type"`
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		rel := "charts/" + filepath.Base(file)
		if slices.Contains(supported, c.VizType) {
			if !strings.Contains(dashboards.String(), "uuid "+c.UUID+")") {
				t.Errorf("%s (%s) is not in any imported dashboard", rel, c.VizType)
			}
			continue
		}
		if !strings.Contains(warned, rel+":") || !strings.Contains(warned, `viz_type "`+c.VizType+`" has no bic chart type`) {
			t.Errorf("%s (%s) has no warning; warnings:\n%s", rel, c.VizType, warned)
		}
	}
}

// txtarFS reads a txtar fixture into a file system.
func txtarFS(t testing.TB, file string) fstest.MapFS {
	t.Helper()
	a, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, f := range a.Files {
		fsys[f.Name] = &fstest.MapFile{Data: f.Data}
	}
	return fsys
}

// asTxtar renders an import's files and warnings as one txtar archive, for
// golden files a reviewer reads in one go.
func asTxtar(res *superset.Result, only ...string) []byte {
	a := &txtar.Archive{Comment: []byte("warnings:\n" + warningsText(res.Warnings))}
	names := make([]string, 0, len(res.Files))
	for p := range res.Files {
		if len(only) == 0 || slices.Contains(only, p) {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	for _, p := range names {
		a.Files = append(a.Files, txtar.File{Name: p, Data: res.Files[p]})
	}
	return txtar.Format(a)
}

// TestGolden holds the YAML produced for Superset's Sales dashboard and for
// the older and current exports of testdata, and checks that each
// validates.
func TestGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		fsys fs.FS
		only []string
	}{
		{"sales", os.DirFS(examplesDir(t)), []string{"bic.yaml", "datasets/vehicle_sales.yaml", "dashboards/sales_dashboard.yaml"}},
		{"legacy", txtarFS(t, "testdata/legacy.txtar"), nil},
		{"current", txtarFS(t, "testdata/current.txtar"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := importFS(t, c.fsys)
			compile(t, res)
			fixture.Golden(t, filepath.Join("testdata", c.name+".golden"), asTxtar(res, c.only...), *update)
		})
	}
}
