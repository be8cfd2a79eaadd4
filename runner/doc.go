// Package runner holds the workers that compute what bic serves: query
// caches, CSV exports, thumbnails, alerts and reports.
//
// Chart execution lives here, so that bic query, the runner's chart_data
// jobs, the server's on-demand path and bic dev share it: RunChart runs a
// planned chart query on its warehouse and streams the rows to an encoder;
// ChartData writes a chart's JSON and CSV from one pass over them. The
// warehouse connection comes through Opener, an interface this package
// defines and the binary supplies, so the runner reads no configuration
// and links no warehouse driver itself.
//
// Its subpackages so far: warehouse (connectors that run SQL, one
// subpackage per warehouse), result (encoders of query results) and
// servicetest (which real services a test may use).
//
// It imports compiler, publish and its own subpackages, never server or
// cmd (compiler/imports_test.go lists what each layer may import).
package runner
