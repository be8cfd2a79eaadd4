// Package runner holds the workers that compute what bic serves: query
// caches, CSV exports, thumbnails, alerts and reports. Its subpackages:
// warehouse (connectors that run SQL), result (encoders of query results).
package runner
