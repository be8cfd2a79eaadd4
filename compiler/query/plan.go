package query

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/compiler/query/filterstate"
	"github.com/bic-dev/bic/compiler/query/timewindow"
)

// FilterState holds the values chosen for a dashboard's filters, by filter
// name: a scalar for select, a list for multi_select, a range string or
// {from, to} for date_range, and {min, max} for number_range. A filter left
// out takes its default.
type FilterState map[string]any

// Query is a chart (or alert) as a dialect-neutral query: what to select
// from which source, which predicates, grouping, order and limit.
type Query struct {
	Chart      string // DASHBOARD/CHART, or alert/NAME
	Connection string
	Dialect    string
	Source     Source
	Columns    []Column
	Where      []Predicate
	Grouped    int // the first Grouped columns are the GROUP BY
	// Distinct selects every distinct row once (a filter's values).
	Distinct bool
	OrderBy  []Order
	Limit    int
	// Compare, for a big number, joins each period with an earlier one.
	Compare *Comparison
	// Windows, for an alert, evaluates the metric over each window in turn.
	Windows []NamedWindow
	// TimeZone is the zone that wall-clock times are in.
	TimeZone string
}

// Source is what the query reads: a table, or a dataset's SQL with its
// ${ref:…} datasets inlined.
type Source struct {
	Table string
	SQL   string
}

// Column is one selected expression.
type Column struct {
	Name  string // the result column's name
	Expr  string // SQL over the source's columns, from the dataset
	Role  string // "dimension" or "metric"
	Type  string // time, string, number or boolean
	Grain string // time dimensions: truncated to this grain
}

// Predicate restricts rows. Values are bound as parameters, never spliced
// into SQL text.
type Predicate struct {
	Expr   string
	Type   string // the dimension's type; time values bind as wall-clock timestamps
	Op     string // = != > >= < <= in not_in is_null not_null
	Values []any
}

// Order sorts by a column, by its 1-based position.
type Order struct {
	Column int
	Desc   bool
}

// Comparison sets a big number's latest period beside the period N units
// earlier: one grain (previous_period), or a year (previous_year). It
// compares like for like: the latest period counts up to the end of the
// last CutUnit (day, hour or minute) that has data, and the earlier
// period up to the same point shifted back, so a month cut after the 15th
// is compared with the 1st to the 15th of the earlier month.
type Comparison struct {
	Grain string
	Unit  string // the unit of the shift: the grain, year, or week for weeks a year back
	N     int
	// Since, when set, is the earliest period the current value may be.
	Since time.Time
	// Until, when set, is the end of the chart's window: the current
	// period has no rows from then on, and ends there at the latest.
	Until time.Time
}

// CutUnit is the unit to which the end of a partial period is rounded up:
// the minute for hours, the hour for days, else the day.
func (c *Comparison) CutUnit() string {
	switch c.Grain {
	case "hour":
		return "minute"
	case "day":
		return "hour"
	}
	return "day"
}

// ResultColumns are the columns of the query's result, in order: a
// comparison adds NAME_previous after each metric, an alert's windows a
// leading string column "window".
func (q *Query) ResultColumns() []Column {
	switch {
	case q.Compare != nil:
		out := []Column{q.Columns[0]}
		for _, c := range q.Columns[1:] {
			prev := c
			prev.Name += "_previous"
			out = append(out, c, prev)
		}
		return out
	case len(q.Windows) > 0:
		return append([]Column{{Name: "window", Role: "dimension", Type: "string"}}, q.Columns[1:]...)
	}
	return q.Columns
}

// Counts reports whether the column is a metric that counts, count(…) and
// nothing around it: a whole number on every warehouse, where other
// metrics come out as integers on one and decimals on another.
func (c Column) Counts() bool {
	if c.Role != "metric" {
		return false
	}
	e := strings.ToLower(strings.TrimSpace(c.Expr))
	rest, ok := strings.CutPrefix(e, "count")
	if !ok {
		return false
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "(") {
		return false
	}
	// The parenthesis opened after count must close at the very end.
	depth, quote := 0, byte(0)
	for i := 0; i < len(rest); i++ {
		switch ch := rest[i]; {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '(':
			depth++
		case ch == ')':
			depth--
			if depth == 0 {
				return i == len(rest)-1
			}
		}
	}
	return false
}

// NamedWindow is an alert's evaluation window.
type NamedWindow struct {
	Name   string // current or previous
	Window timewindow.Window
}

// PlanChart plans a chart of the manifest for a filter state, as of a
// time: relative time ranges are resolved against asOf, each rounded to
// its grain (last_24_hours to the hour, last_7_days to the day), so every
// asOf within the same hour or day gives the same SQL and arguments. The
// state is normalised first: a filter left out takes its default, and a
// name the dashboard has no filter for is refused.
func PlanChart(m *compiler.Manifest, ref string, state FilterState, asOf time.Time) (*Query, error) {
	co, ok := m.Chart(ref)
	if !ok {
		return nil, fmt.Errorf("no chart %q: expected DASHBOARD/CHART%s", ref, compiler.DidYouMean(ref, chartRefs(m)))
	}
	dash, _ := m.Dashboard(co.Dashboard)
	normal, err := m.NormalizeState(co.Dashboard, state)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", ref, err)
	}
	c := co.Spec
	ds, _ := m.Dataset(c.Dataset)
	loc, err := m.Location()
	if err != nil {
		return nil, err
	}
	q, err := baseQuery(m, ref, ds.Spec)
	if err != nil {
		return nil, err
	}
	dims := ds.Spec.Dimensions
	if c.X != "" {
		d := dims[c.X]
		col := Column{Name: c.X, Expr: d.Expr, Role: "dimension", Type: d.Type}
		if d.Type == "time" {
			col.Grain = c.Grain
		}
		q.Columns = append(q.Columns, col)
	}
	for _, name := range c.Dimensions {
		d := dims[name]
		q.Columns = append(q.Columns, Column{Name: name, Expr: d.Expr, Role: "dimension", Type: d.Type})
	}
	q.Grouped = len(q.Columns)
	for _, name := range c.Metrics {
		q.Columns = append(q.Columns, Column{Name: name, Expr: ds.Spec.Metrics[name].Expr, Role: "metric", Type: "number"})
	}
	for _, w := range c.Where {
		p, err := conditionPredicate(ds.Spec, w)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", ref, err)
		}
		q.Where = append(q.Where, p)
	}
	// The chart's time window: its own time_range, replaced by a date
	// filter's value when that value bounds anything ("all" leaves the
	// chart's own range in force).
	var window timewindow.Window
	if c.TimeRange != "" && c.TimeDimension != "" {
		if window, err = timewindow.Resolve(c.TimeRange, asOf, loc); err != nil {
			return nil, fmt.Errorf("chart %s: %w", ref, err)
		}
	}
	for _, f := range dash.Spec.Filters {
		if !slices.Contains(f.Charts, c.Name) {
			continue
		}
		v := normal[f.Name]
		if v == nil {
			continue
		}
		expr, typ := dims[f.Dimension].Expr, dims[f.Dimension].Type
		if f.Type == "date_range" {
			w, err := filterWindow(v, asOf, loc)
			if err != nil {
				return nil, fmt.Errorf("filter %s: %w", f.Name, err)
			}
			switch {
			case w.From.IsZero() && w.To.IsZero():
			case c.TimeDimension != "":
				window = w
			default:
				q.Where = append(q.Where, windowPredicates(expr, w)...)
			}
			continue
		}
		preds, err := filterPredicates(f, expr, typ, v)
		if err != nil {
			return nil, fmt.Errorf("filter %s: %w", f.Name, err)
		}
		q.Where = append(q.Where, preds...)
	}
	timeExpr := ""
	if c.TimeDimension != "" {
		timeExpr = dims[c.TimeDimension].Expr
	}
	if c.Compare != "" {
		cmp := &Comparison{Grain: c.Grain, Unit: c.Grain, N: 1, Until: window.To}
		if c.Compare == "previous_year" {
			cmp.Unit = "year"
			if c.Grain == "week" {
				// A week a year back starts on a Monday only 52 weeks back.
				cmp.Unit, cmp.N = "week", 52
			}
		}
		if !window.From.IsZero() {
			// The current period is the latest that starts inside the
			// window; the earlier one is read although it lies before it.
			cmp.Since = timewindow.Truncate(window.From, c.Grain)
		}
		q.Compare = cmp
		q.OrderBy = []Order{{Column: 1, Desc: true}}
		q.Limit = 1
		return q, nil
	}
	q.Where = append(q.Where, windowPredicates(timeExpr, window)...)
	q.OrderBy = chartOrder(c, q.Columns)
	q.Limit = c.Limit
	return q, nil
}

// chartOrder is the chart's sort, or by default: a time x ascending, else
// the first metric descending; then every grouped column, so results are
// the same on every warehouse even with ties.
func chartOrder(c compiler.Chart, cols []Column) []Order {
	pos := map[string]int{}
	for i, col := range cols {
		pos[col.Name] = i + 1
	}
	var out []Order
	used := map[int]bool{}
	add := func(p int, desc bool) {
		if p > 0 && !used[p] {
			used[p] = true
			out = append(out, Order{Column: p, Desc: desc})
		}
	}
	for _, s := range c.Sort {
		name := strings.TrimPrefix(s, "-")
		add(pos[name], strings.HasPrefix(s, "-"))
	}
	if len(c.Sort) == 0 {
		if c.X != "" && c.Grain != "" {
			add(pos[c.X], false)
		} else if len(c.Metrics) > 0 && c.X+strings.Join(c.Dimensions, "") != "" {
			add(pos[c.Metrics[0]], true)
		}
	}
	for i, col := range cols {
		if col.Role == "dimension" {
			add(i+1, false)
		}
	}
	return out
}

// PlanAlert plans an alert's metric over the last complete period before
// now and the one before it.
func PlanAlert(m *compiler.Manifest, name string, now time.Time) (*Query, error) {
	o, ok := m.Alert(name)
	if !ok {
		return nil, fmt.Errorf("no alert %q", name)
	}
	a := &o.Spec
	ds, _ := m.Dataset(a.Dataset)
	loc, err := timewindow.Location(a.Timezone)
	if err != nil {
		return nil, fmt.Errorf("alert %s: %w", name, err)
	}
	q, err := baseQuery(m, string(compiler.AlertID(name)), ds.Spec)
	if err != nil {
		return nil, err
	}
	q.Columns = []Column{{Name: a.Metric, Expr: ds.Spec.Metrics[a.Metric].Expr, Role: "metric", Type: "number"}}
	for _, w := range a.Where {
		p, err := conditionPredicate(ds.Spec, w)
		if err != nil {
			return nil, fmt.Errorf("alert %s: %w", name, err)
		}
		q.Where = append(q.Where, p)
	}
	// Periods follow the alert's time zone; the data's wall-clock times
	// are in the project's, so the bounds are moved there.
	projectLoc, err := m.Location()
	if err != nil {
		return nil, err
	}
	end := timewindow.Truncate(now.In(loc), a.Period)
	inProject := func(t time.Time) time.Time { return t.In(projectLoc) }
	q.Windows = []NamedWindow{
		{Name: "current", Window: timewindow.Window{From: inProject(timewindow.Shift(end, a.Period, -1)), To: inProject(end)}},
		{Name: "previous", Window: timewindow.Window{From: inProject(timewindow.Shift(end, a.Period, -2)), To: inProject(timewindow.Shift(end, a.Period, -1))}},
	}
	td := ds.Spec.Dimensions[a.TimeDimension]
	q.Columns = append([]Column{{Name: a.TimeDimension, Expr: td.Expr, Role: "dimension", Type: "time"}}, q.Columns...)
	return q, nil
}

func baseQuery(m *compiler.Manifest, ref string, ds compiler.Dataset) (*Query, error) {
	conn, ok := m.Connection(ds.Connection)
	if !ok {
		return nil, fmt.Errorf("dataset %s: no connection %q", ds.Name, ds.Connection)
	}
	src, err := source(m, ds, 0)
	if err != nil {
		return nil, err
	}
	return &Query{Chart: ref, Connection: conn.Spec.Name, Dialect: conn.Spec.Type, Source: src, TimeZone: m.Project.Defaults.Timezone}, nil
}

// source inlines ${ref:NAME} with the referenced dataset's own source.
func source(m *compiler.Manifest, ds compiler.Dataset, depth int) (Source, error) {
	if ds.Table != "" {
		return Source{Table: ds.Table}, nil
	}
	if depth > 20 {
		return Source{}, fmt.Errorf("dataset %s: ${ref:…} nested too deep", ds.Name)
	}
	var err error
	sql := compiler.ReplaceRefs(ds.SQL, func(name string) string {
		target, ok := m.Dataset(name)
		if !ok {
			err = fmt.Errorf("dataset %s: ${ref:%s} names no dataset", ds.Name, name)
			return "${ref:" + name + "}"
		}
		s, e := source(m, target.Spec, depth+1)
		if e != nil {
			err = e
			return "${ref:" + name + "}"
		}
		if s.Table != "" {
			return s.Table
		}
		return "(" + strings.TrimSpace(s.SQL) + ") AS " + name
	})
	return Source{SQL: strings.TrimRight(strings.TrimSpace(sql), ";")}, err
}

func conditionPredicate(ds compiler.Dataset, c compiler.Condition) (Predicate, error) {
	d, ok := ds.Dimensions[c.Dimension]
	if !ok {
		return Predicate{}, fmt.Errorf("no dimension %q", c.Dimension)
	}
	p := Predicate{Expr: d.Expr, Type: d.Type, Op: c.Op}
	switch v := c.Value.(type) {
	case nil:
	case []any:
		// A copy: the values are coerced in place below, and the
		// condition's list belongs to the manifest, which every plan of
		// it shares.
		p.Values = slices.Clone(v)
	default:
		p.Values = []any{v}
	}
	for i, v := range p.Values {
		cv, err := filterstate.Coerce(d.Type, v)
		if err != nil {
			return Predicate{}, fmt.Errorf("where %s: %w", c.Dimension, err)
		}
		p.Values[i] = cv
	}
	return p, nil
}

// filterPredicates turns a filter's value into predicates on expr.
func filterPredicates(f compiler.Filter, expr, typ string, v any) ([]Predicate, error) {
	switch f.Type {
	case "select":
		if list, ok := v.([]any); ok {
			if len(list) != 1 {
				return nil, fmt.Errorf("a select filter takes one value, found %d", len(list))
			}
			v = list[0]
		}
		cv, err := filterstate.Coerce(typ, v)
		if err != nil {
			return nil, err
		}
		return []Predicate{{Expr: expr, Type: typ, Op: "=", Values: []any{cv}}}, nil
	case "multi_select":
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		if len(list) == 0 {
			return nil, nil // nothing chosen: no restriction
		}
		vals := make([]any, len(list))
		for i, it := range list {
			cv, err := filterstate.Coerce(typ, it)
			if err != nil {
				return nil, err
			}
			vals[i] = cv
		}
		return []Predicate{{Expr: expr, Type: typ, Op: "in", Values: vals}}, nil
	case "number_range":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("a number_range value is {min, max}, found %v", v)
		}
		var out []Predicate
		for _, bound := range []struct{ key, op string }{{"min", ">="}, {"max", "<="}} {
			if b, ok := m[bound.key]; ok && b != nil {
				cv, err := filterstate.Coerce("number", b)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", bound.key, err)
				}
				out = append(out, Predicate{Expr: expr, Type: "number", Op: bound.op, Values: []any{cv}})
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown filter type %q", f.Type)
}

// filterWindow reads a date_range filter's value: a named range or span,
// or {from, to} dates (to included) or times.
func filterWindow(v any, now time.Time, loc *time.Location) (timewindow.Window, error) {
	switch v := v.(type) {
	case string:
		return timewindow.Resolve(v, now, loc)
	case map[string]any:
		var w timewindow.Window
		for key, dst := range map[string]*time.Time{"from": &w.From, "to": &w.To} {
			s, ok := v[key].(string)
			if !ok {
				continue
			}
			t, dateOnly, err := timewindow.ParseWallClock(s, loc)
			if err != nil {
				return timewindow.Window{}, fmt.Errorf("%s: expected a date such as 2024-01-31, found %q", key, s)
			}
			if key == "to" && dateOnly {
				t = t.AddDate(0, 0, 1) // the whole end day
			}
			*dst = t
		}
		return w.WithinBounds()
	}
	return timewindow.Window{}, fmt.Errorf("a date_range value is a range such as last_30_days or {from, to}, found %v", v)
}

func windowPredicates(expr string, w timewindow.Window) []Predicate {
	var out []Predicate
	if !w.From.IsZero() {
		out = append(out, Predicate{Expr: expr, Type: "time", Op: ">=", Values: []any{timewindow.WallClock(w.From)}})
	}
	if !w.To.IsZero() {
		out = append(out, Predicate{Expr: expr, Type: "time", Op: "<", Values: []any{timewindow.WallClock(w.To)}})
	}
	return out
}

func chartRefs(m *compiler.Manifest) []string {
	out := make([]string, len(m.Charts))
	for i, c := range m.Charts {
		out[i] = compiler.ChartID(c.Dashboard, c.Spec.Name).Name()
	}
	return out
}

// MaxFilterValues bounds the values PlanFilterValues lists: a page offers
// them in a searchable list; a dimension with more is typed in.
const MaxFilterValues = 1000

// PlanFilterValues plans the distinct values of a select or multi_select
// filter's dimension, in order, for a dashboard page to offer when the
// filter declares no values of its own: like chart data, they are
// computed through the cache when the revision is published.
func PlanFilterValues(m *compiler.Manifest, dashboard, filter string) (*Query, error) {
	d, ok := m.Dashboard(dashboard)
	if !ok {
		return nil, fmt.Errorf("no dashboard %q", dashboard)
	}
	var f *compiler.Filter
	for i := range d.Spec.Filters {
		if d.Spec.Filters[i].Name == filter {
			f = &d.Spec.Filters[i]
		}
	}
	if f == nil {
		return nil, fmt.Errorf("dashboard %s has no filter %q", dashboard, filter)
	}
	ds, ok := m.Dataset(f.Dataset)
	if !ok {
		return nil, fmt.Errorf("filter %s: no dataset %q", filter, f.Dataset)
	}
	dim, ok := ds.Spec.Dimensions[f.Dimension]
	if !ok {
		return nil, fmt.Errorf("filter %s: dataset %s has no dimension %q", filter, f.Dataset, f.Dimension)
	}
	q, err := baseQuery(m, dashboard+"/filter:"+filter, ds.Spec)
	if err != nil {
		return nil, err
	}
	q.Columns = []Column{{Name: f.Dimension, Expr: dim.Expr, Role: "dimension", Type: dim.Type}}
	q.Distinct = true
	q.Where = []Predicate{{Expr: dim.Expr, Type: dim.Type, Op: "not_null"}}
	q.OrderBy = []Order{{Column: 1}}
	q.Limit = MaxFilterValues + 1 // one more says there are more
	return q, nil
}
