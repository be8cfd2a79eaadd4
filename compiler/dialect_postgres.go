package compiler

import (
	"fmt"
	"strconv"
)

// postgres is PostgreSQL's dialect.
type postgres struct{}

func (postgres) Placeholder(n int) string   { return "$" + strconv.Itoa(n) }
func (postgres) Quote(ident string) string  { return doubleQuote(ident) }
func (postgres) Time(expr, _ string) string { return expr }
func (postgres) Trunc(grain, expr string) string {
	return fmt.Sprintf("date_trunc('%s', %s)", grain, expr)
}

func (postgres) Shift(expr, unit string, n int) string { return intervalShift(expr, unit, n) }

// Param casts numbers too: PostgreSQL would infer a bigint column's type
// for the parameter and round.
func (postgres) Param(p, typ string) string {
	switch typ {
	case "time":
		return "CAST(" + p + " AS timestamp)"
	case "number":
		return "CAST(" + p + " AS numeric)"
	}
	return p
}
