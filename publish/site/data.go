package site

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/bic-dev/bic/compiler"
)

// result is a chart's data blob as runner/result writes it.
type result struct {
	Columns []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"columns"`
	Rows [][]any `json:"rows"`
}

func parseResult(b []byte) (*result, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var r result
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("read the chart's data: %w", err)
	}
	return &r, nil
}

// column returns the index of the column called name, or -1.
func (r *result) column(name string) int {
	for i, c := range r.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// value is row[i], or nil when either is out of range.
func (r *result) value(row, i int) any {
	if row < 0 || row >= len(r.Rows) || i < 0 || i >= len(r.Rows[row]) {
		return nil
	}
	return r.Rows[row][i]
}

type bigView struct {
	Value    string
	Compare  bool
	Previous string
	Arrow    string
	Change   string
	Class    string // up, down or flat
	Versus   string
}

// bigNumberOf reads a big number's value from the last row of its data
// (a compared big number has one row: the latest period) and, with
// compare, the change from its NAME_previous column.
func bigNumberOf(c compiler.Chart, ds compiler.Dataset, r *result) *bigView {
	name := c.Metrics[0]
	f := formatOf(ds.Metrics[name])
	last := len(r.Rows) - 1
	v := r.value(last, r.column(name))
	bv := &bigView{Value: f.format(v)}
	if c.Compare == "" {
		return bv
	}
	bv.Compare = true
	bv.Versus = versus(c.Compare, c.Grain)
	prev := r.value(last, r.column(name+"_previous"))
	bv.Previous = f.format(prev)
	bv.Arrow, bv.Change, bv.Class = change(v, prev)
	return bv
}

// change is the arrow, the percent change and its class from prev to cur.
func change(cur, prev any) (arrow, pct, class string) {
	x, okx := toNumber(cur)
	p, okp := toNumber(prev)
	switch {
	case !okx || !okp:
		return "", "no earlier data", "flat"
	case p == 0 && x == 0:
		return "→", "0%", "flat"
	case p == 0:
		return "▲", "new", "up"
	}
	ch := (x - p) / math.Abs(p) * 100
	s := strconv.FormatFloat(math.Abs(ch), 'f', 1, 64) + "%"
	switch {
	case s == "0.0%":
		return "→", "0%", "flat"
	case ch > 0:
		return "▲", "+" + s, "up"
	}
	return "▼", "-" + s, "down"
}

func versus(compare, grain string) string {
	if grain == "" {
		grain = "day"
	}
	if compare == "previous_year" {
		return "vs the same " + grain + " a year earlier"
	}
	return "vs the " + grain + " before"
}

type tableView struct {
	Columns  []tableColumn
	Rows     [][]tableCell
	PageSize int
	Total    int
}

type tableColumn struct {
	Name, Label string
	Numeric     bool
}

type tableCell struct {
	Text    string
	Numeric bool
}

// defaultPageSize is a table's rows per page without options.page_size.
const defaultPageSize = 25

// tableOf renders a table's first page; bic.js sorts and pages it.
func tableOf(c compiler.Chart, ds compiler.Dataset, r *result) *tableView {
	tv := &tableView{PageSize: defaultPageSize, Total: len(r.Rows)}
	if n, ok := optNumber(c.Options, "page_size"); ok && n >= 1 {
		tv.PageSize = int(n)
	}
	formats := make([]*numberFormat, len(r.Columns))
	for i, col := range r.Columns {
		tc := tableColumn{Name: col.Name, Label: col.Name}
		if m, ok := ds.Metrics[col.Name]; ok {
			f := formatOf(m)
			formats[i] = &f
			tc.Label = metricLabel(ds, col.Name)
			tc.Numeric = true
		} else {
			tc.Label = dimensionLabel(ds, col.Name)
			tc.Numeric = col.Type == "number" || col.Type == "integer"
		}
		tv.Columns = append(tv.Columns, tc)
	}
	for i, row := range r.Rows {
		if i >= tv.PageSize {
			break
		}
		cells := make([]tableCell, len(r.Columns))
		for j := range r.Columns {
			var v any
			if j < len(row) {
				v = row[j]
			}
			if formats[j] != nil {
				cells[j] = tableCell{Text: formats[j].format(v), Numeric: true}
				continue
			}
			grain := ""
			if r.Columns[j].Name == c.X {
				grain = c.Grain
			}
			cells[j] = tableCell{Text: formatCell(v, ds.Dimensions[r.Columns[j].Name].Type, grain), Numeric: tv.Columns[j].Numeric}
		}
		tv.Rows = append(tv.Rows, cells)
	}
	return tv
}
