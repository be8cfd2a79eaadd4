package site

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bic-dev/bic/compiler"
)

const tinyProject = `name: tiny
connections:
  db:
    type: postgres
    url: ${env:DATABASE_URL}
`

const tinyDataset = `dataset: orders
table: orders
dimensions:
  ordered_at: {type: time, label: Order date}
  channel: {type: string, label: Sales channel}
  hour: {type: number}
  weekday: {type: number}
metrics:
  revenue: {expr: sum(amount), format: currency, currency: EUR, decimals: 0}
  orders: {expr: count(*)}
  share: {expr: avg(x), format: percent}
`

// tinyManifest compiles a project whose one dashboard has the charts
// given as YAML list items, with a layout of one chart per row.
func tinyManifest(t *testing.T, charts string) *compiler.Manifest {
	t.Helper()
	return compileProject(t, fstest.MapFS{
		"bic.yaml":             {Data: []byte(tinyProject)},
		"datasets/orders.yaml": {Data: []byte(tinyDataset)},
		"dashboards/tiny.yaml": {Data: []byte("dashboard: tiny\ntitle: Tiny\ncharts:\n" + charts)},
	})
}

var specScript = regexp.MustCompile(`<script type="application/json" class="bic-spec">([^<]*)</script>`)

// specs reads back the chart specs a page embeds.
func specs(t *testing.T, page []byte) []chartSpec {
	t.Helper()
	var out []chartSpec
	for _, m := range specScript.FindAllSubmatch(page, -1) {
		var s chartSpec
		if err := json.Unmarshal(m[1], &s); err != nil {
			t.Fatalf("chart spec is not JSON: %v\n%s", err, m[1])
		}
		out = append(out, s)
	}
	return out
}

// TestChartTypes renders one chart of each of the language's nine types.
func TestChartTypes(t *testing.T) {
	tests := []struct {
		name  string
		chart string
		// series is the ECharts series type, "" for a chart drawn as HTML.
		series string
		check  func(t *testing.T, page string, s chartSpec)
	}{
		{"line", `{name: c, type: line, dataset: orders, metrics: [revenue], x: ordered_at, grain: month, dimensions: [channel], options: {smooth: true, y_min: 0}}`, "line",
			func(t *testing.T, page string, s chartSpec) {
				ser := firstSeries(t, s)
				if ser["smooth"] != true {
					t.Errorf("smooth not set: %v", ser)
				}
				if s.Layout.Series != "channel" || s.Layout.Category != "ordered_at" {
					t.Errorf("layout = %+v", s.Layout)
				}
				if y := axis(t, s, "yAxis"); y["min"] != 0.0 {
					t.Errorf("yAxis min = %v", y["min"])
				}
			}},
		{"area", `{name: c, type: area, dataset: orders, metrics: [revenue], x: ordered_at, grain: week, dimensions: [channel], options: {stacked: true}}`, "line",
			func(t *testing.T, page string, s chartSpec) {
				ser := firstSeries(t, s)
				if ser["areaStyle"] == nil || ser["stack"] != "total" {
					t.Errorf("area series not stacked with an area style: %v", ser)
				}
			}},
		{"bar", `{name: c, type: bar, dataset: orders, metrics: [orders], x: channel, options: {horizontal: true, labels: true}}`, "bar",
			func(t *testing.T, page string, s chartSpec) {
				if y := axis(t, s, "yAxis"); y["type"] != "category" {
					t.Errorf("horizontal bar: y axis %v, want the categories", y)
				}
				if x := axis(t, s, "xAxis"); x["type"] != "value" {
					t.Errorf("horizontal bar: x axis %v, want the values", x)
				}
			}},
		{"scatter", `{name: c, type: scatter, dataset: orders, metrics: [revenue], x: hour, dimensions: [channel], options: {trend_line: true}}`, "scatter",
			func(t *testing.T, page string, s chartSpec) {
				if x := axis(t, s, "xAxis"); x["type"] != "value" {
					t.Errorf("scatter on a number x: x axis %v, want a value axis", x)
				}
			}},
		{"heatmap", `{name: c, type: heatmap, dataset: orders, metrics: [orders], x: weekday, dimensions: [hour], options: {color_scheme: greens}}`, "heatmap",
			func(t *testing.T, page string, s chartSpec) {
				if s.Layout.Y != "hour" {
					t.Errorf("heatmap y = %q, want hour", s.Layout.Y)
				}
				vm, _ := s.ECharts["visualMap"].([]any)
				if len(vm) != 1 || !strings.Contains(mustJSON(t, vm), colorSchemes["greens"][0]) {
					t.Errorf("visualMap = %v, want the greens scheme", vm)
				}
			}},
		{"pie", `{name: c, type: pie, dataset: orders, metrics: [revenue], dimensions: [channel], options: {percent: true}}`, "pie", nil},
		{"funnel", `{name: c, type: funnel, dataset: orders, metrics: [orders], dimensions: [channel], sort: [-orders]}`, "funnel", nil},
		{"big_number", `{name: c, type: big_number, dataset: orders, metrics: [revenue], x: ordered_at, grain: month, compare: previous_period}`, "",
			func(t *testing.T, page string, s chartSpec) {
				for _, want := range []string{`<span class="bic-big-value">€1,200</span>`, `▼`, `-50.0%`, `vs the month before: €2,400`} {
					if !strings.Contains(page, want) {
						t.Errorf("big number lacks %q", want)
					}
				}
			}},
		{"table", `{name: c, type: table, dataset: orders, metrics: [orders, revenue, share], dimensions: [channel], options: {page_size: 2}}`, "",
			func(t *testing.T, page string, s chartSpec) {
				for _, want := range []string{`<table class="bic-table" data-page-size="2">`, `<button type="button" class="bic-sort">Sales channel</button>`,
					`<td class="bic-num">40</td>`, `<td class="bic-num">€1,237</td>`, `<td class="bic-num">7.5%</td>`, `2 of 3 rows`} {
					if !strings.Contains(page, want) {
						t.Errorf("table lacks %q", want)
					}
				}
				if n := strings.Count(page, "<tr><td"); n != 2 {
					t.Errorf("table shows %d rows, want the first page of 2", n)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tinyManifest(t, "  - "+tt.chart+"\n")
			page, err := RenderDashboard(m, "tiny", fixtureData(t, m, "tiny"), Options{AssetsURL: "assets/"})
			if err != nil {
				t.Fatal(err)
			}
			checkPage(t, page)
			ss := specs(t, page)
			if len(ss) != 1 {
				t.Fatalf("page has %d chart specs, want 1", len(ss))
			}
			s := ss[0]
			if s.Type != tt.name {
				t.Errorf("spec type %q, want %q", s.Type, tt.name)
			}
			if !strings.Contains(string(page), `class="bic-cell bic-type-`+tt.name+`"`) {
				t.Errorf("page has no cell of type %s", tt.name)
			}
			if tt.series == "" {
				if s.ECharts != nil {
					t.Errorf("a %s has an ECharts option: %v", tt.name, s.ECharts)
				}
				if strings.Contains(string(page), `class="bic-canvas"`) {
					t.Errorf("a %s has a canvas", tt.name)
				}
			} else {
				if got := firstSeries(t, s)["type"]; got != tt.series {
					t.Errorf("series type %v, want %s", got, tt.series)
				}
				if !strings.Contains(string(page), `<div class="bic-canvas"></div>`) {
					t.Errorf("no canvas for the chart")
				}
			}
			if tt.check != nil {
				tt.check(t, string(page), s)
			}
		})
	}
}

func firstSeries(t *testing.T, s chartSpec) map[string]any {
	t.Helper()
	list, _ := s.ECharts["series"].([]any)
	if len(list) == 0 {
		t.Fatalf("option has no series: %v", s.ECharts)
	}
	ser, _ := list[0].(map[string]any)
	return ser
}

func axis(t *testing.T, s chartSpec, name string) map[string]any {
	t.Helper()
	list, _ := s.ECharts[name].([]any)
	if len(list) == 0 {
		t.Fatalf("option has no %s: %v", name, s.ECharts)
	}
	a, _ := list[0].(map[string]any)
	return a
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
