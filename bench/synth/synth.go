// Package synth writes synthetic bic projects of a chosen size, for
// benchmarks: every dataset, dashboard and chart is valid and distinct.
package synth

import (
	"fmt"
	"strings"
)

// Size is how large a project to write.
type Size struct {
	Datasets   int
	Dashboards int
	Charts     int // per dashboard
}

// Large is the size the compiler's figures are measured on: 200 datasets,
// 1,000 dashboards, 10,000 charts.
var Large = Size{Datasets: 200, Dashboards: 1000, Charts: 10}

var chartTypes = []string{"line", "bar", "area", "pie", "table", "big_number", "scatter", "heatmap", "funnel", "bar"}

// Files returns the project's files by path.
func Files(size Size) map[string][]byte {
	files := map[string][]byte{
		"bic.yaml": []byte(`name: synthetic
connections:
  warehouse:
    type: postgres
    url: postgres://bic@127.0.0.1:5432/test
defaults:
  connection: warehouse
  timezone: Europe/Berlin
`),
	}
	for d := range size.Datasets {
		files[fmt.Sprintf("datasets/ds_%03d.yaml", d)] = []byte(dataset(d))
	}
	for b := range size.Dashboards {
		files[fmt.Sprintf("dashboards/dash_%04d.yaml", b)] = []byte(dashboard(b, size))
	}
	return files
}

func dataset(d int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dataset: ds_%03d\ndescription: Synthetic dataset %d\n", d, d)
	fmt.Fprintf(&b, "sql: |\n  select * from events_%d where tenant_id = %d\n", d%7, d)
	b.WriteString("dimensions:\n")
	b.WriteString("  created_at: {type: time, label: Created}\n  updated_at: {type: time}\n")
	for i := range 6 {
		fmt.Fprintf(&b, "  attr_%d: {type: string, expr: lower(attr_%d)}\n", i, i)
	}
	b.WriteString("  amount_band: {type: number, expr: floor(amount / 100)}\n  is_active: {type: boolean}\n")
	b.WriteString("metrics:\n")
	for i := range 8 {
		fmt.Fprintf(&b, "  m_%d: {expr: sum(value_%d), format: number}\n", i, i)
	}
	b.WriteString("  revenue: {expr: sum(amount), format: currency, currency: EUR}\n  rows: {expr: count(*)}\n")
	if d%10 == 0 {
		b.WriteString("refresh: \"0 * * * *\"\n")
	}
	return b.String()
}

func dashboard(n int, size Size) string {
	ds := fmt.Sprintf("ds_%03d", n%size.Datasets)
	var b strings.Builder
	fmt.Fprintf(&b, "dashboard: dash_%04d\ntitle: Dashboard %d\ndescription: Synthetic dashboard\n", n, n)
	fmt.Fprintf(&b, `filters:
  - {name: period, dataset: %[1]s, dimension: created_at, type: date_range, default: last_90_days}
  - {name: attr, dataset: %[1]s, dimension: attr_0, type: multi_select}
  - {name: band, dataset: %[1]s, dimension: amount_band, type: number_range}
`, ds)
	b.WriteString("charts:\n")
	var names []string
	for c := range size.Charts {
		name := fmt.Sprintf("chart_%02d", c)
		names = append(names, name)
		typ := chartTypes[(n+c)%len(chartTypes)]
		fmt.Fprintf(&b, "  - name: %s\n    title: Chart %d of %d\n    type: %s\n    dataset: %s\n", name, c, n, typ, ds)
		m := fmt.Sprintf("m_%d", c%8)
		switch typ {
		case "line", "area":
			fmt.Fprintf(&b, "    metrics: [%s, revenue]\n    x: created_at\n    grain: month\n    dimensions: [attr_1]\n", m)
		case "bar":
			fmt.Fprintf(&b, "    metrics: [%s]\n    x: attr_%d\n    sort: [-%s]\n    limit: 20\n", m, c%6, m)
		case "pie", "funnel":
			fmt.Fprintf(&b, "    metrics: [%s]\n    dimensions: [attr_2]\n", m)
		case "table":
			fmt.Fprintf(&b, "    metrics: [%s, rows]\n    dimensions: [attr_3, attr_4]\n    where:\n      - {dimension: is_active, op: \"=\", value: true}\n", m)
		case "big_number":
			fmt.Fprintf(&b, "    metrics: [%s]\n    x: created_at\n    grain: week\n    compare: previous_period\n", m)
		case "scatter":
			fmt.Fprintf(&b, "    metrics: [%s]\n    x: amount_band\n", m)
		case "heatmap":
			fmt.Fprintf(&b, "    metrics: [%s]\n    x: attr_1\n    dimensions: [attr_2]\n", m)
		}
	}
	b.WriteString("layout:\n")
	for i := 0; i < len(names); i += 2 {
		if i+1 < len(names) {
			fmt.Fprintf(&b, "  - [%s, %s]\n", names[i], names[i+1])
		} else {
			fmt.Fprintf(&b, "  - [%s]\n", names[i])
		}
	}
	return b.String()
}
