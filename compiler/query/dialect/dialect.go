package dialect

import (
	"fmt"
	"strings"
)

// Dialect writes the parts of SQL that differ between warehouses. Each
// warehouse has one implementation; For finds it by
// connection type.
type Dialect interface {
	// Placeholder returns the n-th (1-based) parameter marker.
	Placeholder(n int) string
	// Quote quotes an identifier that bic generates (a column alias).
	Quote(ident string) string
	// Time is a time expression as compared with wall-clock bounds in
	// the time zone tz.
	Time(expr, tz string) string
	// Trunc truncates a wall-clock time expression (as Time writes it) to
	// a grain or a finer unit (minute).
	Trunc(grain, expr string) string
	// Shift moves a wall-clock time expression n units back, or forward
	// when n is negative.
	Shift(expr, unit string, n int) string
	// Param types a bound parameter of a column type ("time", "number",
	// …) where the warehouse would not infer it right: a wall-clock
	// timestamp string must be cast, and PostgreSQL binds 2.5 to a bigint
	// column as 2. Other types return the placeholder unchanged.
	Param(placeholder, typ string) string
}

// For returns the dialect of a connection type.
func For(name string) (Dialect, error) {
	switch name {
	case "duckdb":
		return DuckDB{}, nil
	case "postgres":
		return Postgres{}, nil
	case "snowflake":
		return Snowflake{}, nil
	case "bigquery":
		return BigQuery{}, nil
	}
	return nil, fmt.Errorf("no SQL dialect for connection type %q", name)
}

func doubleQuote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// intervalShift writes expr moved n units back as expr - INTERVAL, or
// forward as expr + INTERVAL when n is negative.
func intervalShift(expr, unit string, n int) string {
	op := "-"
	if n < 0 {
		op, n = "+", -n
	}
	k, u := intervalUnits(unit, n)
	return fmt.Sprintf("%s %s INTERVAL '%d %s'", expr, op, k, u)
}

// intervalUnits writes n units in the units every warehouse's INTERVAL
// knows: weeks as days, quarters as months.
func intervalUnits(unit string, n int) (int, string) {
	switch unit {
	case "week":
		return 7 * n, "day"
	case "quarter":
		return 3 * n, "month"
	}
	return n, unit
}
