package duckdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/warehouse"
)

func openMemory(t *testing.T, files map[string]string) *Conn {
	t.Helper()
	c, err := Open(context.Background(), compiler.Connection{Name: "test", Type: "duckdb", Files: files}, warehouse.Options{ProjectDir: "../../../examples/shop", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTypesAndValues(t *testing.T) {
	c := openMemory(t, nil)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	c.loc = berlin
	rows, err := c.Query(context.Background(), `SELECT
		42::INTEGER AS i, 1.5::DOUBLE AS f, 12345678901234567.89::DECIMAL(38,2) AS d, 'x' AS s,
		true AS b, DATE '2025-03-01' AS day, TIMESTAMP '2025-03-01 10:00:00' AS ts,
		TIMESTAMPTZ '2025-07-01 10:00:00+00' AS tstz, NULL::VARCHAR AS n, $1::VARCHAR AS p`, []any{"bound"})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	wantCols := []warehouse.Column{{Name: "i", Type: "integer"}, {Name: "f", Type: "number"}, {Name: "d", Type: "decimal"}, {Name: "s", Type: "string"}, {Name: "b", Type: "boolean"}, {Name: "day", Type: "date"}, {Name: "ts", Type: "time"}, {Name: "tstz", Type: "time"}, {Name: "n", Type: "string"}, {Name: "p", Type: "string"}}
	for i, col := range rows.Columns() {
		if col != wantCols[i] {
			t.Errorf("column %d = %v, want %v", i, col, wantCols[i])
		}
	}
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	want := []any{int64(42), 1.5, warehouse.Decimal("12345678901234567.89"), "x", true, "2025-03-01", "2025-03-01T10:00:00+01:00", "2025-07-01T12:00:00+02:00", nil, "bound"}
	for i, v := range rows.Values() {
		if v != want[i] {
			t.Errorf("value %d = %#v, want %#v", i, v, want[i])
		}
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(context.Background(), compiler.Connection{Name: "w", Type: "duckdb", Path: "x.duckdb", Files: map[string]string{"a": "a.csv"}}, warehouse.Options{})
	if !errors.Is(err, warehouse.ErrConfig) {
		t.Errorf("path and files: err = %v, want ErrConfig", err)
	}
	_, err = Open(context.Background(), compiler.Connection{Name: "w", Type: "duckdb", Files: map[string]string{"orders": "data/nope.csv"}}, warehouse.Options{ProjectDir: os.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "connection w: table orders from data/nope.csv") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestQueryCancellation(t *testing.T) {
	c := openMemory(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Query(ctx, "SELECT count(*) FROM range(100000000000)", nil); err == nil {
		t.Fatal("a cancelled query ran")
	}
	c.timeout = 50 * time.Millisecond
	start := time.Now()
	rows, err := c.Query(context.Background(), "SELECT count(*) FROM range(1000000000000) a", nil)
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if err == nil {
		t.Fatal("a query over its timeout finished")
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("timeout took %v to stop the query", time.Since(start))
	}
}

// TIMESTAMPTZ values are truncated and compared on the project's wall clock.
func TestTimeZone(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	c2, err := Open(context.Background(), compiler.Connection{Name: "tz", Type: "duckdb"}, warehouse.Options{Location: berlin})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	rows, err := c2.Query(context.Background(), `SELECT date_trunc('month', ts) AS m, sum(v) AS v FROM (VALUES
		(TIMESTAMPTZ '2025-11-30 23:30:00+00', 1), (TIMESTAMPTZ '2025-12-01 00:30:00+01', 2),
		(TIMESTAMPTZ '2025-12-31 23:30:00+01', 4), (TIMESTAMPTZ '2026-01-01 00:30:00+01', 8)) t(ts, v)
		GROUP BY 1 ORDER BY 1`, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		v := rows.Values()
		got = append(got, fmt.Sprintf("%v %v", v[0], v[1]))
	}
	want := []string{"2025-12-01T00:00:00+01:00 7", "2026-01-01T00:00:00+01:00 8"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("months = %v, want %v (err %v)", got, want, rows.Err())
	}
}

func TestOtherTypesAsText(t *testing.T) {
	c := openMemory(t, nil)
	rows, err := c.Query(context.Background(), `SELECT '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID, INTERVAL 2 HOUR, [1, 2], {'x': 1}, '\xAA'::BLOB`, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	want := []any{"6ba7b810-9dad-11d1-80b4-00c04fd430c8", "0 months 0 days 7200000000 microseconds", "[1,2]", `{"x":1}`, `\xaa`}
	for i, v := range rows.Values() {
		if v != want[i] {
			t.Errorf("value %d = %#v, want %#v", i, v, want[i])
		}
	}
}
