package compiler

import (
	"fmt"
	"strconv"
)

// duckdb is DuckDB's dialect.
type duckdb struct{}

func (duckdb) Placeholder(n int) string   { return "$" + strconv.Itoa(n) }
func (duckdb) Quote(ident string) string  { return doubleQuote(ident) }
func (duckdb) Time(expr, _ string) string { return expr }
func (duckdb) Trunc(grain, expr string) string {
	return fmt.Sprintf("date_trunc('%s', %s)", grain, expr)
}

func (duckdb) Shift(expr, unit string, n int) string { return intervalShift(expr, unit, n) }

func (duckdb) Param(p, typ string) string {
	if typ == "time" {
		return "CAST(" + p + " AS TIMESTAMP)"
	}
	return p
}
