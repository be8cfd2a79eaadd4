package superset

import (
	"fmt"
	"slices"
	"strings"
)

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
	for _, k := range []string{"show_labels", "show_value", "show_values", "show_bar_value"} {
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

// lostSettings are chart settings bic has no equivalent for, with how
// each one is active; a chart that uses one gets a warning.
var lostSettings = []struct {
	key    string
	active func(v any) bool
	what   string
}{
	{"series_limit", positive, "a series limit (only the top series are drawn)"},
	{"limit", positive, "a series limit (only the top series are drawn)"},
	{"time_compare", nonEmpty, "a time comparison (time shift)"},
	{"rolling_type", func(v any) bool { s, _ := v.(string); return s != "" && !strings.EqualFold(s, "none") }, "a rolling window"},
	{"contributionMode", nonEmpty, "contribution mode (shares of the total)"},
	{"annotation_layers", nonEmpty, "annotation layers"},
	{"forecastEnabled", func(v any) bool { b, _ := v.(bool); return b }, "a forecast"},
	{"percent_metrics", nonEmpty, "percentage metrics"},
	{"resample_rule", nonEmpty, "resampling"},
}

func positive(v any) bool {
	f, ok := toNumber(v)
	return ok && f > 0
}

func nonEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != "" && !strings.EqualFold(v, "null")
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	case bool:
		return v
	}
	return true
}

// lostFeatures warns about the settings of params that bic drops.
func lostFeatures(params map[string]any, warn func(path, format string, args ...any)) {
	said := map[string]bool{}
	for _, s := range lostSettings {
		if v, ok := params[s.key]; ok && s.active(v) && !said[s.what] {
			said[s.what] = true
			warn("params."+s.key, "%s has no bic equivalent; the chart is drawn without it", s.what)
		}
	}
}
