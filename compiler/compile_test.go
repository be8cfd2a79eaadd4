package compiler

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/bic-dev/bic/compiler/internal/fixture"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	schemaOnce sync.Once
	testSchema *Schema
)

// mustCompile compiles fsys; the compile must finish.
func mustCompile(t testing.TB, c *Compiler, fsys fs.FS) Result {
	t.Helper()
	res, err := c.Compile(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func newTestCompiler(t testing.TB) *Compiler {
	t.Helper()
	schemaOnce.Do(func() {
		s, err := NewSchema()
		if err != nil {
			panic(err)
		}
		testSchema = s
	})
	return New(testSchema)
}

// fixtureFS builds a project from a txtar archive laid over testdata/base.
func fixtureFS(t *testing.T, archive string) fstest.MapFS {
	t.Helper()
	return fixture.FS(t, archive, "testdata/base")
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	fixture.Golden(t, path, got, *update)
}

// TestErrors compiles each bad project in testdata/errors and compares
// the diagnostics, printed as a user sees them, with the golden file.
func TestErrors(t *testing.T) {
	c := newTestCompiler(t)
	archives, _ := filepath.Glob("testdata/errors/*.txtar")
	if len(archives) == 0 {
		t.Fatal("no fixtures in testdata/errors")
	}
	for _, archive := range archives {
		name := strings.TrimSuffix(filepath.Base(archive), ".txtar")
		t.Run(name, func(t *testing.T) {
			res := mustCompile(t, c, fixtureFS(t, archive))
			if !res.Diagnostics.HasErrors(true) {
				t.Fatalf("expected diagnostics, project compiled cleanly")
			}
			for _, d := range res.Diagnostics {
				if d.Pos.File == "" {
					t.Errorf("diagnostic without a file: %s", d)
				}
			}
			if res.Diagnostics.HasErrors(false) && res.Manifest != nil {
				t.Errorf("a project with errors produced a manifest")
			}
			var buf bytes.Buffer
			if err := WriteText(&buf, res.Diagnostics, res.Sources); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, strings.TrimSuffix(archive, ".txtar")+".golden", buf.Bytes())
		})
	}
}

// TestValid compiles each good project in testdata/valid: no diagnostics at all.
// validFixtures is the archives that pattern matches, and fails the test
// when it matches none: a moved or renamed folder must not turn TestValid
// into a test of nothing.
func validFixtures(t *testing.T, pattern string) []string {
	t.Helper()
	archives, err := globFixtures(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return archives
}

func globFixtures(pattern string) ([]string, error) {
	archives, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("glob %s: %w", pattern, err)
	}
	if len(archives) == 0 {
		return nil, fmt.Errorf("no fixtures match %s: the test would pass without checking anything", pattern)
	}
	return archives, nil
}

func TestValid(t *testing.T) {
	c := newTestCompiler(t)
	archives := validFixtures(t, "testdata/valid/*.txtar")
	for _, archive := range archives {
		name := strings.TrimSuffix(filepath.Base(archive), ".txtar")
		t.Run(name, func(t *testing.T) {
			res := mustCompile(t, c, fixtureFS(t, archive))
			if len(res.Diagnostics) > 0 {
				var buf bytes.Buffer
				_ = WriteText(&buf, res.Diagnostics, res.Sources)
				t.Fatalf("unexpected diagnostics:\n%s", buf.String())
			}
			if res.Manifest == nil {
				t.Fatal("no manifest")
			}
		})
	}
}

// TestValidFixturesFailsOnNoMatch: the fixtures of TestValid are an error
// when the pattern matches nothing, instead of a vacuous pass.
func TestValidFixturesFailsOnNoMatch(t *testing.T) {
	if _, err := globFixtures("testdata/no-such-folder/*.txtar"); err == nil {
		t.Error("a pattern that matches nothing gave no error")
	}
	if got, err := globFixtures("testdata/valid/*.txtar"); err != nil || len(got) == 0 {
		t.Errorf("valid fixtures: %d, %v", len(got), err)
	}
}
