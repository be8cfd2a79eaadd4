package query

import (
	"fmt"
	"github.com/bic-dev/bic/compiler/query/dialect"
	"github.com/bic-dev/bic/compiler/query/timewindow"
	"strconv"
	"strings"
)

// SQL is a statement with its bound parameters, in the dialect's
// placeholder style.
type SQL struct {
	Text string
	Args []any
}

// SQL writes the query in its connection's dialect.
func (q *Query) SQL() (SQL, error) {
	d, err := dialect.For(q.Dialect)
	if err != nil {
		return SQL{}, err
	}
	return q.SQLFor(d), nil
}

// SQLFor writes the query in dialect d.
func (q *Query) SQLFor(d dialect.Dialect) SQL {
	w := &sqlWriter{d: d, tz: q.TimeZone}
	if q.TimeZone == "" {
		w.tz = "UTC"
	}
	switch {
	case q.Compare != nil:
		w.compare(q)
	case len(q.Windows) > 0:
		w.windows(q)
	default:
		w.selectStmt(q, q.Columns, q.Where)
		w.orderLimit(q.OrderBy, q.Limit)
	}
	return SQL{Text: w.b.String(), Args: w.args}
}

type sqlWriter struct {
	d    dialect.Dialect
	tz   string
	b    strings.Builder
	args []any
}

func (w *sqlWriter) bind(v any) string {
	w.args = append(w.args, v)
	return w.d.Placeholder(len(w.args))
}

func (w *sqlWriter) columnExpr(c Column) string {
	if c.Type == "time" && c.Grain != "" {
		return w.d.Trunc(c.Grain, w.d.Time(c.Expr, w.tz))
	}
	if c.Type == "time" {
		return w.d.Time(c.Expr, w.tz)
	}
	return c.Expr
}

func (w *sqlWriter) from(src Source) string {
	if src.Table != "" {
		return src.Table
	}
	return "(\n" + indent(src.SQL, "  ") + "\n) AS " + w.d.Quote("source")
}

func (w *sqlWriter) selectStmt(q *Query, cols []Column, where []Predicate) {
	if q.Distinct {
		w.b.WriteString("SELECT DISTINCT\n")
	} else {
		w.b.WriteString("SELECT\n")
	}
	for i, c := range cols {
		sep := ","
		if i == len(cols)-1 {
			sep = ""
		}
		fmt.Fprintf(&w.b, "  %s AS %s%s\n", w.columnExpr(c), w.d.Quote(c.Name), sep)
	}
	fmt.Fprintf(&w.b, "FROM %s\n", w.from(q.Source))
	w.where(where)
	if q.Grouped > 0 && q.Grouped < len(cols) {
		var pos []string
		for i := 1; i <= q.Grouped; i++ {
			pos = append(pos, strconv.Itoa(i))
		}
		fmt.Fprintf(&w.b, "GROUP BY %s\n", strings.Join(pos, ", "))
	}
}

func (w *sqlWriter) where(preds []Predicate) {
	for i, p := range preds {
		kw := "  AND"
		if i == 0 {
			kw = "WHERE"
		}
		fmt.Fprintf(&w.b, "%s %s\n", kw, w.predicate(p))
	}
}

func (w *sqlWriter) predicate(p Predicate) string {
	expr := "(" + p.Expr + ")"
	param := func(v any) string {
		return w.d.Param(w.bind(v), p.Type)
	}
	if p.Type == "time" {
		expr = w.d.Time(expr, w.tz)
	}
	switch p.Op {
	case "is_null":
		return expr + " IS NULL"
	case "not_null":
		return expr + " IS NOT NULL"
	case "in", "not_in":
		phs := make([]string, len(p.Values))
		for i, v := range p.Values {
			phs[i] = param(v)
		}
		op := "IN"
		if p.Op == "not_in" {
			op = "NOT IN"
		}
		if len(phs) == 0 {
			if p.Op == "in" {
				return "1 = 0"
			}
			return "1 = 1"
		}
		return fmt.Sprintf("%s %s (%s)", expr, op, strings.Join(phs, ", "))
	case "==":
		return expr + " = " + param(p.Values[0])
	default:
		return expr + " " + p.Op + " " + param(p.Values[0])
	}
}

func (w *sqlWriter) orderLimit(order []Order, limit int) {
	if len(order) > 0 {
		parts := make([]string, len(order))
		for i, o := range order {
			// NULLs sort last everywhere: warehouses disagree by default.
			parts[i] = strconv.Itoa(o.Column) + " NULLS LAST"
			if o.Desc {
				parts[i] = strconv.Itoa(o.Column) + " DESC NULLS LAST"
			}
		}
		fmt.Fprintf(&w.b, "ORDER BY %s\n", strings.Join(parts, ", "))
	}
	if limit > 0 {
		fmt.Fprintf(&w.b, "LIMIT %d\n", limit)
	}
}

// compare writes a big number with the value of an earlier period beside
// the latest one, like for like (see Comparison). Four steps: the latest
// period and its last time; the bounds of both periods, the current one
// ending after the last CutUnit with data and the earlier one at the same
// point shifted back; both periods' metrics in one pass over the rows;
// then one row with the current and the earlier values side by side.
func (w *sqlWriter) compare(q *Query) {
	d, cmp, x := w.d, q.Compare, q.Columns[0]
	t := d.Time("("+x.Expr+")", w.tz) // as predicates compare it
	wall := d.Time(x.Expr, w.tz)
	cut := cmp.CutUnit()
	name := func(n string) string { return d.Quote("bic_" + n) }
	bound := func(n string) string { return name("bounds") + "." + name(n) }
	w.cte(name("latest"), func(s *sqlWriter) {
		s.b.WriteString("SELECT\n")
		fmt.Fprintf(&s.b, "  %s AS %s,\n  max(%s) AS %s\n", d.Trunc(cmp.Grain, wall), name("period"), wall, name("last"))
		fmt.Fprintf(&s.b, "FROM %s\n", s.from(q.Source))
		preds := append(append([]Predicate{}, q.Where...), windowPredicates(x.Expr, timewindow.Window{From: cmp.Since, To: cmp.Until})...)
		s.where(append(preds, Predicate{Expr: x.Expr, Type: "time", Op: "not_null"}))
		s.b.WriteString("GROUP BY 1\n")
		s.orderLimit(q.OrderBy, q.Limit)
	})
	w.cte(name("bounds"), func(s *sqlWriter) {
		lastCut := d.Trunc(cut, name("last"))
		end := d.Shift(lastCut, cut, -1)
		prevEnd := d.Shift(d.Shift(lastCut, cmp.Unit, cmp.N), cut, -1)
		if until := cmp.Until; !until.IsZero() && !timewindow.Truncate(until, cut).Equal(until) {
			// A window end inside the last CutUnit cuts the period there.
			// Bound once per use: Snowflake's ? markers take the values in order.
			end = "LEAST(" + end + ", " + d.Param(s.bind(timewindow.WallClock(until)), "time") + ")"
			prevEnd = "LEAST(" + prevEnd + ", " + d.Shift(d.Param(s.bind(timewindow.WallClock(until)), "time"), cmp.Unit, cmp.N) + ")"
		}
		s.b.WriteString("SELECT\n")
		fmt.Fprintf(&s.b, "  %s,\n", name("period"))
		fmt.Fprintf(&s.b, "  %s AS %s,\n", end, name("end"))
		fmt.Fprintf(&s.b, "  %s AS %s,\n", d.Shift(name("period"), cmp.Unit, cmp.N), name("previous"))
		fmt.Fprintf(&s.b, "  %s AS %s\n", prevEnd, name("previous_end"))
		fmt.Fprintf(&s.b, "FROM %s\n", name("latest"))
	})
	w.cte(name("periods"), func(s *sqlWriter) {
		s.b.WriteString("SELECT\n")
		fmt.Fprintf(&s.b, "  CASE WHEN %s >= %s THEN 'current' ELSE 'previous' END AS %s", t, bound("period"), name("side"))
		for _, c := range q.Columns[1:] {
			fmt.Fprintf(&s.b, ",\n  %s AS %s", s.columnExpr(c), d.Quote(c.Name))
		}
		fmt.Fprintf(&s.b, "\nFROM %s\nCROSS JOIN %s\n", s.from(q.Source), name("bounds"))
		in := func(from, to string) string { return fmt.Sprintf("%s >= %s AND %s < %s", t, bound(from), t, bound(to)) }
		s.where(q.Where)
		kw := "  AND"
		if len(q.Where) == 0 {
			kw = "WHERE"
		}
		fmt.Fprintf(&s.b, "%s ((%s) OR (%s))\n", kw, in("period", "end"), in("previous", "previous_end"))
		s.b.WriteString("GROUP BY 1\n")
	})
	period := d.Quote(x.Name)
	w.b.WriteString("\nSELECT\n")
	fmt.Fprintf(&w.b, "  %s AS %s", bound("period"), period)
	for _, c := range q.Columns[1:] {
		col := d.Quote(c.Name)
		fmt.Fprintf(&w.b, ",\n  %s.%s AS %s,\n  %s.%s AS %s", d.Quote("cur"), col, col, d.Quote("prev"), col, d.Quote(c.Name+"_previous"))
	}
	fmt.Fprintf(&w.b, "\nFROM %s\n", name("bounds"))
	fmt.Fprintf(&w.b, "JOIN %s AS %s ON %s.%s = 'current'\n", name("periods"), d.Quote("cur"), d.Quote("cur"), name("side"))
	fmt.Fprintf(&w.b, "LEFT JOIN %s AS %s ON %s.%s = 'previous'\n", name("periods"), d.Quote("prev"), d.Quote("prev"), name("side"))
}

// cte writes "WITH NAME AS (body)", or ",\nNAME AS (body)" after the
// first, the body indented, its parameters numbered after those already
// bound.
func (w *sqlWriter) cte(name string, body func(s *sqlWriter)) {
	s := &sqlWriter{d: w.d, tz: w.tz, args: w.args}
	body(s)
	w.args = s.args
	if w.b.Len() == 0 {
		w.b.WriteString("WITH ")
	} else {
		w.b.WriteString(",\n")
	}
	w.b.WriteString(name + " AS (\n")
	w.b.WriteString(indent(strings.TrimRight(s.b.String(), "\n"), "  "))
	w.b.WriteString("\n)")
}

// windows writes an alert's metric once per window, one row each.
func (w *sqlWriter) windows(q *Query) {
	tcol := q.Columns[0]
	for i, win := range q.Windows {
		if i > 0 {
			w.b.WriteString("UNION ALL\n")
		}
		w.b.WriteString("SELECT\n")
		// The window's name is bic's own constant, not user input.
		fmt.Fprintf(&w.b, "  '%s' AS %s,\n", win.Name, w.d.Quote("window"))
		for j, c := range q.Columns[1:] {
			sep := ","
			if j == len(q.Columns)-2 {
				sep = ""
			}
			fmt.Fprintf(&w.b, "  %s AS %s%s\n", c.Expr, w.d.Quote(c.Name), sep)
		}
		fmt.Fprintf(&w.b, "FROM %s\n", w.from(q.Source))
		preds := append(append([]Predicate{}, q.Where...), windowPredicates(tcol.Expr, win.Window)...)
		w.where(preds)
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}
