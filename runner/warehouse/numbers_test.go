package warehouse_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/bic-dev/bic/compiler/query"
	"github.com/bic-dev/bic/runner/result"
	"github.com/bic-dev/bic/runner/warehouse"
)

// Money read from the example's CSV files adds up to its digits on DuckDB,
// in JSON and in CSV: 104995.44, not 104995.44000000056 as when the
// columns were read as DOUBLE.
func TestMoneyKeepsItsDigits(t *testing.T) {
	m := shop(t)
	duck := openDuck(t, m)
	q, err := query.PlanChart(m, "sales/revenue", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	encode := func(write func(*bytes.Buffer, result.Rows) error) string {
		rows, err := warehouse.Run(context.Background(), duck, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b bytes.Buffer
		if err := write(&b, rows); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	gotJSON := encode(func(b *bytes.Buffer, r result.Rows) error { _, err := result.WriteJSON(b, r); return err })
	wantJSON := `{"columns":[{"name":"ordered_at","type":"time"},{"name":"revenue","type":"number"},{"name":"revenue_previous","type":"number"}],"rows":[["2025-12-01T00:00:00+01:00",104995.44,100557.31]]}` + "\n"
	if gotJSON != wantJSON {
		t.Errorf("JSON:\n%s\nwant\n%s", gotJSON, wantJSON)
	}
	gotCSV := encode(func(b *bytes.Buffer, r result.Rows) error { _, err := result.WriteCSV(b, r); return err })
	if want := "ordered_at,revenue,revenue_previous\r\n2025-12-01T00:00:00+01:00,104995.44,100557.31\r\n"; gotCSV != want {
		t.Errorf("CSV:\n%q\nwant\n%q", gotCSV, want)
	}
}

// TestCompareLikeForLike checks on both warehouses that a big number whose
// latest period is partial is compared with the same part of the earlier
// period: with the date filter 2025-06-01..2025-08-15, 1–15 August with
// 1–15 July (previous_period) and with 1–15 August 2024 (previous_year);
// and the week of the example data's last day, Monday 29 to Wednesday 31
// December 2025, with Monday 22 to Wednesday 24 December. The expected
// values are plain sums over the raw tables.
func TestCompareLikeForLike(t *testing.T) {
	m := shop(t)
	duck := openDuck(t, m)
	pg := loadPostgres(t, m, duck)
	const sold = "status IN ('pending', 'shipped', 'completed')"
	tests := []struct {
		chart, filter     string
		period            string
		current, previous string // SQL giving the expected values
	}{
		{
			chart: "sales/revenue", filter: "period=2025-06-01..2025-08-15", period: "2025-08-01T00:00:00+02:00",
			current:  "SELECT sum(amount) FROM orders WHERE " + sold + " AND ordered_at >= '2025-08-01' AND ordered_at < '2025-08-16'",
			previous: "SELECT sum(amount) FROM orders WHERE " + sold + " AND ordered_at >= '2025-07-01' AND ordered_at < '2025-07-16'",
		},
		{
			chart: "sales/orders", filter: "period=2025-06-01..2025-08-15", period: "2025-08-01T00:00:00+02:00",
			current:  "SELECT count(*) FROM orders WHERE " + sold + " AND ordered_at >= '2025-08-01' AND ordered_at < '2025-08-16'",
			previous: "SELECT count(*) FROM orders WHERE " + sold + " AND ordered_at >= '2024-08-01' AND ordered_at < '2024-08-16'",
		},
		{
			chart: "marketing/sessions", period: "2025-12-29T00:00:00+01:00",
			current:  "SELECT count(*) FROM web_sessions WHERE started_at >= '2025-12-29' AND started_at < '2026-01-01'",
			previous: "SELECT count(*) FROM web_sessions WHERE started_at >= '2025-12-22' AND started_at < '2025-12-25'",
		},
	}
	for _, tt := range tests {
		dash, _, _ := strings.Cut(tt.chart, "/")
		var args []string
		if tt.filter != "" {
			args = append(args, tt.filter)
		}
		state, err := query.ParseFilterArgs(m, dash, args)
		if err != nil {
			t.Fatal(err)
		}
		q, err := query.PlanChart(m, tt.chart, state, now)
		if err != nil {
			t.Fatal(err)
		}
		for name, conn := range map[string]warehouse.Conn{"duckdb": duck, "postgres": pg} {
			t.Run(tt.chart+"/"+name, func(t *testing.T) {
				r := run(t, conn, q, name)
				if r.Rows != 1 {
					t.Fatalf("%d rows, want 1", r.Rows)
				}
				row := r.Row(0)
				if row[0] != tt.period {
					t.Errorf("period %v, want %s", row[0], tt.period)
				}
				for i, sql := range []string{tt.current, tt.previous} {
					want := scalar(t, conn, sql)
					if !sameValue(row[1+i], want) {
						t.Errorf("%s = %v, want %v (%s)", r.Columns[1+i].Name, row[1+i], want, sql)
					}
				}
			})
		}
	}
}

func scalar(t *testing.T, conn warehouse.Conn, sql string) any {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("%s: no row: %v", sql, rows.Err())
	}
	return rows.Values()[0]
}
