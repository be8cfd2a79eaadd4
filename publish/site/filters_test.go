package site

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

func TestFilterControls(t *testing.T) {
	dashboard := `dashboard: tiny
title: Tiny
filters:
  - {name: period, dataset: orders, dimension: ordered_at, type: date_range, default: last_24_hours}
  - {name: channel, dataset: orders, dimension: channel, type: select, values: [web, app], default: web}
  - {name: channels, dataset: orders, dimension: channel, type: multi_select}
  - {name: hour, dataset: orders, dimension: hour, type: number_range, default: {min: 8}}
charts:
  - {name: c, type: bar, dataset: orders, metrics: [orders], x: channel}
`
	m := compileProject(t, fstest.MapFS{
		"bic.yaml":             {Data: []byte(tinyProject)},
		"datasets/orders.yaml": {Data: []byte(tinyDataset)},
		"dashboards/tiny.yaml": {Data: []byte(dashboard)},
	})
	tests := []struct {
		name    string
		opts    Options
		want    []string
		notWant []string
	}{
		{"defaults", Options{}, []string{
			`<option value="last_24_hours" selected>last 24 hours</option>`,
			`<option value="web" selected>web</option>`,
			`<input type="text" name="channels" value="" placeholder="any (a, b, …)">`,
			`name="hour.min" value="8"`, `name="hour.max" value=""`,
			`<script type="application/json" id="bic-config">{"dashboard":"tiny","timezone":"UTC","filters":[{"name":"period","type":"date_range"},{"name":"channel","type":"select"},{"name":"channels","type":"multi_select"},{"name":"hour","type":"number_range"}]}</script>`,
		}, nil},
		{"values from the data", Options{FilterValues: map[string][]any{"channels": {"web", "app", "marketplace"}}}, []string{
			`<select name="channels" multiple size="3"><option value="web">web</option><option value="app">app</option><option value="marketplace">marketplace</option></select>`,
		}, nil},
		{"the viewer's state", Options{
			FilterValues: map[string][]any{"channels": {"web", "app"}},
			State: map[string]any{
				"period":   map[string]any{"from": "2025-01-01", "to": "2025-03-31"},
				"channel":  nil,
				"channels": []any{"app", "partner"},
				"hour":     map[string]any{"min": 2.5, "max": 20},
			},
		}, []string{
			`<option value="" selected>from … to …</option>`,
			`name="period.from" value="2025-01-01"`, `name="period.to" value="2025-03-31"`,
			`<option value="">All</option><option value="web">web</option>`,
			`<option value="app" selected>app</option><option value="partner" selected>partner</option>`,
			`name="hour.min" value="2.5"`, `name="hour.max" value="20"`,
		}, []string{`<option value="web" selected>`}},
		{"many values get a search field", Options{FilterValues: map[string][]any{"channels": manyValues(20)}}, []string{
			`<legend>Sales channel</legend>
<input type="search" class="bic-search" placeholder="search…" aria-label="search Sales channel">`, `<option value="v19">v19</option>`,
		}, nil},
		{"a span as text", Options{State: map[string]any{"period": "2025-07-01.."}}, []string{
			`name="period.from" value="2025-07-01"`, `name="period.to" value=""`, `<option value="" selected>`,
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := RenderDashboard(m, "tiny", nil, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkPage(t, page)
			for _, w := range tt.want {
				if !strings.Contains(string(page), w) {
					t.Errorf("page lacks %s", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(string(page), w) {
					t.Errorf("page has %s", w)
				}
			}
		})
	}
}

func manyValues(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("v%d", i)
	}
	return out
}
