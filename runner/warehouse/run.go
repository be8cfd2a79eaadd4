package warehouse

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bic-dev/bic/compiler/query"
)

// Run plans nothing: it runs a planned query's SQL on conn, with errors
// that name the chart and the connection, and gives the result's number
// columns the types of the plan (see ResultType).
func Run(ctx context.Context, conn Conn, q *query.Query) (Rows, error) {
	s, err := q.SQL()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q.Chart, err)
	}
	rows, err := conn.Query(ctx, s.Text, s.Args)
	if err != nil {
		return nil, fmt.Errorf("%s on connection %s: %w", q.Chart, q.Connection, err)
	}
	return planTyped(rows, q.ResultColumns()), nil
}

// ResultType is the type of a result column that the plan says is col and
// the warehouse typed got. Warehouses type the same number differently:
// sum of integers is HUGEINT on DuckDB and bigint on PostgreSQL (numeric
// for bigints), avg of decimals DOUBLE on DuckDB and numeric on
// PostgreSQL, extract() BIGINT on DuckDB and numeric on PostgreSQL,
// count(*) NUMBER on Snowflake. So a number of the plan is an integer when
// it is a count, and a number otherwise, on every warehouse; its values
// keep the digits the warehouse gave (exact decimals stay Decimal). Other
// columns keep the warehouse's type.
func ResultType(col query.Column, got string) string {
	if col.Type != "number" || (got != TypeInteger && got != TypeNumber && got != TypeDecimal) {
		return got
	}
	if col.Counts() {
		return TypeInteger
	}
	return TypeNumber
}

// planTyped retypes rows by the plan's columns, when they match.
func planTyped(rows Rows, planned []query.Column) Rows {
	got := rows.Columns()
	if len(got) != len(planned) {
		return rows
	}
	cols := make([]Column, len(got))
	var ints []int // columns whose values may need converting to int64
	for i, c := range got {
		cols[i] = Column{Name: c.Name, Type: ResultType(planned[i], c.Type)}
		if cols[i].Type == TypeInteger && c.Type != TypeInteger {
			ints = append(ints, i)
		}
	}
	return &typedRows{Rows: rows, cols: cols, ints: ints}
}

type typedRows struct {
	Rows
	cols []Column
	ints []int
}

func (r *typedRows) Columns() []Column { return r.cols }

func (r *typedRows) Values() []any {
	vals := r.Rows.Values()
	for _, i := range r.ints {
		vals[i] = wholeNumber(vals[i])
	}
	return vals
}

// wholeNumber writes a count that a warehouse gave as a decimal (Snowflake's
// NUMBER(18,0)) as an int64; a value out of int64's range stays Decimal.
func wholeNumber(v any) any {
	switch v := v.(type) {
	case Decimal:
		if n, err := strconv.ParseInt(strings.TrimSuffix(string(v), ".0"), 10, 64); err == nil {
			return n
		}
	case float64:
		if n := int64(v); math.Abs(v) < 1<<63 && float64(n) == v {
			return n
		}
	}
	return v
}
