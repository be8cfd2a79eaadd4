package compiler

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"
)

// fuzzSeeds are the files of every fixture and of the examples.
func fuzzSeeds(f *testing.F, ext string) {
	archives, _ := filepath.Glob("testdata/*/*.txtar")
	for _, archive := range archives {
		a, err := txtar.ParseFile(archive)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range a.Files {
			if strings.HasSuffix(file.Name, ext) {
				f.Add(file.Data)
			}
		}
	}
	_ = filepath.WalkDir("../examples", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ext) {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
		return nil
	})
}

// fuzzProject is the base project with one more file; the compiler must
// turn any content of it into a manifest or diagnostics, never a panic.
func fuzzProject(f *testing.F, name string, data []byte) fstest.MapFS {
	fsys := fstest.MapFS{
		"bic.yaml":             {Data: []byte("name: fuzz\nconnections:\n  local: {type: duckdb}\n")},
		"datasets/orders.yaml": {Data: []byte("dataset: orders\ntable: orders\ndimensions:\n  ordered_at: {type: time}\n  country: {type: string}\nmetrics:\n  revenue: {expr: sum(amount)}\n  orders: {expr: count(*)}\n")},
	}
	fsys[name] = &fstest.MapFile{Data: data}
	return fsys
}

func checkFuzzResult(t *testing.T, res Result) {
	for _, d := range res.Diagnostics {
		if d.Pos.File == "" {
			t.Fatalf("diagnostic without a file: %s", d)
		}
	}
	if res.Manifest == nil && !res.Diagnostics.HasErrors(false) {
		t.Fatal("no manifest and no error")
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, res.Diagnostics, res.Sources); err != nil {
		t.Fatal(err)
	}
	if res.Manifest != nil {
		if _, err := res.Manifest.JSON(); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzCompileYAML(f *testing.F) {
	fuzzSeeds(f, ".yaml")
	c := newTestCompiler(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFuzzResult(t, mustCompile(t, c, fuzzProject(f, "dashboards/fuzz.yaml", data)))
	})
}

func FuzzCompileCUE(f *testing.F) {
	fuzzSeeds(f, ".cue")
	c := newTestCompiler(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFuzzResult(t, mustCompile(t, c, fuzzProject(f, "bic_fuzz.cue", data)))
	})
}
