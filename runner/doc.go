// Package runner holds the workers that compute what bic serves: query
// caches, CSV exports, thumbnails, alerts and reports. Its subpackages so
// far: warehouse (connectors that run SQL, one subpackage per warehouse),
// result (encoders of query results) and servicetest (which real services
// a test may use).
//
// It imports compiler and publish, never server.
package runner
