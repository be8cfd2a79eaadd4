package compiler

import (
	"fmt"
	"strconv"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/bic-dev/bic/compiler/query/timewindow"
)

// checkTimeRange reports whether s is a time range bic understands.
func checkTimeRange(s string) error {
	_, err := timewindow.Parse(s)
	return err
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
