package site

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/bic-dev/bic/compiler"
)

// Options are what a page needs besides the manifest and the data.
type Options struct {
	// Env is the environment the page belongs to, shown in its header.
	Env string
	// AssetsURL is the relative prefix of the assets: every asset's URL is
	// AssetsURL+name, such as "../../assets/echarts.min.js".
	AssetsURL string
	// APIURL is the relative prefix of the chart data API: after a filter
	// change the page fetches APIURL+"DASHBOARD/CHART?STATE". Empty means
	// "api/charts/", relative to the page.
	APIURL string
	// FilterValues holds the choices of select and multi_select filters
	// that have no static values: the distinct values of the dimension.
	FilterValues map[string][]any
	// State is the viewer's filter state, shown in the controls; nil means
	// the defaults. A filter missing from it shows its default, one set to
	// nil shows nothing chosen.
	State map[string]any
	// Pages lists the dashboard's precomputed states and the file of each
	// in a static export (StatePageFile), the default's included: there
	// a filter change to one of them opens its page, since a static host
	// has no API to ask.
	Pages []StatePage
	// StatePage is set on the page of a precomputed state other than the
	// default: Reset leads to the default page instead of restoring the
	// controls.
	StatePage bool
}

// StatePage is a precomputed state as a viewer reaches it: what to choose
// (nil for the default) and the file of its page in a static export.
type StatePage struct {
	Chosen map[string]any
	File   string
}

// StatePageFile is the file of a dashboard's page for a precomputed
// state in a static export, beside DASHBOARD.html so that its relative
// references resolve the same; the default state's key gives
// DASHBOARD.html. Names hold no dot, so the two cannot meet.
func StatePageFile(dashboard, stateKey string, isDefault bool) string {
	if isDefault || len(stateKey) < 16 {
		return dashboard + ".html"
	}
	return dashboard + "." + stateKey[:16] + ".html"
}

// ChartData is one chart's precomputed result.
type ChartData struct {
	JSON       []byte // the result blob: {"columns":[…],"rows":[…]}
	CSVURL     string // relative URL of the CSV blob
	ComputedAt time.Time
	Stale      bool // older than its dataset's refresh schedule
	// StaleAt is when the data goes stale (zero: never); the page marks it
	// stale from then on by the viewer's clock.
	StaleAt time.Time
}

// ErrAbsoluteURL is returned for a URL option that is not relative: a page
// must work from any host and from a static export.
var ErrAbsoluteURL = errors.New("URL is not relative")

// defaultAPIURL is where the chart API is, relative to the page.
const defaultAPIURL = "api/charts/"

// RenderDashboard renders the page of one dashboard of m with the data of
// its charts (keyed by chart name; a chart without data says so).
func RenderDashboard(m *compiler.Manifest, dashboard string, data map[string]ChartData, o Options) ([]byte, error) {
	d, ok := m.Dashboard(dashboard)
	if !ok {
		return nil, fmt.Errorf("render dashboard %q: no such dashboard", dashboard)
	}
	if o.APIURL == "" {
		o.APIURL = defaultAPIURL
	}
	for what, u := range map[string]string{"assets URL": o.AssetsURL, "API URL": o.APIURL} {
		if err := checkRelative(u); err != nil {
			return nil, fmt.Errorf("render dashboard %s: %s %q: %w", dashboard, what, u, err)
		}
	}
	loc, err := m.Location()
	if err != nil {
		return nil, fmt.Errorf("render dashboard %s: %w", dashboard, err)
	}
	spec := d.Spec
	pv := pageView{
		Title:       spec.Title,
		Description: spec.Description,
		Env:         o.Env,
		Assets:      o.AssetsURL,
	}
	byName := make(map[string]compiler.Chart, len(spec.Charts))
	for _, c := range spec.Charts {
		byName[c.Name] = c
	}
	placed := map[string]bool{}
	rows := spec.Layout
	for _, row := range rows {
		for _, cell := range row {
			placed[cell.Chart] = true
		}
	}
	// The manifest's layout places every chart; keep any it left out
	// visible all the same, one full-width row each.
	for _, c := range spec.Charts {
		if !placed[c.Name] {
			rows = append(rows, []compiler.Cell{{Chart: c.Name, Width: 12}})
		}
	}
	for _, row := range rows {
		var rv []cellView
		for _, cell := range row {
			c, ok := byName[cell.Chart]
			if !ok {
				return nil, fmt.Errorf("render dashboard %s: layout names chart %q, which it does not have", dashboard, cell.Chart)
			}
			ds, _ := m.Dataset(c.Dataset)
			cd, has := data[c.Name]
			cv, err := chartViewOf(dashboard, c, ds.Spec, cd, has, o.APIURL, loc)
			if err != nil {
				return nil, fmt.Errorf("render dashboard %s: chart %s: %w", dashboard, c.Name, err)
			}
			width := cell.Width
			if width < 1 || width > 12 {
				width = 12
			}
			rv = append(rv, cellView{Width: width, Height: cell.Height, Chart: cv})
		}
		pv.Rows = append(pv.Rows, rv)
	}
	pv.Filters, pv.Config, err = filtersOf(m, dashboard, spec, o)
	if err != nil {
		return nil, fmt.Errorf("render dashboard %s: %w", dashboard, err)
	}
	var buf bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&buf, "dashboard.html", pv); err != nil {
		return nil, fmt.Errorf("render dashboard %s: %w", dashboard, err)
	}
	return buf.Bytes(), nil
}

// checkRelative refuses a URL with a scheme, a host or an absolute path.
func checkRelative(s string) error {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "\\") {
		return ErrAbsoluteURL
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "" || u.Host != "" {
		return ErrAbsoluteURL
	}
	return nil
}

type pageView struct {
	Title, Description, Env string
	Assets                  string
	Filters                 []filterView
	Rows                    [][]cellView
	Config                  template.JS
}

// Asset is the URL of an asset.
func (p pageView) Asset(name string) string { return p.Assets + name }

type cellView struct {
	Width, Height int
	Chart         chartView
}

type chartView struct {
	Name, Title, Description, Type string
	CSVURL                         string
	AsOf, AsOfISO                  string
	Stale                          bool
	StaleAtISO                     string
	Missing                        bool
	Big                            *bigView
	Table                          *tableView
	Spec                           template.JS
	Data                           template.JS
}

// Drawn reports whether ECharts draws the chart.
func (c chartView) Drawn() bool { return c.Big == nil && c.Table == nil && !c.Missing }

// columnSpec is what bic.js knows of a data column.
type columnSpec struct {
	Label  string        `json:"label"`
	Type   string        `json:"type"` // a dimension's type, or "metric"
	Format *numberFormat `json:"format,omitempty"`
}

// chartSpec is a chart as bic.js draws it.
type chartSpec struct {
	Name    string                `json:"name"`
	Type    string                `json:"type"`
	Layout  layout                `json:"layout"`
	X       string                `json:"x,omitempty"`
	Grain   string                `json:"grain,omitempty"`
	Metrics []string              `json:"metrics"`
	Columns map[string]columnSpec `json:"columns"`
	Compare string                `json:"compare,omitempty"`
	Options map[string]any        `json:"options,omitempty"`
	ECharts map[string]any        `json:"echarts,omitempty"`
	API     string                `json:"api"`
}

func chartViewOf(dashboard string, c compiler.Chart, ds compiler.Dataset, cd ChartData, has bool, api string, loc *time.Location) (chartView, error) {
	cv := chartView{Name: c.Name, Title: c.Title, Description: c.Description, Type: c.Type}
	if cv.Title == "" {
		cv.Title = c.Name
	}
	spec := chartSpec{
		Name: c.Name, Type: c.Type, Layout: layoutOf(c), X: c.X, Grain: c.Grain, Metrics: c.Metrics,
		Columns: map[string]columnSpec{}, Compare: c.Compare, Options: c.Options,
		API: api + url.PathEscape(dashboard) + "/" + url.PathEscape(c.Name),
	}
	for _, name := range c.Metrics {
		f := formatOf(ds.Metrics[name])
		spec.Columns[name] = columnSpec{Label: metricLabel(ds, name), Type: "metric", Format: &f}
	}
	for _, name := range append([]string{c.X}, c.Dimensions...) {
		if name != "" {
			spec.Columns[name] = columnSpec{Label: dimensionLabel(ds, name), Type: ds.Dimensions[name].Type}
		}
	}
	opt, err := echartsOption(c, ds)
	if err != nil {
		return cv, err
	}
	spec.ECharts = opt
	specJSON, err := scriptJSON(spec)
	if err != nil {
		return cv, err
	}
	cv.Spec = specJSON

	if !has || len(cd.JSON) == 0 {
		cv.Missing = true
		cv.Data = "null"
		return cv, nil
	}
	if err := checkRelative(cd.CSVURL); err != nil {
		return cv, fmt.Errorf("CSV URL %q: %w", cd.CSVURL, err)
	}
	cv.CSVURL = cd.CSVURL
	cv.Stale = cd.Stale
	if !cd.StaleAt.IsZero() {
		cv.StaleAtISO = cd.StaleAt.UTC().Format(time.RFC3339)
	}
	if !cd.ComputedAt.IsZero() {
		t := cd.ComputedAt.In(loc)
		cv.AsOf = t.Format("2 Jan 2006 15:04 MST")
		cv.AsOfISO = t.Format(time.RFC3339)
	}
	res, err := parseResult(cd.JSON)
	if err != nil {
		return cv, err
	}
	raw, err := rawScriptJSON(cd.JSON)
	if err != nil {
		return cv, err
	}
	cv.Data = raw
	switch c.Type {
	case typeBigNumber:
		cv.Big = bigNumberOf(c, ds, res)
	case typeTable:
		cv.Table = tableOf(c, ds, res)
	}
	return cv, nil
}

// scriptJSON encodes v for a <script type="application/json"> element:
// encoding/json writes <, > and & as \u003c, \u003e and \u0026, so no
// value can close the element.
func scriptJSON(v any) (template.JS, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return template.JS(b), nil
}

// rawScriptJSON is scriptJSON for JSON that is already encoded: it is
// checked, then <, >, &, U+2028 and U+2029 inside its strings are escaped
// (outside strings, valid JSON has none of them).
func rawScriptJSON(b []byte) (template.JS, error) {
	if !json.Valid(b) {
		return "", errors.New("the chart's data is not valid JSON")
	}
	var buf bytes.Buffer
	json.HTMLEscape(&buf, bytes.TrimSpace(b))
	return template.JS(buf.String()), nil
}
