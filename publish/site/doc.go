// Package site renders what viewers see: a dashboard's page
// (RenderDashboard), the index of environments and dashboards
// (RenderIndex), and the assets pages load (Assets): ECharts 5.4.3 from
// the npm package echarts, bic.js and bic.css, embedded in the binary.
//
// A page is one HTML document that holds everything it draws: the
// layout's 12-column grid, the filter controls showing the viewer's
// state, and per chart an ECharts option built with go-echarts (axes,
// legend, tooltip, one series template per metric; no data) beside the
// chart's precomputed data blob, both as JSON in <script
// type="application/json"> elements. bic.js fills the series from the data
// (one per metric and value of the series dimension), formats numbers as
// format.go does, renders big numbers and sortable, paged tables, and
// redraws after a filter change. Big numbers and tables are rendered in
// the HTML too, so they read without JavaScript.
//
// Every URL in a page is relative (asset, CSV and API prefixes are
// refused otherwise, ErrAbsoluteURL), and nothing loads from another host,
// so a page works from bic serve and from a static export alike.
// go-echarts' own page templates are not used: they load ECharts from a
// CDN.
//
// Filter state in the URL: the query string holds one NAME=VALUE per
// filter of the dashboard, the value written as `bic query --filter` takes
// it: a select's value, a multi_select's values joined by commas, a
// date_range's named range or FROM..TO (FROM.. for an open end; a range
// with only an end is written 0001-01-01..TO), a number_range's MIN..MAX
// with either side empty, and NAME= for a filter that restricts nothing.
// Every filter is written, in the dashboard's order. When that state is
// not the page's own, bic.js fetches APIURL+"DASHBOARD/CHART?"+STATE for
// each chart and expects the result blob ({"columns","rows"}), or
// {"data": blob, "computed_at", "csv_url"}; a 404, another error status or
// no server at all (a static export, a file:// page) is shown on the
// chart and in a banner.
//
// The package imports the compiler (for the Manifest) and go-echarts; it
// does no I/O and must not import storage, the runner or the server.
package site
