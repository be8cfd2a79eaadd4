package site

import (
	"embed"
	"html/template"
	"io/fs"
)

// assetFS holds what pages load besides themselves: ECharts 5.4.3 from the
// npm package echarts (dist/echarts.min.js; ECHARTS-LICENSE is the
// package's LICENSE followed by its NOTICE and licenses/LICENSE-d3), bic.js,
// which draws the charts and wires the filters, and bic.css.
//
//go:embed assets/echarts.min.js assets/ECHARTS-LICENSE assets/bic.js assets/bic.css
var assetFS embed.FS

//go:embed templates/*.html
var templateFS embed.FS

// pageTemplates are parsed once; they are never changed after.
var pageTemplates = template.Must(template.New("").ParseFS(templateFS, "templates/*.html"))

// ECharts is the version of ECharts that Assets holds.
const ECharts = "5.4.3"

// Assets returns every asset by name (echarts.min.js, ECHARTS-LICENSE,
// bic.js, bic.css): pages load them from their AssetsURL. Each call
// returns a new map; the bytes are shared and must not be changed.
func Assets() map[string][]byte {
	out := map[string][]byte{}
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		// The directory is embedded: it is always there.
		panic("site: read embedded assets: " + err.Error())
	}
	for _, e := range entries {
		b, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			panic("site: read embedded asset " + e.Name() + ": " + err.Error())
		}
		out[e.Name()] = b
	}
	return out
}
