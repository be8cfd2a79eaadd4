package dialect

import (
	"fmt"
	"strings"
)

// Snowflake is Snowflake's dialect. Its ? markers take the values in
// order, so a value used twice is bound twice.
type Snowflake struct{}

func (Snowflake) Placeholder(int) string     { return "?" }
func (Snowflake) Quote(ident string) string  { return doubleQuote(ident) }
func (Snowflake) Time(expr, _ string) string { return expr }

func (Snowflake) Trunc(grain, expr string) string {
	return fmt.Sprintf("DATE_TRUNC('%s', %s)", strings.ToUpper(grain), expr)
}

func (Snowflake) Shift(expr, unit string, n int) string {
	return fmt.Sprintf("DATEADD(%s, %d, %s)", strings.ToUpper(unit), -n, expr)
}

func (Snowflake) Param(p, typ string) string {
	if typ == "time" {
		return "TO_TIMESTAMP_NTZ(" + p + ")"
	}
	return p
}
