package dialect

import (
	"fmt"
	"strconv"
)

// DuckDB is DuckDB's dialect.
type DuckDB struct{}

func (DuckDB) Placeholder(n int) string   { return "$" + strconv.Itoa(n) }
func (DuckDB) Quote(ident string) string  { return doubleQuote(ident) }
func (DuckDB) Time(expr, _ string) string { return expr }
func (DuckDB) Trunc(grain, expr string) string {
	return fmt.Sprintf("date_trunc('%s', %s)", grain, expr)
}

func (DuckDB) Shift(expr, unit string, n int) string { return intervalShift(expr, unit, n) }

func (DuckDB) Param(p, typ string) string {
	if typ == "time" {
		return "CAST(" + p + " AS TIMESTAMP)"
	}
	return p
}
