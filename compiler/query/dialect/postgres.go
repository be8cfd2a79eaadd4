package dialect

import (
	"fmt"
	"strconv"
)

// Postgres is PostgreSQL's dialect.
type Postgres struct{}

func (Postgres) Placeholder(n int) string   { return "$" + strconv.Itoa(n) }
func (Postgres) Quote(ident string) string  { return doubleQuote(ident) }
func (Postgres) Time(expr, _ string) string { return expr }
func (Postgres) Trunc(grain, expr string) string {
	return fmt.Sprintf("date_trunc('%s', %s)", grain, expr)
}

func (Postgres) Shift(expr, unit string, n int) string { return intervalShift(expr, unit, n) }

// Param casts numbers too: PostgreSQL would infer a bigint column's type
// for the parameter and round.
func (Postgres) Param(p, typ string) string {
	switch typ {
	case "time":
		return "CAST(" + p + " AS timestamp)"
	case "number":
		return "CAST(" + p + " AS numeric)"
	}
	return p
}
