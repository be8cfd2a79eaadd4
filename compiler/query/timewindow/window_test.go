package timewindow

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Range
	}{
		{"all", Range{Form: "all"}},
		{"last_24_hours", Range{Form: "last", N: 24, Unit: "hour"}},
		{"previous_month", Range{Form: "previous", Unit: "month"}},
		{"2024-01-01..", Range{Form: "span", From: "2024-01-01"}},
		{"2024-01-01..2024-12-31", Range{Form: "span", From: "2024-01-01", To: "2024-12-31"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
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
			w, err := Resolve(tt.in, now, berlin)
			if err != nil {
				t.Fatal(err)
			}
			if !w.From.Equal(tt.from) || !w.To.Equal(tt.to) {
				t.Errorf("got [%v, %v), want [%v, %v)", w.From, w.To, tt.from, tt.to)
			}
		})
	}
	if _, err := Resolve("last_fortnight", now, berlin); err == nil {
		t.Error("last_fortnight resolved")
	}
}

// Relative ranges are rounded to their unit: every as-of time within the
// same hour (last_N_hours) or day (last_N_days) gives the same window, so
// a job's input key does not move with the clock inside that unit.
func TestResolveRoundsToTheUnit(t *testing.T) {
	utc := time.UTC
	tests := []struct {
		in   string
		a, b time.Time // the same window
		c    time.Time // the next unit: another window
	}{
		{"last_24_hours", time.Date(2026, 3, 4, 10, 1, 0, 0, utc), time.Date(2026, 3, 4, 10, 59, 59, 0, utc), time.Date(2026, 3, 4, 11, 0, 0, 0, utc)},
		{"last_7_days", time.Date(2026, 3, 4, 0, 0, 0, 0, utc), time.Date(2026, 3, 4, 23, 59, 0, 0, utc), time.Date(2026, 3, 5, 0, 0, 0, 0, utc)},
		{"this_month", time.Date(2026, 3, 1, 0, 0, 0, 0, utc), time.Date(2026, 3, 31, 23, 0, 0, 0, utc), time.Date(2026, 4, 1, 0, 0, 0, 0, utc)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			wa, errA := Resolve(tt.in, tt.a, utc)
			wb, errB := Resolve(tt.in, tt.b, utc)
			wc, errC := Resolve(tt.in, tt.c, utc)
			if errA != nil || errB != nil || errC != nil {
				t.Fatal(errA, errB, errC)
			}
			if wa != wb {
				t.Errorf("as of %v: %v; as of %v: %v; want the same window", tt.a, wa, tt.b, wb)
			}
			if wa == wc {
				t.Errorf("as of %v and %v: both %v; want the next unit's window to differ", tt.a, tt.c, wa)
			}
		})
	}
}
