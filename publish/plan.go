package publish

import (
	"context"
	"fmt"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
)

// Plan diffs a compiled manifest against the environment's current
// revision — or, when that failed, against its newest revision that did
// not fail, so that what failed is planned again (see Store.Snapshot and
// docs/lifecycle.md). A new environment with a base (a preview of prod) is diffed
// against the base's objects instead, so it only computes what differs.
func Plan(ctx context.Context, store *metadata.Store, m *compiler.Manifest, env, base string) (*compiler.Plan, error) {
	snap, err := store.Snapshot(ctx, env)
	if err != nil {
		return nil, err
	}
	against := snap
	if snap.Revision == 0 && base != "" && base != env {
		if against, err = store.Snapshot(ctx, base); err != nil {
			return nil, fmt.Errorf("read base environment %s: %w", base, err)
		}
	}
	if err := store.LoadSpecs(ctx, &against, compiler.NeedsSpec(m, against)); err != nil {
		return nil, err
	}
	p := compiler.Diff(m, against)
	p.Env, p.BaseRevision = env, snap.Revision
	if against.Env != env {
		p.Against = against.Env
	}
	if p.WritesRevision() {
		// Applying writes a revision, and every revision is published, even
		// one with nothing to compute (an unchanged preview's first).
		p.Jobs = append(p.Jobs, compiler.PublishJob(p))
	}
	return p, nil
}

// PlanRollback plans making revision to's definitions current again: the
// manifest stored with it, diffed against the environment's current
// revision. Show the plan, then hand it to ApplyRollback.
func PlanRollback(ctx context.Context, store *metadata.Store, env string, to int) (*compiler.Manifest, *compiler.Plan, error) {
	m, err := store.Manifest(ctx, env, to)
	if err != nil {
		return nil, nil, err
	}
	p, err := Plan(ctx, store, m, env, "")
	if err != nil {
		return nil, nil, err
	}
	return m, p, nil
}

// ApplyRollback applies the rollback plan that PlanRollback made (and the
// user confirmed), as a new revision: history only ever grows. It applies
// that plan and no other, so if the environment moved since, it fails with
// metadata.ErrStale instead of applying something nobody saw; a plan that
// writes no revision fails with metadata.ErrNoChanges.
func ApplyRollback(ctx context.Context, store *metadata.Store, m *compiler.Manifest, p *compiler.Plan, to int, actor string) (metadata.Revision, error) {
	return store.Apply(ctx, metadata.ApplyRequest{Env: p.Env, Plan: p, Manifest: m, Source: "rollback", RollbackOf: to, AppliedBy: actor})
}
