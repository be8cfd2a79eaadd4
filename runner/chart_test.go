package runner_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/compiler/query"
	"github.com/bic-dev/bic/runner"
	"github.com/bic-dev/bic/runner/result"
	"github.com/bic-dev/bic/runner/warehouse"
)

var project = fstest.MapFS{
	"bic.yaml": {Data: []byte(`name: shop
connections:
  wh: {type: duckdb, files: {orders: orders.csv}}
defaults: {connection: wh, timezone: Europe/Berlin}
`)},
	"datasets/orders.yaml": {Data: []byte(`dataset: orders
table: orders
dimensions:
  country: {type: string}
metrics:
  orders: {expr: count(*)}
`)},
	"orders.csv": {Data: []byte("country\nDE\n")},
	"dashboards/sales.yaml": {Data: []byte(`dashboard: sales
title: Sales
charts:
  - {name: by_country, type: bar, dataset: orders, metrics: [orders], x: country}
`)},
}

func plan(t *testing.T) (*compiler.Manifest, *query.Query) {
	t.Helper()
	s, err := compiler.NewSchema()
	if err != nil {
		t.Fatal(err)
	}
	res, _ := compiler.New(s).Compile(context.Background(), project)
	if res.Manifest == nil {
		t.Fatalf("project does not compile: %v", res.Diagnostics)
	}
	q, err := query.PlanChart(res.Manifest, "sales/by_country", query.FilterState{}, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return res.Manifest, q
}

// fakeWarehouse is an Opener whose connection answers every query with
// the same rows and records what it was asked.
type fakeWarehouse struct {
	openErr                error
	opened                 compiler.Connection
	loc                    *time.Location
	sql                    string
	nexts                  int
	connClosed, rowsClosed bool
	rowErr                 error
}

func (f *fakeWarehouse) Open(_ context.Context, c compiler.Connection, loc *time.Location) (warehouse.Conn, error) {
	if f.openErr != nil {
		return nil, f.openErr
	}
	f.opened, f.loc = c, loc
	return fakeConn{f}, nil
}

type fakeConn struct{ f *fakeWarehouse }

func (c fakeConn) Query(_ context.Context, sql string, _ []any) (warehouse.Rows, error) {
	c.f.sql = sql
	return &fakeRows{f: c.f, vals: [][]any{{"=cmd()", int64(-3)}, {"DE", int64(2)}}, i: -1}, nil
}
func (c fakeConn) Close() error { c.f.connClosed = true; return nil }

type fakeRows struct {
	f    *fakeWarehouse
	vals [][]any
	i    int
}

func (r *fakeRows) Columns() []warehouse.Column {
	return []warehouse.Column{{Name: "country", Type: "string"}, {Name: "orders", Type: "integer"}}
}
func (r *fakeRows) Next() bool    { r.f.nexts++; r.i++; return r.i < len(r.vals) }
func (r *fakeRows) Values() []any { return r.vals[r.i] }
func (r *fakeRows) Err() error    { return r.f.rowErr }
func (r *fakeRows) Close() error  { r.f.rowsClosed = true; return nil }

// TestChartData: one query, one pass over its rows, and both the JSON and
// the CSV of the chart; the connection is the chart's, in the project's
// time zone, and everything is closed.
func TestChartData(t *testing.T) {
	m, q := plan(t)
	f := &fakeWarehouse{}
	var js, cs bytes.Buffer
	n, err := runner.ChartData(context.Background(), f, m, q, &js, &cs)
	if err != nil || n != 2 {
		t.Fatalf("ChartData = %d, %v", n, err)
	}
	if f.opened.Name != "wh" || f.opened.Type != "duckdb" || f.loc.String() != "Europe/Berlin" {
		t.Errorf("opened %+v in %v", f.opened, f.loc)
	}
	if !strings.Contains(f.sql, "orders") {
		t.Errorf("ran %q", f.sql)
	}
	if f.nexts != 3 {
		t.Errorf("Next called %d times: the rows were not read once", f.nexts)
	}
	if !f.connClosed || !f.rowsClosed {
		t.Errorf("closed: connection %v, rows %v", f.connClosed, f.rowsClosed)
	}
	if want := `{"columns":[{"name":"country","type":"string"},{"name":"orders","type":"integer"}],"rows":[["=cmd()",-3],["DE",2]]}` + "\n"; js.String() != want {
		t.Errorf("JSON = %s, want %s", js.String(), want)
	}
	if want := "country,orders\r\n'=cmd(),-3\r\nDE,2\r\n"; cs.String() != want {
		t.Errorf("CSV = %q, want %q", cs.String(), want)
	}
}

// TestRunChartErrors: a connection that does not open, rows that fail and
// an encoder that fails are errors, the last two naming the chart.
func TestRunChartErrors(t *testing.T) {
	m, q := plan(t)
	ctx := context.Background()
	refused := errors.New("connection refused")
	if err := runner.RunChart(ctx, &fakeWarehouse{openErr: refused}, m, q, func(result.Rows) error { return nil }); !errors.Is(err, refused) {
		t.Errorf("open failure: err = %v", err)
	}
	reset := errors.New("connection reset")
	f := &fakeWarehouse{rowErr: reset}
	err := runner.RunChart(ctx, f, m, q, func(rows result.Rows) error { _, err := result.WriteJSON(&bytes.Buffer{}, rows); return err })
	if !errors.Is(err, reset) || !strings.Contains(err.Error(), "sales/by_country") {
		t.Errorf("row failure: err = %v", err)
	}
	if !f.connClosed || !f.rowsClosed {
		t.Errorf("after a failure, closed: connection %v, rows %v", f.connClosed, f.rowsClosed)
	}
	other := *q
	other.Connection = "missing"
	if err := runner.RunChart(ctx, &fakeWarehouse{}, m, &other, func(result.Rows) error { return nil }); err == nil || !strings.Contains(err.Error(), `no connection "missing"`) {
		t.Errorf("unknown connection: err = %v", err)
	}
}
