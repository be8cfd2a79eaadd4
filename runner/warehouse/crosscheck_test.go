package warehouse_test

import (
	"context"
	"errors"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/compiler/query"
	"github.com/bic-dev/bic/compiler/query/filterstate"
	"github.com/bic-dev/bic/runner/result"
	"github.com/bic-dev/bic/runner/servicetest"
	"github.com/bic-dev/bic/runner/warehouse"
	"github.com/bic-dev/bic/runner/warehouse/duckdb"
	"github.com/bic-dev/bic/runner/warehouse/postgres"
	"github.com/bic-dev/bic/runner/warehouse/warehousetest"
)

const shopDir = "../../examples/shop"

// now is fixed so that relative time ranges select the same rows every run.
var now = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

func shop(t *testing.T) *compiler.Manifest {
	t.Helper()
	s, err := compiler.NewSchema()
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.New(s).Compile(context.Background(), os.DirFS(shopDir))
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest == nil {
		t.Fatalf("examples/shop: %v", res.Diagnostics)
	}
	return res.Manifest
}

func berlin(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func openDuck(t *testing.T, m *compiler.Manifest) *duckdb.Conn {
	t.Helper()
	spec, _ := m.Connection("warehouse")
	c, err := duckdb.Open(context.Background(), spec.Spec, warehouse.Options{ProjectDir: shopDir, Location: berlin(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// loadPostgres loads the example's tables into a fresh schema and returns
// a connection whose search_path is that schema.
func loadPostgres(t *testing.T, m *compiler.Manifest, duck *duckdb.Conn) *postgres.Conn {
	t.Helper()
	url := servicetest.Postgres(t)
	spec, _ := m.Connection("warehouse")
	schema := warehousetest.LoadPostgres(t, url, shopDir, spec.Spec)
	pg, err := postgres.Open(context.Background(), compiler.Connection{Name: "analytics", Type: "postgres", URL: url, Schema: schema}, warehouse.Options{Location: berlin(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	return pg
}

func run(t *testing.T, conn warehouse.Conn, q *query.Query, dialect string) *result.Result {
	t.Helper()
	q2 := *q
	q2.Dialect = dialect
	rows, err := warehouse.Run(context.Background(), conn, &q2)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	r, err := result.Collect(rows, 0)
	if err != nil {
		t.Fatalf("%s on %s: %v", q.Chart, dialect, err)
	}
	return r
}

// sameValue compares values from two warehouses: numbers of any type by
// value (to 1e-9, relative), everything else exactly.
func sameValue(a, b any) bool {
	fa, aNum := number(a)
	fb, bNum := number(b)
	if aNum && bNum {
		return fa == fb || math.Abs(fa-fb) <= 1e-9*math.Max(math.Abs(fa), math.Abs(fb))
	}
	return a == b
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	case warehouse.Decimal:
		f, err := strconv.ParseFloat(string(v), 64)
		return f, err == nil
	}
	return 0, false
}

// TestChartsAgreeOnDuckDBAndPostgres runs every chart of the example on
// both warehouses and checks they give the same column types and the same
// numbers.
func TestChartsAgreeOnDuckDBAndPostgres(t *testing.T) {
	m := shop(t)
	duck := openDuck(t, m)
	pg := loadPostgres(t, m, duck)
	for _, c := range m.Charts {
		ref := c.Dashboard + "/" + c.Spec.Name
		t.Run(ref, func(t *testing.T) {
			q, err := query.PlanChart(m, ref, nil, now)
			if err != nil {
				t.Fatal(err)
			}
			d := run(t, duck, q, "duckdb")
			p := run(t, pg, q, "postgres")
			if d.Rows == 0 {
				t.Errorf("no rows on DuckDB: the example data should fill every chart")
			}
			if d.Rows != p.Rows {
				t.Fatalf("rows: duckdb %d, postgres %d", d.Rows, p.Rows)
			}
			if !slices.Equal(d.Columns, p.Columns) {
				t.Errorf("columns: duckdb %v, postgres %v", d.Columns, p.Columns)
			}
			for i := range d.Rows {
				dr, pr := d.Row(i), p.Row(i)
				for j := range dr {
					if !sameValue(dr[j], pr[j]) {
						t.Fatalf("row %d column %s: duckdb %#v, postgres %#v", i, d.Columns[j].Name, dr[j], pr[j])
					}
				}
			}
		})
	}
}

// TestFilterInjection sends hostile filter values: they match nothing and
// change nothing, on both warehouses.
func TestFilterInjection(t *testing.T) {
	m := shop(t)
	duck := openDuck(t, m)
	pg := loadPostgres(t, m, duck)
	count := func(conn warehouse.Conn) int64 {
		rows, err := conn.Query(context.Background(), "SELECT count(*) FROM orders", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		rows.Next()
		return rows.Values()[0].(int64)
	}
	before := map[string]int64{"duckdb": count(duck), "postgres": count(pg)}
	for _, v := range []string{`x' OR '1'='1`, `"; drop table orders; --`, `'); DROP TABLE orders; --`} {
		// A filter with a list of allowed values refuses anything else
		// before any SQL is written.
		if _, err := query.PlanChart(m, "sales/revenue_by_month", query.FilterState{"channel": v}, now); !errors.Is(err, filterstate.ErrInvalidValue) {
			t.Errorf("channel %q: PlanChart err = %v, want ErrInvalidValue", v, err)
		}
		for _, state := range []query.FilterState{{"country": []any{v}}, {"country": v}} {
			q, err := query.PlanChart(m, "sales/revenue_by_month", state, now)
			if err != nil {
				t.Fatal(err)
			}
			for name, conn := range map[string]warehouse.Conn{"duckdb": duck, "postgres": pg} {
				if r := run(t, conn, q, name); r.Rows != 0 {
					t.Errorf("%s: filter %v matched %d rows, want 0", name, state, r.Rows)
				}
			}
		}
	}
	for name, conn := range map[string]warehouse.Conn{"duckdb": duck, "postgres": pg} {
		if got := count(conn); got != before[name] {
			t.Errorf("%s: orders has %d rows after the hostile filters, had %d", name, got, before[name])
		}
	}
}

func TestErrorsNameChartAndConnection(t *testing.T) {
	m := shop(t)
	duck := openDuck(t, m)
	q, err := query.PlanChart(m, "sales/revenue_by_month", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	bad := *q
	bad.Source = query.Source{Table: "no_such_table"}
	_, err = warehouse.Run(context.Background(), duck, &bad)
	if err == nil || !strings.Contains(err.Error(), "sales/revenue_by_month on connection warehouse") || !strings.Contains(err.Error(), "no_such_table") {
		t.Errorf("error = %v", err)
	}
}
