package site

import (
	"fmt"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/bic-dev/bic/compiler"
)

// The chart types of the language (docs/language.md, 4.2.1).
const (
	typeLine      = "line"
	typeArea      = "area"
	typeBar       = "bar"
	typeScatter   = "scatter"
	typeHeatmap   = "heatmap"
	typePie       = "pie"
	typeFunnel    = "funnel"
	typeBigNumber = "big_number"
	typeTable     = "table"
)

// colorSchemes maps options.color_scheme to a palette: its first colour
// starts the series, and a heatmap runs from the lightest to the last.
var colorSchemes = map[string][]string{
	"blues":   {"#deebf7", "#9ecae1", "#4292c6", "#2171b5", "#08519c", "#08306b"},
	"greens":  {"#e5f5e0", "#a1d99b", "#41ab5d", "#238b45", "#006d2c", "#00441b"},
	"reds":    {"#fee0d2", "#fc9272", "#ef3b2c", "#cb181d", "#a50f15", "#67000d"},
	"oranges": {"#fee6ce", "#fdae6b", "#f16913", "#d94801", "#a63603", "#7f2704"},
	"purples": {"#efedf5", "#bcbddc", "#807dba", "#6a51a3", "#54278f", "#3f007d"},
	"greys":   {"#f0f0f0", "#bdbdbd", "#737373", "#525252", "#252525", "#000000"},
}

// defaultHeat is the heatmap scale without a color_scheme.
var defaultHeat = colorSchemes["blues"]

// layout says which columns of a chart's data play which part: the
// category (the x axis, or the slices of a pie), the series (one line or
// bar per value) and, for a heatmap, the y axis.
type layout struct {
	Category string `json:"category,omitempty"`
	Series   string `json:"series,omitempty"`
	Y        string `json:"y,omitempty"`
}

// layoutOf works out the roles of a chart's group-by columns: x, or the
// first dimension, is the category, and the next dimension the series.
func layoutOf(c compiler.Chart) layout {
	group := c.Dimensions
	if c.X != "" {
		group = append([]string{c.X}, c.Dimensions...)
	}
	var l layout
	if len(group) > 0 {
		l.Category = group[0]
	}
	if len(group) > 1 {
		if c.Type == typeHeatmap {
			l.Y = group[1]
		} else {
			l.Series = group[1]
		}
	}
	return l
}

func optBool(o map[string]any, key string) bool {
	b, _ := o[key].(bool)
	return b
}

func optNumber(o map[string]any, key string) (float64, bool) {
	if _, isText := o[key].(string); isText {
		return 0, false
	}
	return toNumber(o[key])
}

// legendShown is options.legend, or by default whether the chart draws
// more than one series.
func legendShown(c compiler.Chart, l layout) bool {
	if c.Type == typeHeatmap {
		return false // the visual map is its legend
	}
	if v, ok := c.Options["legend"].(bool); ok {
		return v
	}
	switch c.Type {
	case typePie, typeFunnel:
		return false
	}
	return l.Series != "" || len(c.Metrics) > 1
}

// echartsOption builds the ECharts option of a chart with go-echarts: its
// axes, legend, tooltip and one series template per metric, without data.
// bic.js fills the series from the chart's data (one per metric and, with
// a series dimension, per value of it), so the page and a redraw after a
// filter change share one option. Big numbers and tables are not drawn by
// ECharts: they have none.
func echartsOption(c compiler.Chart, ds compiler.Dataset) (map[string]any, error) {
	l := layoutOf(c)
	o := c.Options
	legend := charts.WithLegendOpts(opts.Legend{Show: opts.Bool(legendShown(c, l)), Type: "scroll", Top: "0"})
	grid := charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "36", Bottom: "8", ContainLabel: opts.Bool(true)})
	var palette []string
	if s, ok := colorSchemes[fmt.Sprint(o["color_scheme"])]; ok {
		palette = s
	}
	labels := opts.Label{Show: opts.Bool(optBool(o, "labels"))}

	valueAxis := opts.YAxis{Type: "value", Scale: opts.Bool(true)}
	if optBool(o, "log_scale") {
		valueAxis.Type = "log"
	}
	if v, ok := optNumber(o, "y_min"); ok {
		valueAxis.Min = v
	}
	if v, ok := optNumber(o, "y_max"); ok {
		valueAxis.Max = v
	}
	if len(c.Metrics) > 0 {
		valueAxis.Name = metricLabel(ds, c.Metrics[0])
		if len(c.Metrics) > 1 {
			valueAxis.Name = ""
		}
	}
	categoryAxis := opts.XAxis{Type: "category", Name: dimensionLabel(ds, l.Category), NameLocation: "middle", NameGap: 28}

	var bc interface{ JSON() map[string]any }
	switch c.Type {
	case typeLine, typeArea:
		ch := charts.NewLine()
		ch.SetGlobalOptions(legend, grid,
			charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
			charts.WithXAxisOpts(categoryAxis), charts.WithYAxisOpts(valueAxis))
		lc := opts.LineChart{Smooth: opts.Bool(optBool(o, "smooth")), ShowSymbol: opts.Bool(false), ConnectNulls: opts.Bool(true)}
		if optBool(o, "stacked") {
			lc.Stack = "total"
		}
		for _, m := range c.Metrics {
			sopts := []charts.SeriesOpts{charts.WithLineChartOpts(lc), charts.WithLabelOpts(labels)}
			if c.Type == typeArea {
				sopts = append(sopts, charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.35)}))
			}
			ch.AddSeries(metricLabel(ds, m), nil, sopts...)
		}
		ch.Validate()
		bc = ch
	case typeBar:
		ch := charts.NewBar()
		// Bars start at zero: their length is the value.
		valueAxis.Scale = nil
		barGrid := grid
		if optBool(o, "horizontal") && optBool(o, "labels") {
			barGrid = charts.WithGridOpts(opts.Grid{Left: "8", Right: "48", Top: "36", Bottom: "8", ContainLabel: opts.Bool(true)})
		}
		ch.SetGlobalOptions(legend, barGrid,
			charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}))
		if optBool(o, "horizontal") {
			// The categories go down the y axis, the values along x.
			ch.SetGlobalOptions(
				charts.WithXAxisOpts(opts.XAxis{Type: valueAxis.Type, Min: valueAxis.Min, Max: valueAxis.Max}),
				charts.WithYAxisOpts(opts.YAxis{Type: "category", Name: categoryAxis.Name, Inverse: opts.Bool(true)}))
		} else {
			ch.SetGlobalOptions(charts.WithXAxisOpts(categoryAxis), charts.WithYAxisOpts(valueAxis))
		}
		bo := opts.BarChart{}
		if optBool(o, "stacked") {
			bo.Stack = "total"
		}
		pos := "top"
		if optBool(o, "horizontal") {
			pos = "right"
		}
		for _, m := range c.Metrics {
			ch.AddSeries(metricLabel(ds, m), nil, charts.WithBarChartOpts(bo),
				charts.WithLabelOpts(opts.Label{Show: labels.Show, Position: pos}))
		}
		bc = ch
	case typeScatter:
		ch := charts.NewScatter()
		xAxis := opts.XAxis{Type: "value", Scale: opts.Bool(true), Name: categoryAxis.Name, NameLocation: "middle", NameGap: 28}
		if d := ds.Dimensions[l.Category]; d.Type != "number" {
			xAxis.Type = "category"
		}
		ch.SetGlobalOptions(legend, grid,
			charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
			charts.WithXAxisOpts(xAxis), charts.WithYAxisOpts(valueAxis))
		for _, m := range c.Metrics {
			ch.AddSeries(metricLabel(ds, m), nil, charts.WithLabelOpts(labels))
		}
		ch.Validate()
		bc = ch
	case typeHeatmap:
		ch := charts.NewHeatMap()
		heat := defaultHeat
		if palette != nil {
			heat = palette
		}
		ch.SetGlobalOptions(legend,
			charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "12", Bottom: "48", ContainLabel: opts.Bool(true)}),
			charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
			charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: dimensionLabel(ds, l.Category), NameLocation: "middle", NameGap: 24, SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
			charts.WithYAxisOpts(opts.YAxis{Type: "category", Name: dimensionLabel(ds, l.Y), SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
			charts.WithVisualMapOpts(opts.VisualMap{Calculable: opts.Bool(true), Orient: "horizontal", Left: "center", Bottom: "0", InRange: &opts.VisualMapInRange{Color: heat}}))
		ch.AddSeries(metricLabel(ds, c.Metrics[0]), nil, charts.WithLabelOpts(labels))
		bc = ch
	case typePie:
		ch := charts.NewPie()
		ch.SetGlobalOptions(legend, charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}))
		ch.AddSeries(metricLabel(ds, c.Metrics[0]), nil,
			charts.WithPieChartOpts(opts.PieChart{Radius: []string{"30%", "60%"}}),
			charts.WithLabelOpts(opts.Label{Show: opts.Bool(optBool(o, "labels") || !legendShown(c, l))}))
		bc = ch
	case typeFunnel:
		ch := charts.NewFunnel()
		ch.SetGlobalOptions(legend, charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}))
		ch.AddSeries(metricLabel(ds, c.Metrics[0]), nil,
			charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "inside"}))
		bc = ch
	case typeBigNumber, typeTable:
		return nil, nil
	default:
		return nil, fmt.Errorf("chart %s: unknown chart type %q", c.Name, c.Type)
	}
	option := bc.JSON()
	if palette != nil && c.Type != typeHeatmap {
		option["color"] = paletteFrom(palette)
	}
	// go-echarts writes an empty title and toolbox: the page has the title.
	delete(option, "title")
	delete(option, "toolbox")
	return option, nil
}

// paletteFrom orders a sequential scheme darkest first, so the first
// series stand out against the page.
func paletteFrom(s []string) []string {
	out := make([]string, 0, len(s))
	for i := len(s) - 1; i >= 1; i-- {
		out = append(out, s[i])
	}
	return out
}

func metricLabel(ds compiler.Dataset, name string) string {
	if m, ok := ds.Metrics[name]; ok && m.Label != "" {
		return m.Label
	}
	return name
}

func dimensionLabel(ds compiler.Dataset, name string) string {
	if name == "" {
		return ""
	}
	if d, ok := ds.Dimensions[name]; ok && d.Label != "" {
		return d.Label
	}
	return name
}
