package compiler

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/robfig/cron/v3"
)

var (
	lastNRE    = regexp.MustCompile(`^last_([0-9]+)_(hours|days|weeks|months|quarters|years)$`)
	periodRE   = regexp.MustCompile(`^(this|previous)_(day|week|month|quarter|year)$`)
	dateSpanRE = regexp.MustCompile(`^([0-9]{4}-[0-9]{2}-[0-9]{2})\.\.([0-9]{4}-[0-9]{2}-[0-9]{2})?$`)
)

// Time windows must stay within the times every warehouse can hold:
// BigQuery's TIMESTAMP and DATETIME start on 0001-01-01 and end with
// 9999-12-31; PostgreSQL and DuckDB reach further. A last_N_UNIT range may
// reach back maxYearsBack years, so that from any time after the year 2000
// it starts in year 1 or later; ResolveTimeRange checks the window it
// resolves against the bounds themselves.
const (
	earliestTime = "0001-01-01"
	maxYearsBack = 2000
)

// maxLastN is the largest N of last_N_UNIT, by unit: 100000, or what
// reaches maxYearsBack years back.
var maxLastN = map[string]int{
	"hours": 100000, "days": 100000, "weeks": 100000, // 100000 weeks are 1917 years
	"months": 12 * maxYearsBack, "quarters": 4 * maxYearsBack, "years": maxYearsBack,
}

// timeRangeHelp lists the accepted forms for error messages.
const timeRangeHelp = "last_N_days (or hours, weeks, months, quarters, years), this_month, previous_month (or day, week, quarter, year), today, yesterday, year_to_date, all, or a span 2024-01-01..2024-12-31 (end optional)"

// checkTimeRange reports whether s is a time range bic understands.
func checkTimeRange(s string) error {
	switch {
	case s == "all" || s == "year_to_date" || s == "today" || s == "yesterday":
		return nil
	case periodRE.MatchString(s):
		return nil
	}
	if m := lastNRE.FindStringSubmatch(s); m != nil {
		most := maxLastN[m[2]]
		if n, err := strconv.Atoi(m[1]); err != nil || n < 1 || n > most {
			msg := fmt.Sprintf("the count of %s must be from 1 to %d", m[2], most)
			if most < 100000 {
				msg += fmt.Sprintf(" (at most %d years back: warehouses support times from %s on)", maxYearsBack, earliestTime)
			}
			return errors.New(msg)
		}
		return nil
	}
	if m := dateSpanRE.FindStringSubmatch(s); m != nil {
		from, err := time.Parse(time.DateOnly, m[1])
		if err != nil {
			return fmt.Errorf("%q is not a date", m[1])
		}
		if from.Year() < 1 {
			return fmt.Errorf("the span starts on %s, before %s, the earliest time warehouses support", m[1], earliestTime)
		}
		if m[2] != "" {
			to, err := time.Parse(time.DateOnly, m[2])
			if err != nil {
				return fmt.Errorf("%q is not a date", m[2])
			}
			if to.Before(from) {
				return fmt.Errorf("the span ends on %s, before its start %s", m[2], m[1])
			}
		}
		return nil
	}
	return fmt.Errorf("expected %s", timeRangeHelp)
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// checkCron parses a five-field cron expression or a descriptor (@daily).
// Time zones are set with the object's timezone key, not CRON_TZ.
func checkCron(s string) error {
	if len(s) >= 3 && (s[:3] == "TZ=" || (len(s) >= 8 && s[:8] == "CRON_TZ=")) {
		return fmt.Errorf("leave the time zone out of the cron expression: schedules run in the object's timezone, or the project's defaults.timezone")
	}
	if _, err := cronParser.Parse(s); err != nil {
		return fmt.Errorf("%v; expected five fields (minute hour day-of-month month day-of-week) such as \"0 8 * * 1-5\", or @hourly, @daily, @weekly, @monthly", err)
	}
	return nil
}

// checkTimezone accepts IANA names such as Europe/Berlin and UTC.
func checkTimezone(s string) error {
	if s == "" || s == "Local" {
		return fmt.Errorf("expected an IANA time zone such as UTC or Europe/Berlin")
	}
	if _, err := time.LoadLocation(s); err != nil {
		return fmt.Errorf("unknown time zone %q: expected an IANA time zone such as UTC or Europe/Berlin", s)
	}
	return nil
}

// ParseDuration reads the schema's durations (30s, 15m, 6h, 2d).
func ParseDuration(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return time.Duration(n) * unit, nil
}
