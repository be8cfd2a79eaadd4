package superset

import (
	"fmt"
	"slices"
	"strings"
)

// chart is a bic chart made from a Superset chart (a slice) placed on a
// dashboard.
type chart struct {
	src        *doc
	uuid       string
	name       string
	title      string
	desc       string
	typ        string
	ds         *dataset
	metrics    []string
	dims       []string
	x          string
	grain      string
	sort       []string
	limit      int
	where      []node
	timeRange  string
	compare    string
	options    node
	width      int
	height     int
	metricByLb map[string]string // Superset metric label → bic metric name, for sort keys
}

// vizTypes maps Superset's viz_type to bic's chart type. Legacy names
// (NVD3 charts, the first heatmap) map to the same types as their ECharts
// successors.
var vizTypes = map[string]string{
	"echarts_timeseries_line":    "line",
	"echarts_timeseries_smooth":  "line",
	"echarts_timeseries_step":    "line",
	"echarts_timeseries":         "line", // the generic chart; seriesType may say otherwise
	"line":                       "line",
	"echarts_timeseries_bar":     "bar",
	"bar":                        "bar",
	"dist_bar":                   "bar",
	"echarts_area":               "area",
	"area":                       "area",
	"echarts_timeseries_scatter": "scatter",
	"pie":                        "pie",
	"funnel":                     "funnel",
	"heatmap_v2":                 "heatmap",
	"heatmap":                    "heatmap",
	"big_number":                 "big_number",
	"big_number_total":           "big_number",
	"table":                      "table",
}

// grains maps time_grain_sqla (ISO 8601 durations) to bic's grains.
var grains = map[string]string{
	"PT1H": "hour", "P1D": "day", "P1W": "week", "P1M": "month", "P3M": "quarter", "P0.25Y": "quarter", "P1Y": "year",
	// weeks starting or ending on another day than Monday
	"1969-12-28T00:00:00Z/P1W": "week", "1969-12-29T00:00:00Z/P1W": "week", "P1W/1970-01-03T00:00:00Z": "week", "P1W/1970-01-04T00:00:00Z": "week",
}

// chartWarn is why a chart cannot be imported, and where in its file.
type chartWarn struct {
	path, msg string
}

// translateChart builds a chart from charts/NAME.yaml for a dashboard.
// It returns a chartWarn when the chart cannot be translated at all; lesser
// losses are warnings and the chart is kept.
func (im *importer) translateChart(d *doc, title string) (*chart, *chartWarn) {
	viz := str(d.root, "viz_type")
	params := mapping(d.root, "params")
	if params == nil {
		params = map[string]any{}
	}
	if viz == "" {
		viz = str(params, "viz_type")
	}
	typ, ok := vizTypes[viz]
	if !ok {
		return nil, &chartWarn{path: "viz_type", msg: fmt.Sprintf("viz_type %q has no bic chart type (bic draws line, bar, area, scatter, pie, funnel, heatmap, big_number and table); not imported", viz)}
	}
	ds := im.datasetByUUID[str(d.root, "dataset_uuid")]
	if ds == nil {
		return nil, &chartWarn{path: "dataset_uuid", msg: fmt.Sprintf("its dataset (uuid %s) is not in the export; not imported", str(d.root, "dataset_uuid"))}
	}
	c := &chart{src: d, uuid: str(d.root, "uuid"), title: title, desc: str(d.root, "description"), typ: typ, ds: ds, metricByLb: map[string]string{}}
	obj := fmt.Sprintf("chart %q", str(d.root, "slice_name"))
	warn := func(path, format string, args ...any) { im.warn(d, path, obj, fmt.Sprintf(format, args...)) }

	if viz == "echarts_timeseries" {
		switch str(params, "seriesType") {
		case "bar":
			c.typ = "bar"
		case "scatter":
			c.typ = "scatter"
		}
	}

	if viz == "table" && str(params, "query_mode") == "raw" {
		return nil, &chartWarn{path: "params.query_mode", msg: "a table of raw records (query_mode raw) has no bic equivalent: bic tables aggregate metrics; not imported"}
	}
	// Metrics: a list, or one for the single-metric charts.
	metricKeys := []string{"metrics"}
	if typ == "pie" || typ == "funnel" || typ == "heatmap" || typ == "big_number" {
		metricKeys = []string{"metric", "metrics"}
	}
	for _, key := range metricKeys {
		for i, m := range list(params, key) {
			name, msg := im.chartMetric(c, m, str(params, "y_axis_format"))
			if msg != "" {
				warn(fmt.Sprintf("params.%s.%d", key, i), "%s", msg)
				continue
			}
			if !slices.Contains(c.metrics, name) {
				c.metrics = append(c.metrics, name)
			}
		}
		if len(c.metrics) > 0 {
			break
		}
	}
	if len(c.metrics) == 0 {
		return nil, &chartWarn{path: "params", msg: "none of its metrics could be translated; not imported"}
	}

	// Axes and group-by.
	var col func(path string, v any) *dim
	col = func(path string, v any) *dim {
		switch v := v.(type) {
		case string:
			if v == "" {
				return nil
			}
			if dm := ds.column(v); dm != nil {
				return dm
			}
			warn(path, "dataset %q has no column %q; left out", ds.title, v)
		case map[string]any:
			// An ad-hoc column: a SQL expression with a label.
			expr := strings.TrimSpace(str(v, "sqlExpression"))
			if expr == "" {
				return col(path, str(v, "column_name"))
			}
			if jinjaRe.MatchString(expr) {
				warn(path, "the column expression uses Jinja templating, which bic does not run; left out")
				return nil
			}
			label := str(v, "label")
			if label == "" {
				label = expr
			}
			if dm := ds.column(expr); dm != nil {
				return dm
			}
			return ds.addDim(expr, label, fmt.Sprintf("from an ad-hoc column of %s", d.file))
		}
		return nil
	}
	cols := func(key string) []*dim {
		var out []*dim
		for i, v := range list(params, key) {
			if dm := col(fmt.Sprintf("params.%s.%d", key, i), v); dm != nil {
				out = append(out, dm)
			}
		}
		return out
	}
	var x *dim
	var dims []*dim
	switch viz {
	case "dist_bar":
		g := cols("groupby")
		if len(g) > 0 {
			x, dims = g[0], g[1:]
		}
		dims = append(dims, cols("columns")...)
	case "heatmap":
		x = col("params.all_columns_x", params["all_columns_x"])
		if y := col("params.all_columns_y", params["all_columns_y"]); y != nil {
			dims = []*dim{y}
		}
	case "pie", "funnel", "table":
		dims = cols("groupby")
	case "big_number_total":
	default:
		// Time series, heatmap_v2, big number with trend line.
		if v, ok := params["x_axis"]; ok && v != nil && v != "" {
			x = col("params.x_axis", v)
		} else if typ != "heatmap" {
			x = col("params.granularity_sqla", params["granularity_sqla"])
			if x == nil {
				x = ds.defaultTime()
			}
		}
		dims = cols("groupby")
	}
	if x != nil {
		c.x = x.name
	}
	for _, dm := range dims {
		if dm.name != c.x && !slices.Contains(c.dims, dm.name) {
			c.dims = append(c.dims, dm.name)
		}
	}
	if x != nil && x.typ == "time" {
		if g := str(params, "time_grain_sqla"); g != "" {
			if bg, ok := grains[g]; ok {
				c.grain = bg
			} else {
				warn("params.time_grain_sqla", "time grain %q has no bic grain (hour, day, week, month, quarter, year); the chart uses day", g)
			}
		}
	}

	// Rows, order, conditions, period.
	if n, ok := number(params, "row_limit"); ok && n >= 1 {
		c.limit = min(int(n), 1_000_000)
	}
	im.chartSort(c, params)
	im.chartFilters(c, params, warn)
	if tr, ok := params["time_range"]; ok && c.timeRange == "" {
		s, _ := tr.(string)
		if bt, msg := timeRange(s); msg != "" {
			warn("params.time_range", "%s", msg)
		} else {
			c.timeRange = bt
		}
	}
	if typ == "big_number" && viz == "big_number" {
		if n, ok := number(params, "compare_lag"); ok && n > 0 {
			if n == 1 {
				c.compare = "previous_period"
			} else {
				warn("params.compare_lag", "compares with %v periods back; bic compares with the previous period only, so the comparison is left out", n)
			}
		}
	}
	if c.desc == "" && typ == "big_number" {
		c.desc = strings.TrimSpace(str(params, "subheader")) // the text under the number
	}
	c.options = chartOptions(viz, params)
	lostFeatures(params, warn)
	if msg := c.fit(); msg != "" {
		return nil, &chartWarn{path: "params", msg: msg + "; not imported"}
	}
	for _, msg := range c.trim() {
		warn("params", "%s", msg)
	}
	return c, nil
}

// render writes the chart as an entry of its dashboard's charts.
func (c *chart) render() node {
	var n node
	n.setc("name", c.name, fmt.Sprintf("from %s (chart %q, uuid %s)", c.src.file, str(c.src.root, "slice_name"), c.uuid))
	if c.title != "" {
		n.set("title", c.title)
	}
	if c.desc != "" {
		n.set("description", c.desc)
	}
	n.set("type", c.typ)
	n.set("dataset", c.ds.name)
	n.set("metrics", c.metrics)
	if c.x != "" {
		n.set("x", c.x)
	}
	if c.grain != "" {
		n.set("grain", c.grain)
	}
	if len(c.dims) > 0 {
		n.set("dimensions", c.dims)
	}
	if len(c.sort) > 0 {
		n.set("sort", c.sort)
	}
	if c.limit > 0 {
		n.set("limit", c.limit)
	}
	if len(c.where) > 0 {
		items := make([]any, len(c.where))
		for i, w := range c.where {
			items[i] = flow{w}
		}
		n.set("where", items)
	}
	if c.timeRange != "" {
		n.set("time_range", c.timeRange)
	}
	if c.compare != "" {
		n.set("compare", c.compare)
	}
	if len(c.options) > 0 {
		n.set("options", flow{c.options})
	}
	return n
}
