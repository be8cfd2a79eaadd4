package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// manyResult is the second phase: a project of many one-chart
// dashboards, applied and served.
type manyResult struct {
	dashboards       int
	apply            time.Duration
	rssIdle, rssHot  int64         // after startup; after each page was requested once
	pages            time.Duration // requesting every page once, one at a time
	pageBytes        int64         // of all pages, raw
	artifacts        int64         // bytes in the file storage
	artifactsObjects int
}

// writeMany writes a DuckDB project on a five-row CSV file with n
// dashboards of one small bar chart each. Each chart has a metric of its
// own, so that every chart has its own data blob.
func writeMany(dir string, n int) error {
	files := map[string]string{
		"bic.yaml": `name: bench_serve
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
	var ds strings.Builder
	ds.WriteString("dataset: t\ntable: t\ndimensions:\n  country: {type: string}\nmetrics:\n")
	for i := range n {
		fmt.Fprintf(&ds, "  m_%04d: {expr: sum(amount) + %d}\n", i, i)
		files[fmt.Sprintf("dashboards/d_%04d.yaml", i)] = fmt.Sprintf(
			"dashboard: d_%04d\ntitle: Dashboard %d\ncharts:\n  - {name: c, title: Amount by country, type: bar, dataset: t, metrics: [m_%04d], x: country}\n", i, i, i)
	}
	files["datasets/t.yaml"] = ds.String()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// manyDashboards writes, validates, applies and serves a project of
// c.dashboards dashboards, requests each page once and reads the RSS.
func manyDashboards(ctx context.Context, c config, dir string) (*manyResult, error) {
	if err := writeMany(dir, c.dashboards); err != nil {
		return nil, err
	}
	if out, err := bicCmd(ctx, c.bic, "validate", "-p", dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("bic validate the generated project: %w\n%s", err, tail(out))
	}
	r := &manyResult{dashboards: c.dashboards}
	var err error
	if r.apply, err = apply(ctx, c.bic, dir); err != nil {
		return nil, err
	}
	r.artifacts, r.artifactsObjects, err = du(filepath.Join(dir, ".bic", "artifacts"))
	if err != nil {
		return nil, err
	}
	srv, err := startServe(ctx, c.bic, dir, filepath.Join(filepath.Dir(dir), "serve-many.log"), nil)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	if r.rssIdle, err = rss(srv.pid()); err != nil {
		return nil, err
	}
	links, err := dashboardLinks(ctx, srv.base)
	if err != nil {
		return nil, err
	}
	if len(links) != c.dashboards {
		return nil, fmt.Errorf("the index lists %d dashboards, want %d", len(links), c.dashboards)
	}
	start := time.Now()
	for _, l := range links {
		body, err := get(ctx, srv.base+"/"+strings.TrimPrefix(l, "/"), false)
		if err != nil {
			return nil, err
		}
		r.pageBytes += int64(len(body))
	}
	r.pages = time.Since(start)
	if r.rssHot, err = rss(srv.pid()); err != nil {
		return nil, err
	}
	return r, srv.stop()
}

// du is the bytes and number of files under dir.
func du(dir string) (int64, int, error) {
	var size int64
	var n int
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			size += info.Size()
			n++
		}
		return nil
	})
	return size, n, err
}
