package compiler

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/bic-dev/bic/compiler/query/timewindow"
)

// Time ranges stay within the times every warehouse holds: from
// 0001-01-01 (BigQuery's first) on. last_100000_years used to pass
// validation and fail on PostgreSQL with an out-of-range error.
func TestTimeRangeBounds(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"last_2000_years", ""},
		{"last_100000_days", ""},
		{"last_100000_weeks", ""},
		{"last_24000_months", ""},
		{"last_8000_quarters", ""},
		{"0001-01-01..2025-12-31", ""},
		{"last_100000_years", "the count of years must be from 1 to 2000 (at most 2000 years back: warehouses support times from 0001-01-01 on)"},
		{"last_2001_years", "from 1 to 2000"},
		{"last_24001_months", "the count of months must be from 1 to 24000"},
		{"last_8001_quarters", "the count of quarters must be from 1 to 8000"},
		{"last_100001_days", "the count of days must be from 1 to 100000"},
		{"0000-12-31..2025-01-01", "the span starts on 0000-12-31, before 0001-01-01, the earliest time warehouses support"},
	}
	for _, tt := range tests {
		err := checkTimeRange(tt.in)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.in, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: err = %v, want %q", tt.in, err, tt.wantErr)
		}
	}
	// Resolved against an early now, a range that passes validation may
	// still reach before year 1; a span to 9999-12-31 ends after the
	// latest time BigQuery holds, so it is left open.
	early := time.Date(1500, 6, 1, 0, 0, 0, 0, time.UTC)
	if _, err := timewindow.Resolve("last_2000_years", early, time.UTC); err == nil || !strings.Contains(err.Error(), "before 0001-01-01, the earliest time warehouses support") {
		t.Errorf("last_2000_years in 1500: err = %v", err)
	}
	w, err := timewindow.Resolve("2025-01-01..9999-12-31", time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC), time.UTC)
	if err != nil || !w.To.IsZero() || w.From.Year() != 2025 {
		t.Errorf("span to 9999-12-31 = %v, %v; want from 2025-01-01 with no end", w, err)
	}
}

// A default or time_range beyond the bounds is a diagnostic of bic
// validate, at the value.
func TestDefaultsBeyondWarehouseTimes(t *testing.T) {
	fsys := fixtureFS(t, "testdata/valid/compare.txtar")
	fsys["dashboards/far.yaml"] = &fstest.MapFile{Data: []byte(`dashboard: far
title: Far
filters:
  - {name: period, dataset: orders, dimension: ordered_at, type: date_range, default: last_100000_years}
charts:
  - {name: old, type: line, dataset: orders, metrics: [orders], x: ordered_at, grain: year, time_range: last_5000_years}
`)}
	res := mustCompile(t, newTestCompiler(t), fsys)
	var got []string
	for _, d := range res.Diagnostics {
		got = append(got, d.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`dashboards/far.yaml:4:`,
		`"last_100000_years": the count of years must be from 1 to 2000 (at most 2000 years back: warehouses support times from 0001-01-01 on)`,
		`dashboards/far.yaml:6:`,
		`invalid time_range "last_5000_years": the count of years must be from 1 to 2000`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, all)
		}
	}
}
