package dialect

import (
	"fmt"
	"strconv"
	"strings"
)

// BigQuery is BigQuery's dialect.
type BigQuery struct{}

func (BigQuery) Placeholder(n int) string { return "@p" + strconv.Itoa(n) }

func (BigQuery) Quote(ident string) string {
	return "`" + strings.ReplaceAll(ident, "`", "\\`") + "`"
}

// Time makes a TIMESTAMP, an instant, a DATETIME in the time zone tz:
// bic works in the project's wall clock.
func (BigQuery) Time(expr, tz string) string { return fmt.Sprintf("DATETIME(%s, '%s')", expr, tz) }

func (BigQuery) Trunc(grain, expr string) string {
	u := strings.ToUpper(grain)
	if u == "WEEK" {
		u = "ISOWEEK"
	}
	return fmt.Sprintf("DATETIME_TRUNC(%s, %s)", expr, u)
}

func (BigQuery) Shift(expr, unit string, n int) string {
	f := "DATETIME_SUB(%s, INTERVAL %d %s)"
	if n < 0 {
		f, n = "DATETIME_ADD(%s, INTERVAL %d %s)", -n
	}
	k, u := intervalUnits(unit, n)
	return fmt.Sprintf(f, expr, k, strings.ToUpper(u))
}

func (BigQuery) Param(p, typ string) string {
	if typ == "time" {
		return "CAST(" + p + " AS DATETIME)"
	}
	return p
}
