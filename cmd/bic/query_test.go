package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/servicetest"
	"github.com/bic-dev/bic/runner/warehouse/warehousetest"
)

// copyShop copies the example project to a temporary folder, with its
// analytics connection pointed at url and schema.
func copyShop(t *testing.T, url, schema string) string {
	t.Helper()
	dir := t.TempDir()
	src := "../../examples/shop"
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if d.Name() == ".bic" || d.Name() == "gen" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "bic.yaml" {
			s := strings.Replace(string(b), "url: postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "url: "+url, 1)
			s = strings.Replace(s, "schema: shop", "schema: "+schema, 1)
			b = []byte(s)
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func queryCSV(t *testing.T, args ...string) [][]string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), append([]string{"query", "--format", "csv", "--now", "2026-01-15T10:00:00Z"}, args...), &out, &errOut); code != 0 {
		t.Fatalf("bic query %v: exit %d: %s", args, code, errOut.String())
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestQueryEveryChartOnDuckDBAndPostgres runs `bic query` for every
// example chart on the embedded DuckDB and, with --connection, on
// PostgreSQL holding the same data, and compares the printed results.
func TestQueryEveryChartOnDuckDBAndPostgres(t *testing.T) {
	url := servicetest.Postgres(t)
	res, err := compileDir(context.Background(), "../../examples/shop", compiler.DefaultLimits())
	if err != nil || res.Manifest == nil {
		t.Fatalf("examples/shop: %v %v", err, res.Diagnostics)
	}
	wh, _ := res.Manifest.Connection("warehouse")
	schema := warehousetest.LoadPostgres(t, url, "../../examples/shop", wh.Spec)
	dir := copyShop(t, url, schema)
	for _, c := range res.Manifest.Charts {
		ref := c.Dashboard + "/" + c.Spec.Name
		t.Run(ref, func(t *testing.T) {
			duck := queryCSV(t, ref, "-p", dir)
			pg := queryCSV(t, ref, "-p", dir, "--connection", "analytics")
			if len(duck) < 2 {
				t.Fatalf("DuckDB returned no rows")
			}
			if len(duck) != len(pg) {
				t.Fatalf("rows: duckdb %d, postgres %d", len(duck)-1, len(pg)-1)
			}
			for i := range duck {
				for j := range duck[i] {
					if !sameCell(duck[i][j], pg[i][j]) {
						t.Fatalf("row %d column %s: duckdb %q, postgres %q", i, duck[0][j], duck[i][j], pg[i][j])
					}
				}
			}
		})
	}
}

func sameCell(a, b string) bool {
	if a == b {
		return true
	}
	fa, errA := strconv.ParseFloat(a, 64)
	fb, errB := strconv.ParseFloat(b, 64)
	return errA == nil && errB == nil && math.Abs(fa-fb) <= 1e-9*math.Max(math.Abs(fa), math.Abs(fb))
}
