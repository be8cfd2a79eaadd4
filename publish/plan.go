package publish

import (
	"context"
	"fmt"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
)

// Plan diffs a compiled manifest against the environment's current
// revision. A new environment with a base (a preview of prod) is diffed
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
	if p.HasChanges() || p.BaseRevision == 0 {
		// Applying writes a revision, and every revision is published, even
		// one with nothing to compute (an unchanged preview's first).
		p.Jobs = append(p.Jobs, compiler.PublishJob(p))
	}
	return p, nil
}

// Rollback makes an earlier revision's definitions current again, as a new
// revision: history only ever grows.
func Rollback(ctx context.Context, store *metadata.Store, env string, to int, actor string) (metadata.Revision, *compiler.Plan, error) {
	m, err := store.Manifest(ctx, env, to)
	if err != nil {
		return metadata.Revision{}, nil, err
	}
	p, err := Plan(ctx, store, m, env, "")
	if err != nil {
		return metadata.Revision{}, nil, err
	}
	rev, err := store.Apply(ctx, metadata.ApplyRequest{Env: env, Plan: p, Manifest: m, Source: "rollback", RollbackOf: to, AppliedBy: actor})
	return rev, p, err
}
