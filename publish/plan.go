package publish

import (
	"context"
	"errors"
	"fmt"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
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

// ErrReleaseGone is KeptRelease's answer when storage no longer holds a
// revision's release whole (bic gc removed it, or part of it).
var ErrReleaseGone = errors.New("its release is no longer in storage")

// KeptRelease finds the release that env published for revision in
// storage's history, newest first, and checks that it is whole: the
// release document and every blob it names are there, and it publishes
// the manifest m (the revision's). Otherwise it is ErrReleaseGone.
func KeptRelease(ctx context.Context, store storage.Reader, env string, revision int, m *compiler.Manifest) (*release.Release, release.Record, error) {
	recs, err := release.RevisionHistory(ctx, store, env, revision)
	if err != nil {
		return nil, release.Record{}, err
	}
	for _, rec := range recs {
		rel, err := release.Read(ctx, store, rec.Release)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, rec, err
		}
		if rel.ManifestHash != m.Hash {
			continue
		}
		whole, err := isWhole(ctx, store, rel)
		if err != nil {
			return nil, rec, err
		}
		if whole {
			return rel, rec, nil
		}
	}
	return nil, release.Record{}, fmt.Errorf("%s revision %d: %w", env, revision, ErrReleaseGone)
}

// isWhole reports whether every blob rel names is in storage.
func isWhole(ctx context.Context, store storage.Reader, rel *release.Release) (bool, error) {
	for _, key := range rel.Blobs() {
		_, err := store.Stat(ctx, key)
		if errors.Is(err, storage.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("check %s: %w", key, err)
		}
	}
	return true, nil
}

// ApplyRollbackToRelease applies the rollback plan that PlanRollback made
// as a new revision that is live at once: env points at a copy of kept
// (revision to's release, from KeptRelease) made for the new revision, so
// it serves the data published with revision to, without runners. Like
// ApplyRollback it applies that plan and no other (metadata.ErrStale,
// metadata.ErrNoChanges). Writes happen in Promote's order, with the
// same crash window.
func ApplyRollbackToRelease(ctx context.Context, store storage.Store, meta *metadata.Store, m *compiler.Manifest, p *compiler.Plan, to int, kept *release.Release, actor string) (metadata.Revision, error) {
	return publishAgain(ctx, store, meta, kept, metadata.ApplyRequest{Env: p.Env, Plan: p, Manifest: m, Source: "rollback", RollbackOf: to, AppliedBy: actor})
}
