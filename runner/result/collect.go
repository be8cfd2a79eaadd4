package result

import "github.com/bic-dev/bic/runner/warehouse"

// Result is a query result held in memory, column by column.
type Result struct {
	Columns []warehouse.Column
	Values  [][]any // Values[c][r] is column c of row r
	Rows    int
}

// Collect reads every row of rows into a Result, up to limit rows (0: no limit).
func Collect(rows Rows, limit int) (*Result, error) {
	cols := rows.Columns()
	r := &Result{Columns: cols, Values: make([][]any, len(cols))}
	for rows.Next() {
		if limit > 0 && r.Rows >= limit {
			break
		}
		for i, v := range rows.Values() {
			r.Values[i] = append(r.Values[i], v)
		}
		r.Rows++
	}
	return r, rows.Err()
}

// Row returns row i as a slice.
func (r *Result) Row(i int) []any {
	out := make([]any, len(r.Columns))
	for c := range r.Columns {
		out[c] = r.Values[c][i]
	}
	return out
}

// Iter streams the result again as Rows, for the encoders.
func (r *Result) Iter() Rows { return &resultRows{r: r, i: -1, row: make([]any, len(r.Columns))} }

type resultRows struct {
	r   *Result
	i   int
	row []any
}

func (it *resultRows) Columns() []warehouse.Column { return it.r.Columns }
func (it *resultRows) Err() error                  { return nil }
func (it *resultRows) Values() []any               { return it.row }

func (it *resultRows) Next() bool {
	it.i++
	if it.i >= it.r.Rows {
		return false
	}
	for c := range it.r.Columns {
		it.row[c] = it.r.Values[c][it.i]
	}
	return true
}
