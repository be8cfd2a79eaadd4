package publish_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
)

// TestPromote: promote copies what staging serves to prod — the pointer
// names a release of prod whose charts are staging's — and records a
// revision of prod with staging's definitions that is live at once, with
// no job to run.
func TestPromote(t *testing.T) {
	eachStoreAndDB(t, func(t *testing.T, st storage.Store, meta *metadata.Store) {
		ctx := context.Background()
		publishRevision(t, st, meta, "prod", shop(t, "Sales"), "prod-1")
		mStaging := shop(t, "Sales 2")
		stagingRev, stagingRel := publishRevision(t, st, meta, "staging", mStaging, "staging-1")

		pr, err := publish.PlanPromote(ctx, st, meta, "staging", "prod")
		if err != nil {
			t.Fatal(err)
		}
		if pr.Revision != stagingRev || pr.Plan.BaseRevision != 1 || !pr.Plan.HasChanges() {
			t.Fatalf("promote plan: revision %d, base %d, %d changes", pr.Revision, pr.Plan.BaseRevision, len(pr.Plan.Changes))
		}
		rev, err := publish.Promote(ctx, st, meta, pr, "test")
		if err != nil {
			t.Fatal(err)
		}
		if rev.Number != 2 || rev.Source != "promote" || rev.Jobs != 0 || !rev.Live || rev.ManifestHash != mStaging.Hash {
			t.Errorf("promoted revision = %+v", rev)
		}
		rel, p, err := release.Current(ctx, st, "prod")
		if err != nil {
			t.Fatal(err)
		}
		if p.Revision != 2 || rel.Env != "prod" || rel.Revision != 2 || rel.ManifestHash != mStaging.Hash {
			t.Errorf("prod's pointer %+v names a release of %s revision %d, manifest %s", p, rel.Env, rel.Revision, rel.ManifestHash)
		}
		if diff := cmp.Diff(stagingRel.Charts, rel.Charts); diff != "" {
			t.Errorf("prod's charts are not staging's (-staging +prod):\n%s", diff)
		}
		e, err := meta.Environment(ctx, "prod")
		if err != nil || e.Live != 2 || e.Revision != 2 {
			t.Errorf("prod = %+v, %v; want revision 2 current and live", e, err)
		}
		if jobs, err := meta.Claim(ctx, 100, time.Minute); err != nil || len(jobs) != 0 {
			t.Errorf("a promote left %d jobs to run (%v)", len(jobs), err)
		}
		hist, err := release.History(ctx, st, "prod")
		if err != nil || len(hist) != 2 || hist[0].Revision != 2 || hist[0].Pointer != p {
			t.Errorf("prod's release history = %+v, %v; want the promote's pointer first", hist, err)
		}
	})
}

// TestPromoteRefusesNothingLive: an environment that serves nothing (it
// does not exist, or its only revision is still computing) is not
// promoted, and the target is left as it was.
func TestPromoteRefusesNothingLive(t *testing.T) {
	eachStoreAndDB(t, func(t *testing.T, st storage.Store, meta *metadata.Store) {
		ctx := context.Background()
		publishRevision(t, st, meta, "prod", shop(t, "Sales"), "prod-1")
		before, _ := release.ReadPointer(ctx, st, "prod")

		if _, err := publish.PlanPromote(ctx, st, meta, "staging", "prod"); !errors.Is(err, metadata.ErrNoEnvironment) {
			t.Errorf("promote of an environment that does not exist: %v, want ErrNoEnvironment", err)
		}
		m := shop(t, "Sales 2")
		p, err := publish.Plan(ctx, meta, m, "staging", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := meta.Apply(ctx, metadata.ApplyRequest{Env: "staging", Plan: p, Manifest: m}); err != nil {
			t.Fatal(err)
		}
		if _, err := publish.PlanPromote(ctx, st, meta, "staging", "prod"); !errors.Is(err, publish.ErrNothingLive) {
			t.Errorf("promote of an environment whose first revision is pending: %v, want ErrNothingLive", err)
		}
		after, err := release.ReadPointer(ctx, st, "prod")
		if err != nil || after != before {
			t.Errorf("prod's pointer moved: %+v → %+v (%v)", before, after, err)
		}
		if hist, err := meta.History(ctx, "prod"); err != nil || len(hist) != 1 {
			t.Errorf("prod's history has %d revisions (%v), want 1", len(hist), err)
		}
	})
}

// TestRollbackToKeptRelease: while storage holds revision 1's release, a
// rollback to 1 points at it at once — the pointer names a release whose
// charts are revision 1's — as a new revision that is live with no jobs;
// both histories show it. The confirmed plan is the one applied: if prod
// moved meanwhile it is refused as stale and the pointer stays.
func TestRollbackToKeptRelease(t *testing.T) {
	eachStoreAndDB(t, func(t *testing.T, st storage.Store, meta *metadata.Store) {
		ctx := context.Background()
		m1 := shop(t, "Sales")
		_, rel1 := publishRevision(t, st, meta, "prod", m1, "1")
		publishRevision(t, st, meta, "prod", shop(t, "Sales 2"), "2")

		m, p, err := publish.PlanRollback(ctx, meta, "prod", 1)
		if err != nil {
			t.Fatal(err)
		}
		kept, rec, err := publish.KeptRelease(ctx, st, "prod", 1, m)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Revision != 1 || kept.Revision != 1 {
			t.Fatalf("kept release of revision 1: record %+v, release of revision %d", rec, kept.Revision)
		}
		if _, _, err := publish.KeptRelease(ctx, st, "prod", 7, m); !errors.Is(err, publish.ErrReleaseGone) {
			t.Errorf("the release of a revision never published: %v, want ErrReleaseGone", err)
		}

		// Someone applies revision 3 while the plan is read.
		pointer2, _ := release.ReadPointer(ctx, st, "prod")
		publishRevision(t, st, meta, "prod", shop(t, "Sales 3"), "3")
		pointer3, _ := release.ReadPointer(ctx, st, "prod")
		if _, err := publish.ApplyRollbackToRelease(ctx, st, meta, m, p, 1, kept, "test"); !errors.Is(err, metadata.ErrStale) {
			t.Fatalf("rollback planned against 2, applied at 3: %v, want ErrStale", err)
		}
		if now, _ := release.ReadPointer(ctx, st, "prod"); now != pointer3 || now == pointer2 {
			t.Errorf("a refused rollback moved the pointer to %+v", now)
		}

		m, p, err = publish.PlanRollback(ctx, meta, "prod", 1)
		if err != nil {
			t.Fatal(err)
		}
		rev, err := publish.ApplyRollbackToRelease(ctx, st, meta, m, p, 1, kept, "test")
		if err != nil {
			t.Fatal(err)
		}
		if rev.Number != 4 || rev.Source != "rollback" || rev.RollbackOf != 1 || rev.Jobs != 0 || !rev.Live {
			t.Errorf("rollback revision = %+v", rev)
		}
		rel, ptr, err := release.Current(ctx, st, "prod")
		if err != nil {
			t.Fatal(err)
		}
		if ptr.Revision != 4 || rel.Revision != 4 || rel.ManifestHash != m1.Hash {
			t.Errorf("prod points at %+v: revision %d, manifest %s", ptr, rel.Revision, rel.ManifestHash)
		}
		if diff := cmp.Diff(rel1.Charts, rel.Charts); diff != "" {
			t.Errorf("the rolled-back release's charts are not revision 1's (-1 +now):\n%s", diff)
		}
		hist, err := meta.History(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 4 || !hist[0].Live || hist[0].RollbackOf != 1 || hist[1].Live || hist[1].Status != metadata.RevisionSuperseded {
			t.Errorf("history after the rollback: %+v", hist)
		}
		recs, err := release.History(ctx, st, "prod")
		if err != nil || len(recs) != 4 || recs[0].Pointer != ptr {
			t.Errorf("storage history after the rollback: %+v, %v", recs, err)
		}
		if jobs, err := meta.Claim(ctx, 100, time.Minute); err != nil || len(jobs) != 0 {
			t.Errorf("a rollback to a kept release left %d jobs (%v)", len(jobs), err)
		}
	})
}

// TestRollbackAfterGCFallsBack: once bic gc has removed revision 1's
// release (its record, past the retention; then its blobs), a rollback to
// 1 cannot point at it, and applies 1's definitions as a revision whose
// jobs compute them again.
func TestRollbackAfterGCFallsBack(t *testing.T) {
	eachStoreAndDB(t, func(t *testing.T, st storage.Store, meta *metadata.Store) {
		ctx := context.Background()
		_, rel1 := publishRevision(t, st, meta, "prod", shop(t, "Sales"), "1")
		publishRevision(t, st, meta, "prod", shop(t, "Sales 2"), "2")
		later := func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }

		rep, err := publish.GC(ctx, st, meta, publish.GCOptions{Now: later})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Records) != 1 {
			t.Errorf("gc removed records %v, want revision 1's", rep.Records)
		}
		m, p, err := publish.PlanRollback(ctx, meta, "prod", 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := publish.KeptRelease(ctx, st, "prod", 1, m); !errors.Is(err, publish.ErrReleaseGone) {
			t.Fatalf("revision 1's release after gc: %v, want ErrReleaseGone", err)
		}
		// The next run removes the blobs that only revision 1 named.
		if _, err := publish.GC(ctx, st, meta, publish.GCOptions{Now: later}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Stat(ctx, rel1.Charts["sales/by_country"].States["k"].JSON); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("revision 1's data after two gc runs: %v, want it removed", err)
		}
		rev, err := publish.ApplyRollback(ctx, meta, m, p, 1, "test")
		if err != nil {
			t.Fatal(err)
		}
		if rev.Number != 3 || rev.Jobs == 0 || rev.Live {
			t.Errorf("fallback rollback = %+v, want a pending revision with jobs", rev)
		}
		if _, ptr, _ := release.Current(ctx, st, "prod"); ptr.Revision != 2 {
			t.Errorf("prod points at revision %d before the fallback's jobs ran, want 2", ptr.Revision)
		}
	})
}
