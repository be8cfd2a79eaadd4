// Package compiler turns a project's files into a checked, content-hashed
// Manifest: load (YAML and CUE into position-carrying trees), schema (unify
// every object with its CUE definition), resolve (check every reference by
// name) and hash.
//
// It is pure: files come in through an fs.FS, and diagnostics and the
// Manifest come out. It must not import database drivers, NATS, object
// storage, browsers, net/http or a logger. A caller may give it a
// FileCache (WithCache) to keep, between runs, what it made of each
// unchanged file and each dashboard's hashes; it verifies what it reads
// back and gives the same Result with or without one.
//
// Objects are checked by a checker derived from the CUE definitions when
// the schema is compiled (derived.go); only those it cannot vouch for are
// unified with CUE, whose words every diagnostic keeps.
//
// Plan diffs two manifests and lists the jobs a revision needs. Query
// planning and SQL are the subpackage query's; its leaf filterstate gives
// a filter state's key (FilterDashboard describes a dashboard to it, and
// NormalizeState applies it), and query.InputKey a query's input key.
package compiler
