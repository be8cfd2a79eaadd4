package render

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"testing"
	"testing/fstest"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/site"
	"github.com/bic-dev/bic/publish/storage"
)

const fixtureProject = `name: pics
connections:
  db:
    type: postgres
    url: ${env:DATABASE_URL}
`

const fixtureDataset = `dataset: orders
table: orders
dimensions:
  ordered_at: {type: time, label: Order date}
  channel: {type: string, label: Sales channel}
  hour: {type: number}
  weekday: {type: number}
metrics:
  revenue: {expr: sum(amount), format: currency, currency: EUR, decimals: 0}
  orders: {expr: count(*)}
`

// allTypes is a dashboard with one chart of each of the language's nine
// types, named after its type.
const allTypes = `dashboard: all
title: Every chart type
charts:
  - {name: line, type: line, dataset: orders, metrics: [revenue], x: ordered_at, grain: month, dimensions: [channel]}
  - {name: bar, type: bar, dataset: orders, metrics: [orders], x: channel}
  - {name: area, type: area, dataset: orders, metrics: [revenue], x: ordered_at, grain: month, dimensions: [channel], options: {stacked: true}}
  - {name: pie, type: pie, dataset: orders, metrics: [revenue], dimensions: [channel]}
  - {name: table, type: table, dataset: orders, metrics: [orders, revenue], dimensions: [channel]}
  - {name: big_number, type: big_number, dataset: orders, metrics: [revenue], x: ordered_at, grain: month, compare: previous_period}
  - {name: scatter, type: scatter, dataset: orders, metrics: [revenue], x: hour, dimensions: [channel]}
  - {name: heatmap, type: heatmap, dataset: orders, metrics: [orders], x: weekday, dimensions: [hour]}
  - {name: funnel, type: funnel, dataset: orders, metrics: [orders], dimensions: [channel], sort: [-orders]}
`

// gaps is a dashboard with a chart that has data, one that has none
// (never computed) and one whose result has no rows.
const gaps = `dashboard: gaps
title: Gaps
charts:
  - {name: fine, type: bar, dataset: orders, metrics: [orders], x: channel}
  - {name: missing, type: line, dataset: orders, metrics: [revenue], x: ordered_at, grain: month}
  - {name: empty, type: pie, dataset: orders, metrics: [revenue], dimensions: [channel]}
`

// chartTypes are the charts of the dashboard all.
var chartTypes = []string{"line", "bar", "area", "pie", "table", "big_number", "scatter", "heatmap", "funnel"}

// fixture is a published release in a file store.
type fixture struct {
	store *storage.FileStore
	rel   *release.Release
	key   string
}

// newFixture compiles the project, computes small fixed data for its
// charts (none for gaps/missing, no rows for gaps/empty), renders the
// pages with publish/site and stores pages, data and assets as a runner's
// publish does, with extra pages by dashboard name stored as they are.
func newFixture(t testing.TB, extra map[string]string) *fixture {
	t.Helper()
	ctx := context.Background()
	s, err := compiler.NewSchema()
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.New(s).Compile(ctx, fstest.MapFS{
		"bic.yaml":             {Data: []byte(fixtureProject)},
		"datasets/orders.yaml": {Data: []byte(fixtureDataset)},
		"dashboards/all.yaml":  {Data: []byte(allTypes)},
		"dashboards/gaps.yaml": {Data: []byte(gaps)},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if m == nil {
		t.Fatalf("the fixture does not compile:\n%v", res.Diagnostics)
	}
	store, err := storage.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	put := func(b []byte) string {
		blob, err := store.PutBlob(ctx, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return blob.Key
	}
	rel := &release.Release{Version: release.Version, Env: "prod", Revision: 1, PublishedAt: time.Now().UTC(),
		Charts: map[string]release.Chart{}, Dashboards: map[string]release.Dashboard{}, Assets: map[string]string{}}
	for name, b := range site.Assets() {
		rel.Assets[name] = put(b)
	}
	computed := time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)
	for _, d := range m.Dashboards {
		name := d.Spec.Name
		data := map[string]site.ChartData{}
		var refs []string
		for _, c := range d.Spec.Charts {
			ref := compiler.ChartID(name, c.Name).Name()
			refs = append(refs, ref)
			if name == "gaps" && c.Name == "missing" {
				continue
			}
			ds, _ := m.Dataset(c.Dataset)
			js := fixtureJSON(t, c, ds.Spec, !(name == "gaps" && c.Name == "empty"))
			jsonKey, csvKey := put(js), put([]byte("a,b\n1,2\n"))
			rel.Charts[ref] = release.Chart{Hash: "h-" + ref, Default: "default", States: map[string]release.Data{
				"default": {JSON: jsonKey, CSV: csvKey, Rows: 1, ComputedAt: computed},
			}}
			data[c.Name] = site.ChartData{JSON: js, CSVURL: "../csv/" + ref, ComputedAt: computed}
		}
		html, err := site.RenderDashboard(m, name, data, site.Options{Env: rel.Env, AssetsURL: "../assets/", APIURL: "../api/charts/"})
		if err != nil {
			t.Fatal(err)
		}
		rel.Dashboards[name] = release.Dashboard{Title: d.Spec.Title, Page: put(html), Charts: refs}
	}
	for name, html := range extra {
		rel.Dashboards[name] = release.Dashboard{Title: name, Page: put([]byte(html))}
	}
	blob, err := release.Write(ctx, store, rel)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: store, rel: rel, key: blob.Key}
}

// fixtureJSON is a chart's result in the shape runner/result writes: the
// chart's x, its dimensions, then its metrics (each followed by
// NAME_previous for a compared big number), with 4 values of each
// group-by column, or no rows.
func fixtureJSON(t testing.TB, c compiler.Chart, ds compiler.Dataset, rows bool) []byte {
	t.Helper()
	type column struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	var cols []column
	var group []string
	if c.X != "" {
		group = append(group, c.X)
	}
	group = append(group, c.Dimensions...)
	for _, g := range group {
		cols = append(cols, column{g, ds.Dimensions[g].Type})
	}
	for _, m := range c.Metrics {
		cols = append(cols, column{m, "number"})
		if c.Compare != "" {
			cols = append(cols, column{m + "_previous", "number"})
		}
	}
	n := 4
	if c.Type == "big_number" {
		n = 1
	}
	combos := [][]int{{}}
	for range group {
		var next [][]int
		for _, cmb := range combos {
			for i := range n {
				next = append(next, append(append([]int(nil), cmb...), i))
			}
		}
		combos = next
	}
	out := [][]any{}
	for k, cmb := range combos {
		if !rows {
			break
		}
		var row []any
		for gi, g := range group {
			switch ds.Dimensions[g].Type {
			case "time":
				row = append(row, time.Date(2025, time.Month(9+cmb[gi]), 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339))
			case "number":
				row = append(row, cmb[gi]+1)
			default:
				row = append(row, fmt.Sprintf("%s %d", g, cmb[gi]+1))
			}
		}
		for mi := range c.Metrics {
			v := 100 + 37*((k*7+mi*3)%11)
			row = append(row, v)
			if c.Compare != "" {
				row = append(row, v+50)
			}
		}
		out = append(out, row)
	}
	b, err := json.Marshal(map[string]any{"columns": cols, "rows": out})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pixelStats describes an image: the standard deviation of its pixels'
// luminance and how many distinct colours it has.
func pixelStats(t testing.TB, b []byte) (img image.Image, stddev float64, colours int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the image is not a PNG: %v", err)
	}
	var sum, sq float64
	seen := map[uint32]bool{}
	bounds := img.Bounds()
	n := 0
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			l := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)) / 257
			sum += l
			sq += l * l
			n++
			seen[(r>>8)<<16|(g>>8)<<8|b>>8] = true
		}
	}
	mean := sum / float64(n)
	return img, math.Sqrt(max(sq/float64(n)-mean*mean, 0)), len(seen)
}
