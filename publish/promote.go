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
	var (
		before              release.Pointer
		hadPointer, flipped bool
	)
	rev, err := meta.ApplyPublished(ctx, req, func(ctx context.Context, rev metadata.Revision) error {
		// Read under the environment's lock, so that the pointer put back
		// after a failed commit is the one that was served.
		var err error
		before, err = release.ReadPointer(ctx, store, req.Env)
		hadPointer = err == nil
		if err != nil && !errors.Is(err, release.ErrNone) {
			return err
		}
		cp := *rel
		cp.Env, cp.Revision, cp.PublishedAt = req.Env, rev.Number, time.Now().UTC()
		blob, err := release.Write(ctx, store, &cp)
		if err != nil {
			return err
		}
		if err := release.Flip(ctx, store, req.Env, release.Pointer{Release: blob.Key, Revision: rev.Number}); err != nil {
			return err
		}
		flipped = true
		return nil
	})
	if err != nil && flipped && hadPointer {
		// The commit failed after the flip: serve what the metadata DB
		// still says is live.
		if perr := release.Flip(context.WithoutCancel(ctx), store, req.Env, before); perr != nil {
			return metadata.Revision{}, fmt.Errorf("%w (and pointing %s back at revision %d failed: %v)", err, req.Env, before.Revision, perr)
		}
	}
	return rev, err
}
