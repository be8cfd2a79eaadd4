// Package metrics is what bic runner --metrics-addr exports to
// Prometheus: jobs finished by kind and outcome, how long each phase of a
// job took, cache lookups, warehouse queries, the queue's depth and the
// jobs in flight, served on /metrics beside a /healthz probe.
//
// The worker reports through a *Metrics; a nil *Metrics is a valid no-op,
// so tests and embedded runs (bic dev) pass nil and export nothing. The
// registry is the caller's: New registers on the Registerer it is given,
// never on Prometheus' global default.
//
// It imports the standard library and Prometheus' client, never
// compiler, publish, server or cmd: what it counts is told to it.
package metrics
