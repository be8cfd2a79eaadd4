package runner

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/compiler/query"
	"github.com/bic-dev/bic/runner/result"
	"github.com/bic-dev/bic/runner/warehouse"
)

// Opener connects to a project's warehouse connection. The runner defines
// it and the binary supplies it (cmd/bic wires the connectors and the
// environment that secrets come from), so this package never links a
// driver or reads the environment. loc is the project's time zone, in
// which results write their times.
type Opener interface {
	Open(ctx context.Context, c compiler.Connection, loc *time.Location) (warehouse.Conn, error)
}

// Encoder consumes a chart's rows once, as they stream from the warehouse:
// result.WriteJSON, result.WriteCSV, both at once (see ChartData), or a
// table for a terminal.
type Encoder func(rows result.Rows) error

// RunChart executes a planned chart query: it opens the query's connection
// of m through open, runs the SQL with its bound parameters and hands the
// typed rows to encode, then closes the rows and the connection. Every
// error names the chart (or the connection it could not open); ctx
// cancels the query.
func RunChart(ctx context.Context, open Opener, m *compiler.Manifest, q *query.Query, encode Encoder) error {
	spec, ok := m.Connection(q.Connection)
	if !ok {
		return fmt.Errorf("%s: no connection %q", q.Chart, q.Connection)
	}
	loc, err := m.Location()
	if err != nil {
		return err
	}
	conn, err := open.Open(ctx, spec.Spec, loc)
	if err != nil {
		return err
	}
	defer conn.Close()
	rows, err := warehouse.Run(ctx, conn, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := encode(rows); err != nil {
		return fmt.Errorf("%s: %w", q.Chart, err)
	}
	return nil
}

// ChartData is a chart_data job's execution: it runs q once and writes the
// chart's JSON document to jsonW and its CSV to csvW from the same pass
// over the rows (result.WriteJSONAndCSV). It returns the number of rows.
func ChartData(ctx context.Context, open Opener, m *compiler.Manifest, q *query.Query, jsonW, csvW io.Writer) (int, error) {
	var n int
	err := RunChart(ctx, open, m, q, func(rows result.Rows) error {
		var err error
		n, err = result.WriteJSONAndCSV(rows, jsonW, csvW)
		return err
	})
	return n, err
}
