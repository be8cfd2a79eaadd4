package compiler

import (
	"fmt"
	"strings"
)

// snowflake is Snowflake's dialect. Its ? markers take the values in
// order, so a value used twice is bound twice.
type snowflake struct{}

func (snowflake) Placeholder(int) string     { return "?" }
func (snowflake) Quote(ident string) string  { return doubleQuote(ident) }
func (snowflake) Time(expr, _ string) string { return expr }

func (snowflake) Trunc(grain, expr string) string {
	return fmt.Sprintf("DATE_TRUNC('%s', %s)", strings.ToUpper(grain), expr)
}

func (snowflake) Shift(expr, unit string, n int) string {
	return fmt.Sprintf("DATEADD(%s, %d, %s)", strings.ToUpper(unit), -n, expr)
}

func (snowflake) Param(p, typ string) string {
	if typ == "time" {
		return "TO_TIMESTAMP_NTZ(" + p + ")"
	}
	return p
}
