package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/servicetest"
	"github.com/bic-dev/bic/runner/warehouse"
)

func open(t *testing.T, timeout string) *Conn {
	t.Helper()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	c, err := Open(context.Background(), compiler.Connection{Name: "pg", Type: "postgres", URL: servicetest.Postgres(t), Timeout: timeout}, warehouse.Options{Location: berlin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTypesAndValues(t *testing.T) {
	c := open(t, "")
	rows, err := c.Query(context.Background(), `SELECT 42::int AS i, 1.5::float8 AS f, 12345678901234567890.1234::numeric AS d, 'x' AS s,
		true AS b, DATE '2025-03-01' AS day, TIMESTAMP '2025-03-01 10:00:00' AS ts,
		TIMESTAMPTZ '2025-07-01 10:00:00+00' AS tstz, NULL::text AS n, $1::text AS p`, []any{"bound"})
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
	want := []any{int64(42), 1.5, warehouse.Decimal("12345678901234567890.1234"), "x", true, "2025-03-01", "2025-03-01T10:00:00+01:00", "2025-07-01T12:00:00+02:00", nil, "bound"}
	for i, v := range rows.Values() {
		if v != want[i] {
			t.Errorf("value %d = %#v, want %#v", i, v, want[i])
		}
	}
}

// drain runs a query to its end, as a caller streaming rows does, and
// returns its error.
func drain(c *Conn, ctx context.Context, sql string) error {
	rows, err := c.Query(ctx, sql, nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

func TestTimeoutAndCancellation(t *testing.T) {
	c := open(t, "1s")
	start := time.Now()
	if err := drain(c, context.Background(), "SELECT pg_sleep(30)"); err == nil {
		t.Fatal("a query over the connection's timeout finished")
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("the timeout took %v to stop the query", time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	start = time.Now()
	if err := drain(c, ctx, "SELECT pg_sleep(30)"); err == nil {
		t.Fatal("a cancelled query finished")
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("cancellation took %v to stop the query", time.Since(start))
	}
	// The pool is still usable afterwards.
	if err := drain(c, context.Background(), "SELECT 1"); err != nil {
		t.Fatalf("query after cancellation: %v", err)
	}
}

func TestErrorsSayWhatIsWrong(t *testing.T) {
	c := open(t, "")
	_, err := c.Query(context.Background(), "SELECT contry FROM (SELECT 1 AS country) t", nil)
	if err == nil || !strings.Contains(err.Error(), `column "contry" does not exist (SQLSTATE 42703) at character 8`) || !strings.Contains(err.Error(), "hint") {
		t.Fatalf("err = %v", err)
	}
}

func TestConfig(t *testing.T) {
	env := map[string]string{"PG_PASSWORD": "p@ss:word/?"}
	opts := warehouse.Options{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	cfg, err := Config(compiler.Connection{Name: "pg", Type: "postgres", Host: "db.internal", Port: 6543, Database: "shop", User: "bic", Password: "${env:PG_PASSWORD}", SSLMode: "require", Schema: "analytics"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.ConnConfig
	if cc.Host != "db.internal" || cc.Port != 6543 || cc.Database != "shop" || cc.User != "bic" || cc.Password != "p@ss:word/?" || cc.RuntimeParams["search_path"] != "analytics" {
		t.Errorf("config = %+v", cc)
	}
	_, err = Config(compiler.Connection{Name: "pg", Type: "postgres", URL: "postgres://bic:${env:PG_NOPE}@db/shop"}, opts)
	if err == nil || !strings.Contains(err.Error(), "connection pg: url: environment variable PG_NOPE is not set") {
		t.Errorf("unset secret: err = %v", err)
	}
}

// Types without a column type of their own come out as readable text.
func TestOtherTypesAsText(t *testing.T) {
	c := open(t, "")
	rows, err := c.Query(context.Background(), `SELECT '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid, '{"a": 1}'::jsonb,
		interval '2 hours', time '10:30:00', ARRAY[1, 2]`, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	want := []any{"6ba7b810-9dad-11d1-80b4-00c04fd430c8", `{"a":1}`, "02:00:00", "10:30:00.000000", "[1,2]"}
	for i, v := range rows.Values() {
		if v != want[i] {
			t.Errorf("value %d = %#v, want %#v", i, v, want[i])
		}
	}
}

// timestamptz values are truncated and compared on the project's wall clock.
func TestTimeZone(t *testing.T) {
	c := open(t, "")
	rows, err := c.Query(context.Background(), `SELECT date_trunc('month', ts) AS m, sum(v) AS v FROM (VALUES
		(TIMESTAMPTZ '2025-11-30 23:30:00+00', 1), (TIMESTAMPTZ '2025-12-01 00:30:00+01', 2),
		(TIMESTAMPTZ '2025-12-31 23:30:00+01', 4), (TIMESTAMPTZ '2026-01-01 00:30:00+01', 8)) t(ts, v)
		WHERE ts >= CAST($1 AS timestamp) GROUP BY 1 ORDER BY 1`, []any{"2025-12-01 00:00:00"})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []any
	for rows.Next() {
		got = append(got, rows.Values()[0], rows.Values()[1])
	}
	want := []any{"2025-12-01T00:00:00+01:00", int64(7), "2026-01-01T00:00:00+01:00", int64(8)}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v (%v)", got, want, rows.Err())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got %v, want %v", got, want)
			break
		}
	}
}
