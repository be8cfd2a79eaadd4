package query

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler/internal/fixture"
	"github.com/bic-dev/bic/compiler/query/filterstate"
)

func formatSQL(s SQL) []byte {
	args, _ := json.Marshal(s.Args)
	return []byte(fmt.Sprintf("%s-- args: %s\n", s.Text, args))
}

// TestGoldenSQL writes the SQL of every example chart and alert, with the
// dashboards' default filters, in every dialect.
func TestGoldenSQL(t *testing.T) {
	m := shopManifest(t)
	for _, name := range fixture.ConnectionTypes(t) {
		d := mustDialect(t, name)
		dir := filepath.Join("testdata", "sql", name)
		if *update {
			os.RemoveAll(dir)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range m.Charts {
			ref := c.Dashboard + "/" + c.Spec.Name
			q, err := PlanChart(m, ref, nil, goldenNow)
			if err != nil {
				t.Fatalf("plan %s: %v", ref, err)
			}
			fixture.Golden(t, filepath.Join(dir, c.Dashboard+"."+c.Spec.Name+".sql"), formatSQL(q.SQLFor(d)), *update)
		}
		for _, a := range m.Alerts {
			q, err := PlanAlert(m, a.Spec.Name, goldenNow)
			if err != nil {
				t.Fatalf("plan alert %s: %v", a.Spec.Name, err)
			}
			fixture.Golden(t, filepath.Join(dir, "alert."+a.Spec.Name+".sql"), formatSQL(q.SQLFor(d)), *update)
		}
	}
}

// TestFilterValuesAreBound checks that hostile filter values only ever
// appear among the arguments, never in the SQL text.
func TestFilterValuesAreBound(t *testing.T) {
	m := shopManifest(t)
	hostile := []string{`x' OR '1'='1`, `"; drop table orders; --`}
	for _, name := range fixture.ConnectionTypes(t) {
		d := mustDialect(t, name)
		for _, v := range hostile {
			// A filter with a list of values refuses any other.
			if _, err := PlanChart(m, "sales/revenue_by_month", FilterState{"channel": v}, goldenNow); !errors.Is(err, filterstate.ErrInvalidValue) {
				t.Errorf("%s: channel %q: err = %v, want ErrInvalidValue", name, v, err)
			}
			q, err := PlanChart(m, "sales/revenue_by_month", FilterState{"country": []any{v, "DE"}}, goldenNow)
			if err != nil {
				t.Fatal(err)
			}
			s := q.SQLFor(d)
			if strings.Contains(s.Text, "drop table") || strings.Contains(s.Text, "'1'='1") {
				t.Errorf("%s: a filter value is in the SQL text:\n%s", name, s.Text)
			}
			found := 0
			for _, a := range s.Args {
				if a == v {
					found++
				}
			}
			if found != 1 {
				t.Errorf("%s: value %q bound %d times, want 1 (args %v)", name, v, found, s.Args)
			}
		}
	}
}

func TestPlanErrors(t *testing.T) {
	m := shopManifest(t)
	tests := []struct {
		ref   string
		state FilterState
		want  string
	}{
		{"sales/nope", nil, `no chart "sales/nope"`},
		{"sales/revenue_by_month", FilterState{"order_value": map[string]any{"min": "lots"}}, "expected a number"},
		{"sales/revenue_by_month", FilterState{"period": "last_fortnight"}, "expected last_N_days"},
	}
	for _, tt := range tests {
		_, err := PlanChart(m, tt.ref, tt.state, goldenNow)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("PlanChart(%s, %v) error = %v, want it to contain %q", tt.ref, tt.state, err, tt.want)
		}
	}
}

// TestPlanTimeWindows pins how time ranges, date filters and comparisons
// become predicates, found wrong in review.
func TestPlanTimeWindows(t *testing.T) {
	m := compileFixture(t, "valid/compare.txtar")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation(time.DateTime, s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		chart    string
		state    FilterState
		now      time.Time
		contains []string
		args     []any
	}{
		{
			// A week a year back starts on a Monday only 52 weeks back, and
			// is cut on the same weekday as the latest week.
			chart: "kpis/yoy_week", now: at("2026-01-15 10:00:00"),
			contains: []string{
				`"bic_period" - INTERVAL '364 day' AS "bic_previous"`,
				`date_trunc('day', "bic_last") - INTERVAL '364 day' + INTERVAL '1 day' AS "bic_previous_end"`,
				`ORDER BY 1 DESC NULLS LAST`,
			},
		},
		{
			// The previous month is read although the window is this month
			// (its rows are not restricted by the window); the current
			// period is taken from inside the window only.
			chart: "kpis/mom_this_month", now: at("2025-12-15 10:00:00"),
			contains: []string{
				`WHERE (ordered_at) >= CAST($1 AS timestamp)`,
				`"bic_period" - INTERVAL '1 month' AS "bic_previous"`,
				`WHERE (((ordered_at) >= "bic_bounds"."bic_period" AND (ordered_at) < "bic_bounds"."bic_end") OR ((ordered_at) >= "bic_bounds"."bic_previous"`,
			},
			args: []any{"2025-12-01 00:00:00", "2026-01-01 00:00:00"},
		},
		{
			// A window that ends inside a day (the current hour) cuts both
			// periods there: the earlier one at the same hour a week back.
			chart: "kpis/wow", state: FilterState{"period": "last_24_hours"}, now: at("2026-01-15 10:30:00"),
			contains: []string{
				`LEAST(date_trunc('day', "bic_last") + INTERVAL '1 day', CAST($3 AS timestamp)) AS "bic_end"`,
				`LEAST(date_trunc('day', "bic_last") - INTERVAL '7 day' + INTERVAL '1 day', CAST($4 AS timestamp) - INTERVAL '7 day') AS "bic_previous_end"`,
			},
			args: []any{"2026-01-12 00:00:00", "2026-01-15 10:00:00", "2026-01-15 10:00:00", "2026-01-15 10:00:00"},
		},
		{
			// The dashboard's "all" leaves the chart's own time range in force.
			chart: "kpis/q4", now: at("2026-01-15 10:00:00"),
			args: []any{"2025-10-01 00:00:00", "2026-01-01 00:00:00"},
		},
		{
			// A date filter's value replaces it.
			chart: "kpis/q4", state: FilterState{"period": "2025-11-01..2025-11-30"}, now: at("2026-01-15 10:00:00"),
			args: []any{"2025-11-01 00:00:00", "2025-12-01 00:00:00"},
		},
		{
			// At the autumn DST change (02:30 CET, after 02:00–03:00 CEST) the
			// last hour is still one non-empty wall-clock hour.
			chart: "kpis/last_hour", now: time.Date(2025, 10, 26, 1, 30, 0, 0, time.UTC),
			args: []any{"2025-10-26 01:00:00", "2025-10-26 02:00:00"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.chart, func(t *testing.T) {
			q, err := PlanChart(m, tt.chart, tt.state, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			s := q.SQLFor(mustDialect(t, "postgres"))
			for _, want := range tt.contains {
				if !strings.Contains(s.Text, want) {
					t.Errorf("SQL lacks %s:\n%s", want, s.Text)
				}
			}
			if tt.args != nil && fmt.Sprint(s.Args) != fmt.Sprint(tt.args) {
				t.Errorf("args = %v, want %v\n%s", s.Args, tt.args, s.Text)
			}
			// Snowflake's ? markers take the values in order, one each.
			if sf := q.SQLFor(mustDialect(t, "snowflake")); strings.Count(sf.Text, "?") != len(sf.Args) {
				t.Errorf("snowflake: %d markers for %d args:\n%s", strings.Count(sf.Text, "?"), len(sf.Args), sf.Text)
			}
		})
	}
}

// Numbers bind with a type on PostgreSQL, so 2.5 is not rounded to a bigint column's 2.
func TestNumberParametersAreTyped(t *testing.T) {
	m := compileFixture(t, "valid/compare.txtar")
	q, err := PlanChart(m, "kpis/by_band", nil, goldenNow)
	if err != nil {
		t.Fatal(err)
	}
	q.Where = append(q.Where, Predicate{Expr: "amount_band", Type: "number", Op: ">=", Values: []any{2.5}})
	if s := q.SQLFor(mustDialect(t, "postgres")); !strings.Contains(s.Text, "(amount_band) >= CAST($1 AS numeric)") {
		t.Errorf("postgres SQL:\n%s", s.Text)
	}
	if s := q.SQLFor(mustDialect(t, "duckdb")); !strings.Contains(s.Text, "(amount_band) >= $1") {
		t.Errorf("duckdb SQL:\n%s", s.Text)
	}
}

func TestParseFilterArgs(t *testing.T) {
	m := compileFixture(t, "valid/compare.txtar")
	tests := []struct {
		args    []string
		want    FilterState
		wantErr string
	}{
		{args: []string{"band=1,2.5"}, want: FilterState{"band": []any{1.0, 2.5}}},
		{args: []string{"period=2025-01-01..2025-01-31"}, want: FilterState{"period": "2025-01-01..2025-01-31"}},
		{args: []string{"period="}, want: FilterState{"period": nil}},
		{args: []string{"band=one"}, wantErr: `filter band: expected a number, found "one"`},
		{args: []string{"period=2025-03-01..2025-01-01"}, wantErr: "before its start"},
		{args: []string{"bnd=1"}, wantErr: `dashboard kpis has no filter "bnd"; did you mean "band"?`},
		{args: []string{"band"}, wantErr: "expected NAME=VALUE"},
	}
	for _, tt := range tests {
		got, err := ParseFilterArgs(m, "kpis", tt.args)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: err = %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%v = %v, %v; want %v", tt.args, got, err, tt.want)
		}
	}
}

// A select filter without values of its own offers the distinct values of
// its dimension: one distinct, ordered column without NULLs, bounded.
func TestPlanFilterValues(t *testing.T) {
	m := shopManifest(t)
	q, err := PlanFilterValues(m, "sales", "country")
	if err != nil {
		t.Fatal(err)
	}
	s := q.SQLFor(mustDialect(t, "duckdb"))
	for _, want := range []string{"SELECT DISTINCT", "IS NOT NULL", "ORDER BY 1", "LIMIT 1001"} {
		if !strings.Contains(s.Text, want) {
			t.Errorf("SQL lacks %q:\n%s", want, s.Text)
		}
	}
	if len(q.Columns) != 1 || q.Columns[0].Name != "country" {
		t.Errorf("columns %+v, want country alone", q.Columns)
	}
	if _, err := PlanFilterValues(m, "sales", "nope"); err == nil {
		t.Error("an unknown filter was planned")
	}
}
