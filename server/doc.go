// Package server is bic's read-only HTTP server: it serves what runners
// published, from object storage only. It reads an environment's pointer
// (envs/<env>/current), the release that the pointer names and the blobs
// that the release names; it needs no metadata DB, no warehouse and no
// compiler, so it can run anywhere that can read the bucket.
//
// # URLs
//
//	/                                    environments and their dashboards
//	/e/ENV/d/DASHBOARD                   the dashboard's page
//	/e/ENV/api/charts/DASHBOARD/CHART    a chart's JSON for ?FILTER=VALUE…
//	/e/ENV/csv/DASHBOARD/CHART           the same data as a CSV download
//	/e/ENV/assets/NAME, /assets/NAME     the release's assets by name
//	/e/ENV/blobs/ab/cdef…, /blobs/ab/…   a blob that a current release names
//	/healthz, /readyz, /metrics          probes and Prometheus
//
// A chart's filter state is read from the query (see stateFromQuery),
// normalised with filterstate against the dashboard's filters, and looked
// up by its key in the release. A state that was not precomputed is asked
// of an OnDemand, or answered 404 with its key when there is none.
//
// # Caching
//
// Blobs are immutable, so the server keeps hot ones in memory (a
// least-recently-used set bounded by Options.CacheBytes, with their gzip
// forms) and never revalidates them; their sha256 is their
// strong ETag. Releases are cached by key. A pointer is re-read at most
// once per Options.PointerTTL, one read per environment at a time, so a
// publish is visible within PointerTTL plus one read. URLs that go through
// a pointer say no-cache (a browser revalidates with If-None-Match and
// usually gets a 304); content-addressed ones are immutable.
//
// Serve and ServeListener run it as an http.Server with timeouts and a
// graceful shutdown; New alone is an http.Handler, for tests and for a
// caller that wires its own.
//
// # Safety
//
// Only GET and HEAD are answered. A path with an escape, a backslash, an
// empty or dot segment, or a name outside [A-Za-z0-9_-] is 404 before
// anything is read, and /blobs/ serves only keys that a current release
// names, so no URL reaches a key outside what is published. A panic in a
// handler is a 500, and the server goes on.
//
// With Options.Auth set to token (bic serve --auth token), every
// environment is readable only with a token for it or a signed link
// (publish/access): the allow-list of token hashes is read from storage,
// so the server still needs no database.
//
// It imports only publish/storage, publish/release, publish/access,
// compiler/query/filterstate and timewindow, Prometheus, x/sync, brotli
// and NATS (for OnDemand), never the compiler, runner or a warehouse
// driver: the import rules test in compiler/ keeps it so.
package server
