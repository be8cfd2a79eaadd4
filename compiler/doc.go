// Package compiler turns a project's files into a checked, content-hashed
// Manifest: load (YAML and CUE into position-carrying trees), schema (unify
// every object with its CUE definition), resolve (check every reference by
// name) and hash.
//
// It is pure: files come in through an fs.FS, and diagnostics and the
// Manifest come out. It must not import database drivers, NATS, object
// storage, browsers, net/http or a logger.
//
// Plan diffs two manifests and lists the jobs a revision needs. Query
// planning and SQL are the subpackage query's; its leaf filterstate gives
// a filter state's key (FilterDashboard describes a dashboard to it, and
// NormalizeState applies it), and query.InputKey a query's input key.
package compiler
