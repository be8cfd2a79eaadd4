// Package publish holds bic's published state and its writers: Plan diffs
// a compiled manifest against an environment's current revision, and
// Rollback restores an old one; metadata.Store.Apply records a plan as a
// new revision with the jobs it implies, in one transaction. Its
// subpackage metadata is the database that keeps revisions, jobs,
// artifacts and alert state.
//
// It imports compiler, never runner or server.
package publish
