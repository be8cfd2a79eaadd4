// Package publish holds bic's published state and its writers: Apply
// records a compiled manifest as a new revision of an environment, with
// the jobs it implies, in one transaction. Its subpackage metadata is the
// database that keeps revisions, jobs, artifacts and alert state.
//
// It imports compiler, never runner or server.
package publish
