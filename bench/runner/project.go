package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bic-dev/bic/compiler"
)

// chartsPerDashboard keeps the dashboards, and so the thumbnail jobs that
// wait for their charts, few: 20 for 10,000 charts.
const chartsPerDashboard = 500

// project is the generated project of trivial charts, compiled.
type project struct {
	dir        string
	charts     int
	dashboards int
	manifest   *compiler.Manifest
}

// writeProject writes a DuckDB project on a five-row CSV file with n
// charts, and compiles it. Each chart asks for a metric of its own (the
// row count plus the chart's number), so every chart has its own input key
// and its own JSON and CSV blobs: storage deduplicates blobs by content,
// and identical results would make every upload after the first a no-op.
func writeProject(dir string, n int) (*project, error) {
	dashboards := (n + chartsPerDashboard - 1) / chartsPerDashboard
	files := map[string]string{
		"bic.yaml": `name: bench_runner
connections:
  local:
    type: duckdb
    files:
      t: data/t.csv
defaults:
  connection: local
  timezone: UTC
`,
		"data/t.csv": "id,country,amount\n1,DE,10\n2,FR,20\n3,DE,30\n4,NL,40\n5,FR,50\n",
	}
	for d := range dashboards {
		first, last := d*chartsPerDashboard, min((d+1)*chartsPerDashboard, n)
		var ds, dash strings.Builder
		fmt.Fprintf(&ds, "dataset: t_%03d\ntable: t\ndimensions:\n  country: {type: string}\nmetrics:\n", d)
		fmt.Fprintf(&dash, "dashboard: d_%03d\ntitle: Dashboard %d\ncharts:\n", d, d)
		for i := first; i < last; i++ {
			fmt.Fprintf(&ds, "  m_%05d: {expr: count(*) + %d}\n", i, i)
			fmt.Fprintf(&dash, "  - {name: c_%05d, type: table, dataset: t_%03d, metrics: [m_%05d], dimensions: [country]}\n", i, d, i)
		}
		files[fmt.Sprintf("datasets/t_%03d.yaml", d)] = ds.String()
		files[fmt.Sprintf("dashboards/d_%03d.yaml", d)] = dash.String()
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			return nil, err
		}
	}
	s, err := compiler.NewSchema()
	if err != nil {
		return nil, err
	}
	res, err := compiler.New(s).Compile(context.Background(), os.DirFS(dir))
	if err != nil {
		return nil, err
	}
	if res.Manifest == nil {
		return nil, fmt.Errorf("generated project: %v", res.Diagnostics[:min(3, len(res.Diagnostics))])
	}
	if got := len(res.Manifest.Charts); got != n {
		return nil, fmt.Errorf("generated project: %d charts, want %d", got, n)
	}
	return &project{dir: dir, charts: n, dashboards: dashboards, manifest: res.Manifest}, nil
}
