package query

import (
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/compiler/internal/fixture"
	"github.com/bic-dev/bic/compiler/query/dialect"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenNow is the fixed "now" of the golden SQL: relative time ranges
// resolve against it.
var goldenNow = time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC)

var testSchema = sync.OnceValues(compiler.NewSchema)

// compileFS compiles a project that must compile.
func compileFS(t testing.TB, name string, fsys fs.FS) *compiler.Manifest {
	t.Helper()
	s, err := testSchema()
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.New(s).Compile(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest == nil {
		t.Fatalf("%s does not compile: %v", name, res.Diagnostics)
	}
	return res.Manifest
}

func shopManifest(t testing.TB) *compiler.Manifest {
	t.Helper()
	return compileFS(t, "examples/shop", os.DirFS("../../examples/shop"))
}

// compileFixture compiles one of the compiler's txtar fixtures, such as
// "valid/compare.txtar", over its base project.
func compileFixture(t testing.TB, archive string) *compiler.Manifest {
	t.Helper()
	return compileFS(t, archive, fixture.FS(t, filepath.Join("../testdata", archive), "../testdata/base"))
}

func mustDialect(t testing.TB, name string) dialect.Dialect {
	t.Helper()
	d, err := dialect.For(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
