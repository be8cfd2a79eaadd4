package compiler

import (
	"fmt"
	"strconv"
	"strings"
)

// bigquery is BigQuery's dialect.
type bigquery struct{}

func (bigquery) Placeholder(n int) string { return "@p" + strconv.Itoa(n) }

func (bigquery) Quote(ident string) string {
	return "`" + strings.ReplaceAll(ident, "`", "\\`") + "`"
}

// Time makes a TIMESTAMP, an instant, a DATETIME in the time zone tz:
// bic works in the project's wall clock.
func (bigquery) Time(expr, tz string) string { return fmt.Sprintf("DATETIME(%s, '%s')", expr, tz) }

func (bigquery) Trunc(grain, expr string) string {
	u := strings.ToUpper(grain)
	if u == "WEEK" {
		u = "ISOWEEK"
	}
	return fmt.Sprintf("DATETIME_TRUNC(%s, %s)", expr, u)
}

func (bigquery) Shift(expr, unit string, n int) string {
	f := "DATETIME_SUB(%s, INTERVAL %d %s)"
	if n < 0 {
		f, n = "DATETIME_ADD(%s, INTERVAL %d %s)", -n
	}
	k, u := intervalUnits(unit, n)
	return fmt.Sprintf(f, expr, k, strings.ToUpper(u))
}

func (bigquery) Param(p, typ string) string {
	if typ == "time" {
		return "CAST(" + p + " AS DATETIME)"
	}
	return p
}
