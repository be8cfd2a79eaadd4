package compiler

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/bic-dev/bic/compiler/query/filterstate"
)

// defaultLimit is the row limit of a chart that sets none, as in Superset.
const defaultLimit = 10000

// chartRules say what each chart type needs: whether it must have an x
// axis, and how many metrics and group-by dimensions (x included) it takes.
var chartRules = map[string]struct {
	needX              bool
	minMetrics, maxMet int
	minGroups, maxGrp  int
}{
	"line":       {needX: true, minMetrics: 1, maxMet: 50, minGroups: 1, maxGrp: 2},
	"area":       {needX: true, minMetrics: 1, maxMet: 50, minGroups: 1, maxGrp: 2},
	"bar":        {minMetrics: 1, maxMet: 50, minGroups: 1, maxGrp: 2},
	"scatter":    {needX: true, minMetrics: 1, maxMet: 2, minGroups: 1, maxGrp: 2},
	"heatmap":    {needX: true, minMetrics: 1, maxMet: 1, minGroups: 2, maxGrp: 2},
	"pie":        {minMetrics: 1, maxMet: 1, minGroups: 1, maxGrp: 1},
	"funnel":     {minMetrics: 1, maxMet: 1, minGroups: 1, maxGrp: 1},
	"big_number": {minMetrics: 1, maxMet: 1, minGroups: 0, maxGrp: 1},
	"table":      {minMetrics: 1, maxMet: 100, minGroups: 0, maxGrp: 100},
}

// dashboardInput is a dashboard's tree decoded into its spec.
type dashboardInput struct {
	Dashboard
	Layout [][]any `json:"layout"`
}

func (r *resolver) resolveDashboards(objs []object) {
	// Decoding is pure and most of the work: done on every core first.
	ins := make([]dashboardInput, len(objs))
	errs := make([]error, len(objs))
	parallel(context.Background(), len(objs), func(i int) { errs[i] = decode(objs[i].tree(), &ins[i]) })
	var hashes []dashboardHashes
	for oi, o := range objs {
		n := o.tree()
		diags, refs := len(r.sink.list), r.cascade.refs
		if err := errs[oi]; err != nil {
			r.sink.errorf(n.Pos, CodeInvalid, "dashboard %q: %v", o.name, err)
			r.cascade.markFailed(KindDashboard, o.name, n.PosAt(string(KindDashboard)))
			continue
		}
		in := &ins[oi]
		d := in.Dashboard
		chartIndex := map[string]int{}
		var chartObjs []ChartObject
		deps := map[string]string{}
		var dependsOn []string
		for i := range d.Charts {
			c := &d.Charts[i]
			cn := n.At("charts", i)
			if first, dup := chartIndex[c.Name]; dup {
				r.sink.errorf(cn.PosAt("name"), CodeDuplicate, "duplicate chart name %q in dashboard %q: already used by charts[%d]", c.Name, d.Name, first)
				continue
			}
			chartIndex[c.Name] = i
			errs := r.sink.errorCount()
			ds, ok := r.checkChart(cn, c)
			id := string(ChartID(d.Name, c.Name))
			if !ok {
				if r.sink.errorCount() > errs {
					r.cascade.markFailed(kindChart, ChartID(d.Name, c.Name).Name(), cn.Pos)
				} else {
					// Its dataset has errors: references to the chart count
					// as references to the dataset.
					r.cascade.via[objKey{kindChart, ChartID(d.Name, c.Name).Name()}] = objKey{KindDataset, c.Dataset}
				}
				continue
			}
			obj := ChartObject{
				Meta:      Meta{ID: id, DependsOn: []string{ds.ID}, Source: cn.Pos},
				Dashboard: d.Name,
				Spec:      *c,
			}
			chartObjs = append(chartObjs, obj)
		}
		filterNames := map[string]bool{}
		for i := range d.Filters {
			f := &d.Filters[i]
			fn := n.At("filters", i)
			if filterNames[f.Name] {
				r.sink.errorf(fn.PosAt("name"), CodeDuplicate, "duplicate filter name %q in dashboard %q", f.Name, d.Name)
				continue
			}
			filterNames[f.Name] = true
			if ds := r.checkFilter(d.Name, fn, f, d.Charts); ds != nil {
				if _, ok := deps[ds.ID]; !ok {
					deps[ds.ID] = ds.Hash
					dependsOn = append(dependsOn, ds.ID)
				}
			}
		}
		// A chart's hash covers its dashboard's filters, checked (and their
		// scopes filled in) above, and the project's time zone. Hashes are
		// worked out once every dashboard is resolved (see hashDashboards).
		h := dashboardHashes{key: o.key, first: len(r.m.Charts), deps: deps}
		filters := hashedFilters(d.Filters)
		for i := range chartObjs {
			obj := &chartObjs[i]
			obj.Reads = []string{string(DashboardID(d.Name)), string(ProjectID(r.project.Name))}
			h.charts = append(h.charts, chartInputs{Spec: obj.Spec, Filters: filters, Project: r.project.inputs(), Precompute: d.Precompute})
			h.chartDeps = append(h.chartDeps, map[string]string{obj.DependsOn[0]: r.datasets[obj.Spec.Dataset].Hash})
			dependsOn = append(dependsOn, obj.ID)
		}
		d.Layout = r.layout(n, d.Name, in.Layout, d.Charts, chartIndex)
		r.m.Charts = append(r.m.Charts, chartObjs...)
		sort.Strings(dependsOn)
		obj := &DashboardObject{Meta: Meta{ID: string(DashboardID(d.Name)), DependsOn: dependsOn, Source: n.PosAt("dashboard")}, Spec: d}
		h.dashboard, h.obj = len(r.m.Dashboards), obj
		h.clean = len(r.sink.list) == diags && r.cascade.refs == refs && len(chartObjs) == len(d.Charts)
		// Before hashDashboards adds the charts' hashes to deps.
		h.datasets = datasetsRead(deps, h.chartDeps)
		hashes = append(hashes, h)
		r.dashboards[d.Name] = obj
		r.m.Dashboards = append(r.m.Dashboards, *obj)
	}
	r.hashDashboards(hashes)
}

// dataset looks up a referenced dataset; ok is false when it is missing
// (reported) or has errors of its own (reported there, and the reference
// counted in the note about it).
func (r *resolver) dataset(pos Pos, name, what string) (*DatasetObject, bool) {
	if ds, ok := r.datasets[name]; ok {
		return ds, true
	}
	if r.unchecked(KindDataset, name, pos) {
		return nil, false
	}
	r.sink.errorf(pos, CodeUnknownRef, "%s names unknown dataset %q%s", what, name, didYouMean(name, sortedKeys(r.datasets)))
	return nil, false
}

func (r *resolver) checkChart(n *Node, c *Chart) (*DatasetObject, bool) {
	what := fmt.Sprintf("chart %q", c.Name)
	ds, ok := r.dataset(n.PosAt("dataset"), c.Dataset, what)
	if !ok {
		return nil, false
	}
	spec := ds.Spec
	errs := r.sink.errorCount()
	// A key the schema stage reported as misspelt is what to fix: the rules
	// about the key it was meant to be are not reported as well, and what
	// it lists may be sorted by.
	typo := r.misspelt(n, chartKeys)
	var listed []string
	for _, v := range typo {
		listed = append(listed, nodeStrings(v)...)
	}
	seen := map[string]bool{}
	// Names the chart lists that its dataset does not have: a sort by one
	// of them (or by a name close to one) is the same mistake.
	var unknown []string
	for i, m := range c.Metrics {
		if _, ok := spec.Metrics[m]; !ok {
			r.sink.errorf(n.PosAt("metrics", i), CodeUnknownRef, "%s: dataset %q has no metric %q%s", what, spec.Name, m, r.hintMetric(spec, m))
			unknown = append(unknown, m)
		} else if seen[m] {
			r.sink.errorf(n.PosAt("metrics", i), CodeDuplicate, "%s: metric %q is listed twice", what, m)
		}
		seen[m] = true
	}
	for i, dim := range c.Dimensions {
		if _, ok := spec.Dimensions[dim]; !ok {
			r.sink.errorf(n.PosAt("dimensions", i), CodeUnknownRef, "%s: dataset %q has no dimension %q%s", what, spec.Name, dim, r.hintDimension(spec, dim))
			unknown = append(unknown, dim)
		} else if seen[dim] {
			r.sink.errorf(n.PosAt("dimensions", i), CodeDuplicate, "%s: dimension %q is listed twice", what, dim)
		}
		seen[dim] = true
	}
	rule := chartRules[c.Type]
	xType := ""
	if c.X != "" {
		x, ok := spec.Dimensions[c.X]
		switch {
		case !ok:
			r.sink.errorf(n.PosAt("x"), CodeUnknownRef, "%s: dataset %q has no dimension %q%s", what, spec.Name, c.X, r.hintDimension(spec, c.X))
			unknown = append(unknown, c.X)
		case seen[c.X]:
			r.sink.errorf(n.PosAt("x"), CodeDuplicate, "%s: %q is both x and a dimension; keep it in one place", what, c.X)
		default:
			xType = x.Type
		}
		seen[c.X] = true
	} else if rule.needX && typo["x"] == nil {
		r.sink.errorf(n.Pos, CodeMissingKey, "%s: a %s chart needs x, the dimension of its horizontal axis; dataset %q has %s", what, c.Type, spec.Name, ListOr(sortedKeys(spec.Dimensions)))
	}
	groups := len(c.Dimensions)
	if c.X != "" {
		groups++
	}
	switch {
	case len(c.Metrics) < rule.minMetrics && typo["metrics"] != nil:
	case len(c.Metrics) < rule.minMetrics:
		r.sink.errorf(n.PosAt("metrics"), CodeInvalid, "%s: a %s chart needs at least %d metric; dataset %q has %s", what, c.Type, rule.minMetrics, spec.Name, ListOr(sortedKeys(spec.Metrics)))
	case len(c.Metrics) > rule.maxMet:
		r.sink.errorf(n.PosAt("metrics"), CodeInvalid, "%s: a %s chart takes at most %d %s, found %d", what, c.Type, rule.maxMet, plural(rule.maxMet, "metric"), len(c.Metrics))
	}
	switch {
	case groups < rule.minGroups && (typo["x"] != nil || typo["dimensions"] != nil):
	case groups < rule.minGroups && !rule.needX:
		r.sink.errorf(n.Pos, CodeMissingKey, "%s: a %s chart needs %s to group by (x or dimensions)", what, c.Type, countWords(rule.minGroups, "dimension"))
	case groups < rule.minGroups && c.X != "":
		r.sink.errorf(n.Pos, CodeMissingKey, "%s: a %s chart needs x and %s", what, c.Type, countWords(rule.minGroups-1, "dimension"))
	case groups > rule.maxGrp:
		r.sink.errorf(n.PosAt("dimensions"), CodeInvalid, "%s: a %s chart groups by at most %s (x included), found %d", what, c.Type, countWords(rule.maxGrp, "dimension"), groups)
	}
	if c.Grain != "" && c.X == "" && typo["x"] == nil {
		r.sink.errorf(n.PosAt("grain"), CodeInvalid, "%s: grain needs x to be a time dimension", what)
	} else if c.Grain != "" && xType != "" && xType != "time" {
		r.sink.errorf(n.PosAt("grain"), CodeInvalid, "%s: grain needs x to be a time dimension, but %q is a %s dimension", what, c.X, xType)
	}
	if xType == "time" && c.Grain == "" {
		c.Grain = "day"
	}
	for i, s := range c.Sort {
		name := strings.TrimPrefix(s, "-")
		if !seen[name] && !contains(listed, name) && suggest(name, unknown) == "" {
			r.sink.errorf(n.PosAt("sort", i), CodeUnknownRef, "%s: sort by %q, which is not one of the chart's metrics or dimensions (%s)", what, name, strings.Join(chartFields(c), ", "))
		}
	}
	r.checkConditions(n, what, spec, c.Where)
	// The time dimension that time ranges and date filters restrict.
	if xType == "time" {
		c.TimeDimension = c.X
	} else if times := timeDimensions(spec); len(times) == 1 {
		c.TimeDimension = times[0]
	}
	if c.TimeRange != "" {
		if err := checkTimeRange(c.TimeRange); err != nil {
			r.sink.errorf(n.PosAt("time_range"), CodeInvalid, "%s: invalid time_range %q: %v", what, c.TimeRange, err)
		} else if c.TimeDimension == "" && typo["x"] == nil {
			r.sink.errorf(n.PosAt("time_range"), CodeInvalid, "%s: time_range needs a time dimension: set x to one of %s", what, ListOr(timeDimensions(spec)))
		}
	}
	if c.Compare != "" {
		switch {
		case c.Type != "big_number":
			r.sink.errorf(n.PosAt("compare"), CodeInvalid, "%s: compare applies to big_number charts, not %s", what, c.Type)
		case xType != "time" && typo["x"] != nil:
		case xType != "time":
			r.sink.errorf(n.PosAt("compare"), CodeInvalid, "%s: compare needs x to be a time dimension and a grain, to know which period to compare", what)
		}
	}
	if c.Title == "" {
		c.Title = humanize(c.Name)
	}
	if c.Limit == 0 {
		c.Limit = defaultLimit
	}
	return ds, r.sink.errorCount() == errs
}

func (r *resolver) checkConditions(n *Node, what string, spec Dataset, conds []Condition) {
	for i, cond := range conds {
		cn := n.At("where", i)
		dim, ok := spec.Dimensions[cond.Dimension]
		if !ok {
			r.sink.errorf(cn.PosAt("dimension"), CodeUnknownRef, "%s: where: dataset %q has no dimension %q%s", what, spec.Name, cond.Dimension, r.hintDimension(spec, cond.Dimension))
			continue
		}
		_, isList := cond.Value.([]any)
		switch cond.Op {
		case "is_null", "not_null":
			if cond.Value != nil {
				r.sink.errorf(cn.PosAt("value"), CodeInvalid, "%s: where: op %s takes no value", what, cond.Op)
			}
		case "in", "not_in":
			if !isList {
				r.sink.errorf(cn.PosAt("value"), CodeInvalid, "%s: where: op %s needs a list value, such as [a, b]", what, cond.Op)
				continue
			}
			for j, v := range cond.Value.([]any) {
				if msg := filterstate.ValueFits(dim.Type, v); msg != "" {
					r.sink.errorf(cn.PosAt("value", j), CodeType, "%s: where: %s", what, msg)
				}
			}
		default:
			if cond.Value == nil || isList {
				r.sink.errorf(cn.PosAt("value"), CodeInvalid, "%s: where: op %s needs one value", what, cond.Op)
			} else if msg := filterstate.ValueFits(dim.Type, cond.Value); msg != "" {
				r.sink.errorf(cn.PosAt("value"), CodeType, "%s: where: %s", what, msg)
			}
		}
	}
}

func (r *resolver) checkFilter(dash string, n *Node, f *Filter, charts []Chart) *DatasetObject {
	what := fmt.Sprintf("filter %q", f.Name)
	ds, ok := r.dataset(n.PosAt("dataset"), f.Dataset, what)
	if !ok {
		return nil
	}
	dim, ok := ds.Spec.Dimensions[f.Dimension]
	if !ok {
		r.sink.errorf(n.PosAt("dimension"), CodeUnknownRef, "%s: dataset %q has no dimension %q%s", what, f.Dataset, f.Dimension, r.hintDimension(ds.Spec, f.Dimension))
		return ds
	}
	if f.Label == "" {
		f.Label = dim.Label
	}
	switch {
	case f.Type == "date_range" && dim.Type != "time":
		r.sink.errorf(n.PosAt("type"), CodeInvalid, "%s: a date_range filter needs a time dimension, but %q is a %s dimension", what, f.Dimension, dim.Type)
	case f.Type == "number_range" && dim.Type != "number":
		r.sink.errorf(n.PosAt("type"), CodeInvalid, "%s: a number_range filter needs a number dimension, but %q is a %s dimension", what, f.Dimension, dim.Type)
	case (f.Type == "select" || f.Type == "multi_select") && dim.Type == "time":
		r.sink.errorf(n.PosAt("type"), CodeInvalid, "%s: %q is a time dimension: use type date_range", what, f.Dimension)
	}
	if f.Default != nil {
		if msg := filterstate.Fits(f.Type, dim.Type, f.Default, f.Values); msg != "" {
			r.sink.errorf(n.PosAt("default"), CodeInvalid, "%s: default %s", what, msg)
		}
	}
	if len(f.Values) > 0 && (f.Type == "date_range" || f.Type == "number_range") {
		r.sink.errorf(n.PosAt("values"), CodeInvalid, "%s: values list the choices of select and multi_select filters, not %s", what, f.Type)
	}
	for i, v := range f.Values {
		if msg := filterstate.ValueFits(dim.Type, v); msg != "" {
			r.sink.errorf(n.PosAt("values", i), CodeType, "%s: values: %s", what, msg)
		}
	}
	// The filter applies to every chart whose dataset has a dimension of the
	// same name and type, as Superset scopes native filters by column.
	f.Charts = []string{}
	for _, c := range charts {
		cds, ok := r.datasets[c.Dataset]
		if !ok {
			continue
		}
		if d, ok := cds.Spec.Dimensions[f.Dimension]; ok && d.Type == dim.Type {
			f.Charts = append(f.Charts, c.Name)
		}
	}
	if len(f.Charts) == 0 {
		r.sink.warnf(n.Pos, CodeInvalid, "%s applies to no chart of dashboard %q: no chart's dataset has a %s dimension %q", what, dash, dim.Type, f.Dimension)
	}
	return ds
}

// layout checks the rows of chart names and fills in widths; without a
// layout every chart gets a place in order.
func (r *resolver) layout(n *Node, dash string, rows [][]any, charts []Chart, index map[string]int) [][]Cell {
	names := make([]string, len(charts))
	for i, c := range charts {
		names[i] = c.Name
	}
	if len(rows) == 0 {
		return autoLayout(charts)
	}
	placed := map[string]bool{}
	out := make([][]Cell, 0, len(rows))
	for i, row := range rows {
		cells := make([]Cell, 0, len(row))
		used, open := 0, 0
		for j, raw := range row {
			var c Cell
			switch v := raw.(type) {
			case string:
				c.Chart = v
			case map[string]any:
				c.Chart, _ = v["chart"].(string)
				if w, ok := v["width"].(float64); ok {
					c.Width = int(w)
				}
				if h, ok := v["height"].(float64); ok {
					c.Height = int(h)
				}
			}
			pos := n.PosAt("layout", i, j)
			if _, ok := index[c.Chart]; !ok {
				r.sink.errorf(pos, CodeUnknownRef, "layout: dashboard %q has no chart %q%s", dash, c.Chart, didYouMean(c.Chart, names))
				continue
			}
			if placed[c.Chart] {
				r.sink.errorf(pos, CodeLayout, "layout: chart %q is placed twice", c.Chart)
				continue
			}
			placed[c.Chart] = true
			if c.Width == 0 {
				open++
			}
			used += c.Width
			cells = append(cells, c)
		}
		if used > 12 || (open > 0 && 12-used < open) {
			r.sink.errorf(n.PosAt("layout", i), CodeLayout, "layout: row %d is wider than the 12-column grid (widths add up to %d with %d more chart(s) to fit)", i+1, used, open)
		}
		// Charts without a width share what the row has left.
		if open > 0 && used < 12 {
			share, extra := (12-used)/open, (12-used)%open
			for k := range cells {
				if cells[k].Width == 0 {
					cells[k].Width = share
					if extra > 0 {
						cells[k].Width++
						extra--
					}
				}
			}
		}
		out = append(out, cells)
	}
	for _, c := range charts {
		if !placed[c.Name] {
			r.sink.warnf(n.PosAt("layout"), CodeLayout, "layout: chart %q is not placed; it will be shown below the layout", c.Name)
			out = append(out, []Cell{{Chart: c.Name, Width: 12}})
		}
	}
	return out
}

// autoLayout packs charts in order into rows of the 12-column grid: big
// numbers three to a row and others two.
func autoLayout(charts []Chart) [][]Cell {
	var out [][]Cell
	var row []Cell
	used := 0
	for _, c := range charts {
		w := 6
		switch c.Type {
		case "big_number":
			w = 3
		case "table":
			w = 12
		}
		if used+w > 12 {
			out = append(out, row)
			row, used = nil, 0
		}
		row = append(row, Cell{Chart: c.Name, Width: w})
		used += w
	}
	if len(row) > 0 {
		out = append(out, row)
	}
	if out == nil {
		out = [][]Cell{}
	}
	return out
}

func (r *resolver) hintMetric(ds Dataset, name string) string {
	return hint(name, sortedKeys(ds.Metrics), ds.Dimensions[name].Type != "", "is a dimension: list it under dimensions or x")
}

func (r *resolver) hintDimension(ds Dataset, name string) string {
	return hint(name, sortedKeys(ds.Dimensions), ds.Metrics[name].Expr != "", "is a metric: list it under metrics")
}

// hint says why a name is not among names: it is of the other kind, or a
// typo of one of them, or else which names there are.
func hint(name string, names []string, otherKind bool, otherKindAdvice string) string {
	if otherKind {
		return fmt.Sprintf("; %q %s", name, otherKindAdvice)
	}
	if h := didYouMean(name, names); h != "" {
		return h
	}
	return "; it has " + ListOr(names)
}

func chartFields(c *Chart) []string {
	out := append([]string{}, c.Metrics...)
	out = append(out, c.Dimensions...)
	if c.X != "" {
		out = append(out, c.X)
	}
	return out
}

func timeDimensions(ds Dataset) []string {
	var out []string
	for _, name := range sortedKeys(ds.Dimensions) {
		if ds.Dimensions[name].Type == "time" {
			out = append(out, name)
		}
	}
	return out
}

// ListOr lists items for a message: "a, b or c", or "none".
func ListOr(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return joinOr(items)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func countWords(n int, word string) string {
	return fmt.Sprintf("%d %s", n, plural(n, word))
}
