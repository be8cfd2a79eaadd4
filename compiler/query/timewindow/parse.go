package timewindow

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	lastNRE    = regexp.MustCompile(`^last_([0-9]+)_(hours|days|weeks|months|quarters|years)$`)
	periodRE   = regexp.MustCompile(`^(this|previous)_(day|week|month|quarter|year)$`)
	dateSpanRE = regexp.MustCompile(`^([0-9]{4}-[0-9]{2}-[0-9]{2})\.\.([0-9]{4}-[0-9]{2}-[0-9]{2})?$`)
)

// Time windows must stay within the times every warehouse can hold:
// BigQuery's TIMESTAMP and DATETIME start on 0001-01-01 and end with
// 9999-12-31; PostgreSQL and DuckDB reach further. A last_N_UNIT range may
// reach back MaxYearsBack years, so that from any time after the year 2000
// it starts in year 1 or later; the compiler checks the window it resolves
// against the bounds themselves.
const (
	EarliestTime = "0001-01-01"
	MaxYearsBack = 2000
)

// maxLastN is the largest N of last_N_UNIT, by unit: 100000, or what
// reaches MaxYearsBack years back.
var maxLastN = map[string]int{
	"hours": 100000, "days": 100000, "weeks": 100000, // 100000 weeks are 1917 years
	"months": 12 * MaxYearsBack, "quarters": 4 * MaxYearsBack, "years": MaxYearsBack,
}

// timeRangeHelp lists the accepted forms for error messages.
const timeRangeHelp = "last_N_days (or hours, weeks, months, quarters, years), this_month, previous_month (or day, week, quarter, year), today, yesterday, year_to_date, all, or a span 2024-01-01..2024-12-31 (end optional)"

// Range is a parsed time range. Form is one of all, today, yesterday,
// year_to_date, last (the last N Units before the current one), this or
// previous (the current or the previous Unit), or span (From to To, dates,
// To included and optional).
type Range struct {
	Form     string
	N        int
	Unit     string // hour, day, week, month, quarter or year
	From, To string
}

// Parse reads a time range such as last_30_days or
// 2024-01-01..2024-12-31, or says which forms there are.
func Parse(s string) (Range, error) {
	switch s {
	case "all", "year_to_date", "today", "yesterday":
		return Range{Form: s}, nil
	}
	if m := periodRE.FindStringSubmatch(s); m != nil {
		return Range{Form: m[1], Unit: m[2]}, nil
	}
	if m := lastNRE.FindStringSubmatch(s); m != nil {
		most := maxLastN[m[2]]
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 || n > most {
			msg := fmt.Sprintf("the count of %s must be from 1 to %d", m[2], most)
			if most < 100000 {
				msg += fmt.Sprintf(" (at most %d years back: warehouses support times from %s on)", MaxYearsBack, EarliestTime)
			}
			return Range{}, errors.New(msg)
		}
		return Range{Form: "last", N: n, Unit: m[2][:len(m[2])-1]}, nil
	}
	if m := dateSpanRE.FindStringSubmatch(s); m != nil {
		from, err := time.Parse(time.DateOnly, m[1])
		if err != nil {
			return Range{}, fmt.Errorf("%q is not a date", m[1])
		}
		if from.Year() < 1 {
			return Range{}, fmt.Errorf("the span starts on %s, before %s, the earliest time warehouses support", m[1], EarliestTime)
		}
		if m[2] != "" {
			to, err := time.Parse(time.DateOnly, m[2])
			if err != nil {
				return Range{}, fmt.Errorf("%q is not a date", m[2])
			}
			if to.Before(from) {
				return Range{}, fmt.Errorf("the span ends on %s, before its start %s", m[2], m[1])
			}
		}
		return Range{Form: "span", From: m[1], To: m[2]}, nil
	}
	return Range{}, fmt.Errorf("expected %s", timeRangeHelp)
}

// ParseWallClock reads 2024-01-31, 2024-01-31 10:00[:00] or with a T, as
// a wall-clock time in loc.
func ParseWallClock(s string, loc *time.Location) (t time.Time, dateOnly bool, err error) {
	if len(s) == 10 {
		t, err = time.ParseInLocation(time.DateOnly, s, loc)
		return t, true, err
	}
	s = strings.Replace(s, "T", " ", 1)
	for _, layout := range []string{time.DateTime, "2006-01-02 15:04", "2006-01-02 15:04:05.999999"} {
		if t, err = time.ParseInLocation(layout, s, loc); err == nil {
			return t, false, nil
		}
	}
	return time.Time{}, false, err
}

// IsDateLike accepts a date (2024-01-31) or a date and time
// (2024-01-31 10:00:00, 2024-01-31T10:00:00).
func IsDateLike(s string) bool {
	_, _, err := ParseWallClock(s, time.UTC)
	return err == nil
}
