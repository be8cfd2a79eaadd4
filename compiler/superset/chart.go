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

// chartWarn is a reason a chart cannot be imported.
type chartWarn struct {
	path, msg string
}

func (e *chartWarn) Error() string { return e.msg }

// translateChart builds a chart from charts/NAME.yaml for a dashboard.
// It returns a chartWarn when the chart cannot be translated at all; lesser
// losses are warnings and the chart is kept.
func (im *importer) translateChart(d *doc, title string) (*chart, error) {
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
	c.options = chartOptions(viz, params)
	if msg := c.fit(); msg != "" {
		return nil, &chartWarn{path: "params", msg: msg + "; not imported"}
	}
	for _, msg := range c.trim() {
		warn("params", "%s", msg)
	}
	return c, nil
}

// aggregates are the SIMPLE ad-hoc metric's aggregates.
var aggregates = map[string]string{"SUM": "sum", "AVG": "avg", "MIN": "min", "MAX": "max", "COUNT": "count", "COUNT_DISTINCT": "count distinct"}

// chartMetric resolves one of a chart's metrics to a metric of its
// dataset: a saved metric by name, or an ad-hoc one (an aggregate of a
// column, or SQL) added to the dataset. msg says why it could not be.
func (im *importer) chartMetric(c *chart, m any, yFormat string) (name, msg string) {
	ds := c.ds
	switch m := m.(type) {
	case string:
		if sm := ds.saved[m]; sm != nil {
			c.metricByLb[m] = sm.name
			return sm.name, ""
		}
		for k, sm := range ds.saved {
			if strings.EqualFold(k, m) {
				c.metricByLb[m] = sm.name
				return sm.name, ""
			}
		}
		return "", fmt.Sprintf("dataset %q has no metric %q; left out", ds.title, m)
	case map[string]any:
		label := str(m, "label")
		custom := truthy(m, "hasCustomLabel")
		var expr, wish string
		switch strings.ToUpper(str(m, "expressionType")) {
		case "SIMPLE":
			agg, ok := aggregates[strings.ToUpper(str(m, "aggregate"))]
			if !ok {
				return "", fmt.Sprintf("ad-hoc metric %q uses aggregate %q, which bic does not translate; left out", label, str(m, "aggregate"))
			}
			colName := str(mapping(m, "column"), "column_name")
			dm := ds.column(colName)
			if dm == nil {
				return "", fmt.Sprintf("ad-hoc metric %q: dataset %q has no column %q; left out", label, ds.title, colName)
			}
			arg := ds.sqlOf(dm)
			if agg == "count distinct" {
				expr = "count(distinct " + arg + ")"
			} else {
				expr = agg + "(" + arg + ")"
			}
			wish = strings.ReplaceAll(agg, " ", "_") + "_" + dm.name
		case "SQL":
			expr = strings.TrimSpace(str(m, "sqlExpression"))
			if expr == "" {
				return "", fmt.Sprintf("ad-hoc metric %q has no SQL; left out", label)
			}
			if jinjaRe.MatchString(expr) {
				return "", fmt.Sprintf("ad-hoc metric %q uses Jinja templating, which bic does not run; left out", label)
			}
			wish = slug(label, "metric")
		default:
			return "", fmt.Sprintf("ad-hoc metric %q of type %q is not one bic translates (SIMPLE or SQL); left out", label, str(m, "expressionType"))
		}
		if custom && label != "" {
			wish = slug(label, "metric")
		}
		lb := ""
		if custom {
			lb = label
		}
		mt, created := ds.addMetric(expr, wish, lb, fmt.Sprintf("from an ad-hoc metric of %s", c.src.file))
		if created {
			mt.setFormat(yFormat)
		}
		if label != "" {
			c.metricByLb[label] = mt.name
		}
		return mt.name, ""
	}
	return "", fmt.Sprintf("a metric written as %s is not one bic translates; left out", kindOf(m))
}

// chartSort reads the order Superset gives a chart, where bic can keep it.
func (im *importer) chartSort(c *chart, params map[string]any) {
	desc := true
	if _, ok := params["order_desc"]; ok {
		desc = truthy(params, "order_desc")
	}
	key := func(v any) string {
		switch v := v.(type) {
		case string:
			if n, ok := c.metricByLb[v]; ok {
				return n
			}
			if dm := c.ds.column(v); dm != nil {
				return dm.name
			}
		case map[string]any:
			if n, ok := c.metricByLb[str(v, "label")]; ok {
				return n
			}
		}
		return ""
	}
	switch c.typ {
	case "pie", "funnel":
		if truthy(params, "sort_by_metric") {
			c.sort = []string{"-" + c.metrics[0]}
		}
	case "table":
		if k := key(params["timeseries_limit_metric"]); k != "" {
			c.sort = []string{sortKey(k, desc)}
		}
	case "bar":
		if k := key(params["x_axis_sort"]); k != "" {
			c.sort = []string{sortKey(k, !truthy(params, "x_axis_sort_asc"))}
		}
	}
}

func sortKey(name string, desc bool) string {
	if desc {
		return "-" + name
	}
	return name
}

// chartOptions reads how Superset draws the chart into bic's options.
func chartOptions(viz string, p map[string]any) node {
	var o node
	stacked := false
	switch viz {
	case "area":
		stacked = str(p, "stacked_style") != ""
	case "dist_bar", "bar":
		stacked = truthy(p, "bar_stacked")
	default:
		stacked = truthy(p, "stack")
	}
	if stacked {
		o.set("stacked", true)
	}
	if str(p, "orientation") == "horizontal" {
		o.set("horizontal", true)
	}
	if _, ok := p["show_legend"]; ok {
		o.set("legend", truthy(p, "show_legend"))
	}
	for _, k := range []string{"show_labels", "show_value", "show_values"} {
		if _, ok := p[k]; ok {
			o.set("labels", truthy(p, k))
			break
		}
	}
	if lt := str(p, "label_type"); viz == "pie" && strings.Contains(lt, "percent") {
		o.set("percent", true)
	}
	if viz == "echarts_timeseries_smooth" || str(p, "seriesType") == "smooth" ||
		slices.Contains([]string{"basis", "cardinal", "monotone"}, str(p, "line_interpolation")) {
		o.set("smooth", true)
	}
	if truthy(p, "logAxis") || truthy(p, "y_log_scale") {
		o.set("log_scale", true)
	}
	if b := list(p, "y_axis_bounds"); len(b) == 2 {
		if v, ok := toNumber(b[0]); ok {
			o.set("y_min", v)
		}
		if v, ok := toNumber(b[1]); ok {
			o.set("y_max", v)
		}
	}
	scheme := str(p, "color_scheme")
	if viz == "heatmap" || viz == "heatmap_v2" {
		scheme = str(p, "linear_color_scheme")
	}
	if scheme != "" {
		o.set("color_scheme", scheme)
	}
	if viz == "big_number" {
		show := true
		if _, ok := p["show_trend_line"]; ok {
			show = truthy(p, "show_trend_line")
		}
		o.set("trend_line", show)
	}
	if n, ok := number(p, "page_length"); ok && n >= 1 && viz == "table" {
		o.set("page_size", int(n))
	}
	return o
}

// fit checks the chart against bic's rules for its type; a chart that
// cannot meet them is not imported, and msg says why.
func (c *chart) fit() (msg string) {
	groupBy := len(c.dims)
	if c.x != "" {
		groupBy++
	}
	switch c.typ {
	case "line", "area", "scatter":
		if c.x == "" {
			return fmt.Sprintf("a %s chart needs an x axis, and this one has neither x_axis nor a time column", c.typ)
		}
	case "bar":
		if groupBy == 0 {
			return "a bar chart needs an x axis or a group-by column, and this one has none"
		}
	case "heatmap":
		if c.x == "" || len(c.dims) == 0 {
			return "a heatmap needs an x axis and a y axis column"
		}
	case "pie", "funnel":
		if groupBy == 0 {
			return fmt.Sprintf("a %s chart needs a group-by column, and this one has none", c.typ)
		}
	}
	return ""
}

// trim cuts what bic's chart type does not take (extra metrics or
// group-by columns, a comparison without a time axis) and says what it cut.
func (c *chart) trim() []string {
	var msgs []string
	keepMetrics := func(n int) {
		if len(c.metrics) > n {
			msgs = append(msgs, fmt.Sprintf("a bic %s chart shows %d metric(s); %s left out", c.typ, n, strings.Join(c.metrics[n:], ", ")))
			c.metrics = c.metrics[:n]
		}
	}
	keepDims := func(n int) {
		if len(c.dims) > n {
			msgs = append(msgs, fmt.Sprintf("a bic %s chart groups by at most %d column(s) besides its x axis; %s left out", c.typ, n, strings.Join(c.dims[n:], ", ")))
			c.dims = c.dims[:n]
		}
	}
	switch c.typ {
	case "line", "area":
		keepMetrics(50)
		keepDims(1)
	case "bar":
		keepMetrics(50)
		if c.x == "" {
			c.x, c.dims = c.dims[0], c.dims[1:]
		}
		keepDims(1)
	case "scatter":
		keepMetrics(2)
		keepDims(1)
	case "heatmap":
		keepMetrics(1)
		keepDims(1)
	case "pie", "funnel":
		keepMetrics(1)
		if c.x != "" {
			c.dims = append([]string{c.x}, c.dims...)
			c.x = ""
		}
		keepDims(1)
		c.grain = ""
	case "big_number":
		keepMetrics(1)
		if len(c.dims) > 0 {
			msgs = append(msgs, fmt.Sprintf("a bic big number does not group by; %s left out", strings.Join(c.dims, ", ")))
			c.dims = nil
		}
	case "table":
		keepMetrics(100)
		keepDims(100)
	}
	xDim := c.ds.dimByName(c.x)
	if xDim == nil || xDim.typ != "time" {
		c.grain = ""
		if c.compare != "" {
			msgs = append(msgs, "a comparison with the previous period needs a time axis; left out")
			c.compare = ""
		}
	}
	if c.timeRange != "" && (xDim == nil || xDim.typ != "time") && len(c.ds.timeDims()) != 1 {
		msgs = append(msgs, fmt.Sprintf("its time range %s needs a time axis, and dataset %q has %d time columns; left out", c.timeRange, c.ds.title, len(c.ds.timeDims())))
		c.timeRange = ""
	}
	var sort []string
	for _, s := range c.sort {
		n := strings.TrimPrefix(s, "-")
		if slices.Contains(c.metrics, n) || slices.Contains(c.dims, n) || n == c.x {
			sort = append(sort, s)
		}
	}
	c.sort = sort
	return msgs
}

func (ds *dataset) dimByName(name string) *dim {
	for _, d := range ds.dims {
		if d.name == name {
			return d
		}
	}
	return nil
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
