// Package compiler turns a project's files into a checked, content-hashed
// Manifest: load (YAML and CUE into position-carrying trees), schema (unify
// every object with its CUE definition), resolve (check every reference by
// name) and hash.
//
// It is pure: files come in through an fs.FS, and diagnostics and the
// Manifest come out. It must not import database drivers, NATS, object
// storage, browsers, net/http or a logger.
//
// Its two keys each come from one function: a filter state's key from
// the leaf package filterstate (which the server imports without the
// compiler; FilterDashboard describes a dashboard to it), and a query's
// input key from InputKey, beside the SQL it covers.
package compiler
