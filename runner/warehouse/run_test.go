package warehouse

import (
	"context"
	"testing"

	"github.com/bic-dev/bic/compiler/query"
	"github.com/google/go-cmp/cmp"
)

// fakeConn answers every query with one row of its columns and values.
type fakeConn struct {
	cols []Column
	vals []any
}

func (c fakeConn) Query(context.Context, string, []any) (Rows, error) {
	return &fakeRows{cols: c.cols, vals: c.vals}, nil
}
func (fakeConn) Close() error { return nil }

type fakeRows struct {
	cols []Column
	vals []any
	done bool
}

func (r *fakeRows) Columns() []Column { return r.cols }
func (r *fakeRows) Next() bool        { ok := !r.done; r.done = true; return ok }
func (r *fakeRows) Values() []any     { return r.vals }
func (r *fakeRows) Err() error        { return nil }
func (r *fakeRows) Close() error      { return nil }

// Run types number columns by the plan, so the same chart has the same
// column types on every warehouse: a count is an integer (Snowflake's
// NUMBER count included), every other number a number, whatever integer,
// float or decimal type the warehouse gave it.
func TestRunTypesNumbersByThePlan(t *testing.T) {
	q := &query.Query{
		Chart: "d/c", Dialect: "postgres", Source: query.Source{Table: "t"},
		Columns: []query.Column{
			{Name: "weekday", Expr: "extract(dow from at)", Role: "dimension", Type: "number"},
			{Name: "country", Expr: "country", Role: "dimension", Type: "string"},
			{Name: "orders", Expr: "count(*)", Role: "metric", Type: "number"},
			{Name: "buyers", Expr: "COUNT (DISTINCT customer_id)", Role: "metric", Type: "number"},
			{Name: "units", Expr: "sum(quantity)", Role: "metric", Type: "number"},
			{Name: "share", Expr: "count(*) / 2.0", Role: "metric", Type: "number"},
			{Name: "revenue", Expr: "sum(amount)", Role: "metric", Type: "number"},
		},
		Grouped: 2,
	}
	conn := fakeConn{
		cols: []Column{{"weekday", TypeDecimal}, {"country", TypeString}, {"orders", TypeDecimal}, {"buyers", TypeInteger}, {"units", TypeInteger}, {"share", TypeNumber}, {"revenue", TypeDecimal}},
		vals: []any{Decimal("3"), "DE", Decimal("42"), int64(7), int64(9), 21.0, Decimal("104995.44")},
	}
	rows, err := Run(context.Background(), conn, q)
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []Column{{"weekday", TypeNumber}, {"country", TypeString}, {"orders", TypeInteger}, {"buyers", TypeInteger}, {"units", TypeNumber}, {"share", TypeNumber}, {"revenue", TypeNumber}}
	if diff := cmp.Diff(wantCols, rows.Columns()); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	rows.Next()
	wantVals := []any{Decimal("3"), "DE", int64(42), int64(7), int64(9), 21.0, Decimal("104995.44")}
	if diff := cmp.Diff(wantVals, rows.Values()); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}
