package publish

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
)

// ErrNothingLive is PlanPromote's answer for an environment that serves
// no release.
var ErrNothingLive = errors.New("no live release")

// Promotion is a planned promote: what one environment serves, and the
// plan of its definitions against the other's current revision. Show the
// plan, then hand it to Promote.
type Promotion struct {
	From, To string
	// Revision is the revision of From whose release is served.
	Revision int
	Release  *release.Release
	Manifest *compiler.Manifest
	Plan     *compiler.Plan
}

// PlanPromote plans making to serve what from serves: from's pointer, its
// release and the manifest of the revision the release publishes, and the
// plan of that manifest against to's current revision. It refuses
// (ErrNothingLive) an environment that has no live release, and one whose
// pointer and metadata disagree on what it serves.
func PlanPromote(ctx context.Context, store storage.Reader, meta *metadata.Store, from, to string) (*Promotion, error) {
	if from == to {
		return nil, fmt.Errorf("promote %s to itself: name another environment", from)
	}
	env, err := meta.Environment(ctx, from)
	if err != nil {
		return nil, err
	}
	if env.Live == 0 {
		return nil, fmt.Errorf("promote %s: %w: run bic apply --env %s first", from, ErrNothingLive, from)
	}
	rel, p, err := release.Current(ctx, store, from)
	if errors.Is(err, release.ErrNone) {
		return nil, fmt.Errorf("promote %s: its live revision is %d, but storage holds no pointer: %w", from, env.Live, ErrNothingLive)
	}
	if err != nil {
		return nil, fmt.Errorf("promote %s: %w", from, err)
	}
	if p.Revision != env.Live || rel.Revision != p.Revision {
		return nil, fmt.Errorf("promote %s: its pointer names revision %d, but its live revision is %d; wait for the publish to finish and try again", from, p.Revision, env.Live)
	}
	m, err := meta.Manifest(ctx, from, p.Revision)
	if err != nil {
		return nil, err
	}
	if m.Hash != rel.ManifestHash {
		return nil, fmt.Errorf("promote %s: the release of revision %d was published from manifest %s, the revision holds %s", from, p.Revision, rel.ManifestHash, m.Hash)
	}
	plan, err := Plan(ctx, meta, m, to, "")
	if err != nil {
		return nil, err
	}
	return &Promotion{From: from, To: to, Revision: p.Revision, Release: rel, Manifest: m, Plan: plan}, nil
}

// Promote carries out a planned promote: a new revision of pr.To holding
// pr.From's definitions, live at once with no jobs to run, and a copy of
// pr.From's release (for pr.To and the new revision's number) that pr.To's
// pointer names. The data served is the very data pr.From serves.
//
// The metadata transaction holds pr.To's lock while the copy is written
// and the pointer flipped, and commits after the flip: if the flip fails,
// nothing is recorded and pr.To serves what it did. A crash between the
// flip and the commit leaves the pointer naming a complete release whose
// revision the metadata DB does not know; pr.To then serves pr.From's
// data while bic history still shows the previous live revision, until
// the next publish of pr.To flips the pointer again (or the promote is
// run again, whose plan is unchanged). If the commit fails without a
// crash, the pointer is put back.
//
// It applies the plan it was given and no other: if pr.To moved since, it
// fails with metadata.ErrStale.
func Promote(ctx context.Context, store storage.Store, meta *metadata.Store, pr *Promotion, actor string) (metadata.Revision, error) {
	return publishAgain(ctx, store, meta, pr.Release, metadata.ApplyRequest{
		Env: pr.To, Plan: pr.Plan, Manifest: pr.Manifest, Source: "promote", AppliedBy: actor,
	})
}

// publishAgain applies req as a revision that is live at once, pointing
// req.Env at a copy of rel made for the new revision.
func publishAgain(ctx context.Context, store storage.Store, meta *metadata.Store, rel *release.Release, req metadata.ApplyRequest) (metadata.Revision, error) {
	f := lockedFlip{store: store, env: req.Env}
	rev, err := meta.ApplyPublished(ctx, req, func(ctx context.Context, rev metadata.Revision) error {
		cp := *rel
		cp.Env, cp.Revision, cp.PublishedAt = req.Env, rev.Number, time.Now().UTC()
		blob, err := release.Write(ctx, store, &cp)
		if err != nil {
			return err
		}
		return f.flip(ctx, release.Pointer{Release: blob.Key, Revision: rev.Number})
	})
	return rev, f.undo(ctx, err)
}

// GoLive completes revision p.Revision's publish job (id), whose release
// p names and is written: under env's lock, if the revision still goes
// live (no newer one is live, it was not superseded), env's pointer is
// flipped to p and the revision made live in the transaction that holds
// the lock; otherwise the pointer stays and the revision is superseded
// (metadata.Store.CompletePublish). Each writer of a pointer — this,
// Promote, a rollback to a kept release, Republish — flips it only under
// that lock and after checking the live revision there, so concurrent
// publishes of one environment leave the pointer naming its live
// revision, never an older one. If the commit fails after the flip, the
// pointer is put back.
func GoLive(ctx context.Context, store storage.Store, meta *metadata.Store, id int64, r metadata.JobResult, env string, p release.Pointer) error {
	f := lockedFlip{store: store, env: env}
	err := meta.CompletePublish(ctx, id, r, func(ctx context.Context) error { return f.flip(ctx, p) })
	return f.undo(ctx, err)
}

// Republish points env at p, a new release of revision p.Revision (a
// refresh of its data), if that revision is still env's live one, under
// the same lock as GoLive; it reports whether it did. A release written
// while another revision went live is not served.
func Republish(ctx context.Context, store storage.Store, meta *metadata.Store, env string, p release.Pointer) (bool, error) {
	return meta.WhileLive(ctx, env, p.Revision, func(ctx context.Context) error {
		return release.Flip(ctx, store, env, p)
	})
}

// lockedFlip flips an environment's pointer from inside a metadata
// transaction that holds the environment's lock, and puts it back if that
// transaction then fails.
type lockedFlip struct {
	store               storage.Store
	env                 string
	before              release.Pointer
	hadPointer, flipped bool
}

// flip reads the pointer — under the lock, so that the one put back after
// a failed commit is the one that was served — and points it at p.
func (f *lockedFlip) flip(ctx context.Context, p release.Pointer) error {
	var err error
	f.before, err = release.ReadPointer(ctx, f.store, f.env)
	f.hadPointer = err == nil
	if err != nil && !errors.Is(err, release.ErrNone) {
		return err
	}
	if err := release.Flip(ctx, f.store, f.env, p); err != nil {
		return err
	}
	f.flipped = true
	return nil
}

// undo is the transaction's error, err: when it failed after the flip,
// the pointer is put back, to serve what the metadata DB still says is
// live.
func (f *lockedFlip) undo(ctx context.Context, err error) error {
	if err == nil || !f.flipped || !f.hadPointer {
		return err
	}
	if perr := release.Flip(context.WithoutCancel(ctx), f.store, f.env, f.before); perr != nil {
		return fmt.Errorf("%w (and pointing %s back at revision %d failed: %v)", err, f.env, f.before.Revision, perr)
	}
	return err
}
