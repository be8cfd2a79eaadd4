package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
)

// Version is the renderer's version in every image key: a change to how
// pages are drawn (the browser's flags, the chart isolation, the wait)
// changes it, so images drawn the old way are not reused.
const Version = 1

// Key is the content address of an image of a page: the sha256 over the
// renderer's Version, the page blob's key, the asset blobs it loads
// (name and key), the data blobs it draws, the size and scale, and the
// chart drawn alone ("" for the whole dashboard).
//
// A page blob embeds its charts' data (and is itself named by the hash of
// its content), so the page key and the assets' keys already determine
// the image: chartDataKeys adds nothing for pages as bic writes them.
// They are hashed all the same, so that a caller for whom a page might
// load its data (a page that fetches from its API) gets a new key when the
// data changes; pass nil when the page embeds it. The result does not
// depend on the order of chartDataKeys or of the map.
//
// Key is for an image of the viewport; Request.Key also covers an image of
// the whole page height.
func Key(pageKey string, assets map[string]string, chartDataKeys []string, width, height int, scale float64, chart string) string {
	return imageKey(pageKey, assets, chartDataKeys, width, height, scale, chart, false, false)
}

// Key is the content address (see the function Key) of the image that
// Render draws for q.
func (q Request) Key(chartDataKeys []string) string {
	pageKey, assets := q.page()
	return imageKey(pageKey, assets, chartDataKeys, q.Width, q.Height, q.Scale, q.Chart, q.Full && q.Chart == "", false)
}

// CellKey is the content address of chart's card as Render draws it for
// q with Cells set: the page, its assets, the width and scale (the page's
// whole height is drawn, so Height does not count) and the chart.
func (q Request) CellKey(chart string) string {
	pageKey, assets := q.page()
	return imageKey(pageKey, assets, nil, q.Width, 0, q.Scale, chart, true, true)
}

// page is the page blob q draws and the assets it loads.
func (q Request) page() (pageKey string, assets map[string]string) {
	pageKey = q.PageKey
	if q.Release != nil {
		if pageKey == "" {
			pageKey = q.Release.Dashboards[q.Dashboard].Page
		}
		assets = q.Release.Assets
	}
	return pageKey, assets
}

func imageKey(pageKey string, assets map[string]string, chartDataKeys []string, width, height int, scale float64, chart string, full, cell bool) string {
	names := slices.Sorted(maps.Keys(assets))
	as := make([][2]string, 0, len(names))
	for _, n := range names {
		as = append(as, [2]string{n, assets[n]})
	}
	data := slices.Clone(chartDataKeys)
	slices.Sort(data)
	data = slices.Compact(data)
	if scale == 0 {
		scale = 1
	}
	doc := struct {
		Version int         `json:"version"`
		Page    string      `json:"page"`
		Assets  [][2]string `json:"assets"`
		Data    []string    `json:"data"`
		Width   int         `json:"width"`
		Height  int         `json:"height"`
		Scale   string      `json:"scale"`
		Chart   string      `json:"chart"`
		Full    bool        `json:"full,omitempty"`
		Cell    bool        `json:"cell,omitempty"`
	}{Version, pageKey, as, data, width, height, strconv.FormatFloat(scale, 'g', -1, 64), chart, full, cell}
	b, err := json.Marshal(doc)
	if err != nil {
		// Strings, ints and a formatted float always encode.
		panic("render: encode an image key: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
