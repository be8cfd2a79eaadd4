package compiler

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// goldenNow is the fixed "now" of the golden SQL: relative time ranges
// resolve against it.
var goldenNow = time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC)

func shopManifest(t *testing.T) *Manifest {
	t.Helper()
	res := newTestCompiler(t).Compile(os.DirFS("../examples/shop"))
	if res.Manifest == nil {
		t.Fatalf("examples/shop does not compile: %v", res.Diagnostics)
	}
	return res.Manifest
}

func formatSQL(s SQL) []byte {
	args, _ := json.Marshal(s.Args)
	return []byte(fmt.Sprintf("%s-- args: %s\n", s.Text, args))
}

// TestGoldenSQL writes the SQL of every example chart and alert, with the
// dashboards' default filters, in every dialect.
func TestGoldenSQL(t *testing.T) {
	m := shopManifest(t)
	for name, d := range Dialects {
		dir := filepath.Join("testdata", "sql", name)
		if *update {
			os.RemoveAll(dir)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range m.Charts {
			ref := c.Dashboard + "/" + c.Spec.Name
			q, err := m.PlanChart(ref, nil, goldenNow)
			if err != nil {
				t.Fatalf("plan %s: %v", ref, err)
			}
			checkGolden(t, filepath.Join(dir, c.Dashboard+"."+c.Spec.Name+".sql"), formatSQL(q.SQLFor(d)))
		}
		for _, a := range m.Alerts {
			q, err := m.PlanAlert(a.Spec.Name, goldenNow)
			if err != nil {
				t.Fatalf("plan alert %s: %v", a.Spec.Name, err)
			}
			checkGolden(t, filepath.Join(dir, "alert."+a.Spec.Name+".sql"), formatSQL(q.SQLFor(d)))
		}
	}
}

// TestFilterValuesAreBound checks that hostile filter values only ever
// appear among the arguments, never in the SQL text.
func TestFilterValuesAreBound(t *testing.T) {
	m := shopManifest(t)
	hostile := []string{`x' OR '1'='1`, `"; drop table orders; --`}
	for name, d := range Dialects {
		for _, v := range hostile {
			q, err := m.PlanChart("sales/revenue_by_month", FilterState{"country": []any{v}, "channel": v}, goldenNow)
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
			if found != 2 {
				t.Errorf("%s: value %q bound %d times, want 2 (args %v)", name, v, found, s.Args)
			}
		}
	}
}

func TestResolveTimeRange(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 3, 4, 15, 0, 0, 0, berlin) // a Wednesday
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, berlin) }
	tests := []struct {
		in       string
		from, to time.Time
	}{
		{"all", time.Time{}, time.Time{}},
		{"today", day(2026, 3, 4), day(2026, 3, 5)},
		{"yesterday", day(2026, 3, 3), day(2026, 3, 4)},
		{"last_7_days", day(2026, 2, 25), day(2026, 3, 4)},
		{"last_2_weeks", day(2026, 2, 16), day(2026, 3, 2)},
		{"last_12_months", day(2025, 3, 1), day(2026, 3, 1)},
		{"last_1_quarters", day(2025, 10, 1), day(2026, 1, 1)},
		{"this_week", day(2026, 3, 2), day(2026, 3, 9)},
		{"previous_month", day(2026, 2, 1), day(2026, 3, 1)},
		{"this_quarter", day(2026, 1, 1), day(2026, 4, 1)},
		{"previous_year", day(2025, 1, 1), day(2026, 1, 1)},
		{"year_to_date", day(2026, 1, 1), day(2026, 3, 5)},
		{"2025-01-01..2025-12-31", day(2025, 1, 1), day(2026, 1, 1)},
		{"2025-06-01..", day(2025, 6, 1), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			w, err := ResolveTimeRange(tt.in, now, berlin)
			if err != nil {
				t.Fatal(err)
			}
			if !w.From.Equal(tt.from) || !w.To.Equal(tt.to) {
				t.Errorf("got [%v, %v), want [%v, %v)", w.From, w.To, tt.from, tt.to)
			}
		})
	}
	if _, err := ResolveTimeRange("last_fortnight", now, berlin); err == nil {
		t.Error("last_fortnight resolved")
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
		_, err := m.PlanChart(tt.ref, tt.state, goldenNow)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("PlanChart(%s, %v) error = %v, want it to contain %q", tt.ref, tt.state, err, tt.want)
		}
	}
}
