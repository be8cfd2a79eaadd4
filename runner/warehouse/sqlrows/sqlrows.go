// Package sqlrows adapts database/sql rows to warehouse.Rows, for the
// connectors whose drivers speak database/sql (DuckDB, Snowflake).
package sqlrows

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/bic-dev/bic/runner/warehouse"
)

// Normalizer converts a driver's value of column i to a warehouse value.
type Normalizer func(col warehouse.Column, dbType string, v any) any

// Rows streams database/sql rows as warehouse rows.
type Rows struct {
	rows    *sql.Rows
	cols    []warehouse.Column
	dbTypes []string
	norm    Normalizer
	scan    []any
	vals    []any
	cancel  context.CancelFunc
	err     error
}

// New wraps rows; typeOf maps a driver's database type name to a column type.
func New(rows *sql.Rows, cancel context.CancelFunc, typeOf func(dbType string) string, norm Normalizer) (*Rows, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		cancel()
		return nil, fmt.Errorf("read result columns: %w", err)
	}
	r := &Rows{rows: rows, norm: norm, cancel: cancel}
	for _, t := range types {
		r.cols = append(r.cols, warehouse.Column{Name: t.Name(), Type: typeOf(t.DatabaseTypeName())})
		r.dbTypes = append(r.dbTypes, t.DatabaseTypeName())
	}
	r.scan = make([]any, len(types))
	r.vals = make([]any, len(types))
	for i := range r.scan {
		r.scan[i] = new(any)
	}
	return r, nil
}

func (r *Rows) Columns() []warehouse.Column { return r.cols }
func (r *Rows) Values() []any               { return r.vals }

func (r *Rows) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	if err := r.rows.Scan(r.scan...); err != nil {
		r.err = err
		return false
	}
	for i, p := range r.scan {
		r.vals[i] = r.norm(r.cols[i], r.dbTypes[i], *p.(*any))
	}
	return true
}

func (r *Rows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}

func (r *Rows) Close() error {
	err := r.rows.Close()
	r.cancel()
	return err
}

// Query runs sql on db with a timeout when one is set, and wraps the rows.
func Query(ctx context.Context, db *sql.DB, timeout time.Duration, query string, args []any, typeOf func(string) string, norm Normalizer) (*Rows, error) {
	ctx, cancel := warehouse.WithTimeout(ctx, timeout)
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		cancel()
		return nil, err
	}
	return New(rows, cancel, typeOf, norm)
}
