package site

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestAssets(t *testing.T) {
	a := Assets()
	for _, name := range []string{"echarts.min.js", "ECHARTS-LICENSE", "bic.js", "bic.css"} {
		if len(a[name]) == 0 {
			t.Errorf("asset %s is missing or empty", name)
		}
	}
	if len(a) != 4 {
		t.Errorf("Assets() has %d assets, want 4", len(a))
	}
	if !bytes.Contains(a["echarts.min.js"], []byte(`version="`+ECharts+`"`)) {
		t.Errorf("echarts.min.js is not ECharts %s", ECharts)
	}
	if !bytes.Contains(a["ECHARTS-LICENSE"], []byte("Apache License")) {
		t.Error("ECHARTS-LICENSE is not ECharts' Apache license")
	}
	// Only ECharts itself may name another host (in comments and its
	// license text); bic's own assets load nothing from anywhere.
	for _, name := range []string{"bic.js", "bic.css"} {
		if loc := externalURL.FindIndex(a[name]); loc != nil {
			t.Errorf("%s names another host: %s", name, a[name][loc[0]:min(len(a[name]), loc[1]+40)])
		}
	}
}

// TestRefusesAbsoluteURLs: a page must work from any host and from a
// static export, so every URL it is given must be relative.
func TestRefusesAbsoluteURLs(t *testing.T) {
	m := tinyManifest(t, "  - {name: c, type: bar, dataset: orders, metrics: [orders], x: channel}\n")
	data := fixtureData(t, m, "tiny")
	withCSV := func(u string) map[string]ChartData {
		d := data["c"]
		d.CSVURL = u
		return map[string]ChartData{"c": d}
	}
	tests := []struct {
		name string
		data map[string]ChartData
		opts Options
	}{
		{"assets on a CDN", data, Options{AssetsURL: "https://cdn.example.com/"}},
		{"assets without a scheme", data, Options{AssetsURL: "//cdn.example.com/"}},
		{"assets at the root", data, Options{AssetsURL: "/assets/"}},
		{"API on another host", data, Options{APIURL: "http://api.example.com/charts/"}},
		{"CSV on another host", withCSV("https://example.com/x.csv"), Options{}},
		{"CSV as javascript", withCSV("javascript:alert(1)"), Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RenderDashboard(m, "tiny", tt.data, tt.opts)
			if !errors.Is(err, ErrAbsoluteURL) {
				t.Errorf("err = %v, want ErrAbsoluteURL", err)
			}
		})
	}
	_, err := RenderIndex([]IndexEnv{{Name: "prod", Dashboards: []IndexDashboard{{Name: "d", URL: "https://example.com/"}}}})
	if !errors.Is(err, ErrAbsoluteURL) {
		t.Errorf("index: err = %v, want ErrAbsoluteURL", err)
	}
}

func TestMissingData(t *testing.T) {
	m := tinyManifest(t, "  - {name: c, type: bar, dataset: orders, metrics: [orders], x: channel}\n")
	page, err := RenderDashboard(m, "tiny", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkPage(t, page)
	if !bytes.Contains(page, []byte("No data yet")) {
		t.Error("a chart without data does not say so")
	}
	if _, err := RenderDashboard(m, "nope", nil, Options{}); err == nil {
		t.Error("no error for an unknown dashboard")
	}
}

func TestStale(t *testing.T) {
	m := tinyManifest(t, "  - {name: c, type: bar, dataset: orders, metrics: [orders], x: channel}\n")
	data := fixtureData(t, m, "tiny")
	d := data["c"]
	d.Stale = true
	d.ComputedAt = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	page, err := RenderDashboard(m, "tiny", map[string]ChartData{"c": d}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The project has no time zone: UTC.
	for _, want := range []string{`class="bic-stale"`, `as of <time datetime="2026-07-01T12:00:00Z">1 Jul 2026 12:00 UTC</time>`} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %s", want)
		}
	}
}
