package metadata_test

import (
	"context"
	"errors"
	"testing"

	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
)

// TestApplyPublished: a revision whose release exists already is current
// and live at once, with no jobs; the revision that was live and an older
// one still computing are superseded (so the pending one's publish never
// flips the pointer back). Its publish step runs inside the transaction
// with the new number; if it fails, nothing is written; a stale or empty
// plan is refused like Apply's.
func TestApplyPublished(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			m1 := compile(t, project("sum(amount)", nil))
			apply(t, st, m1, "prod")
			for jobs := claim(t, st); len(jobs) > 0; jobs = claim(t, st) {
				for _, j := range jobs {
					run(t, st, j)
				}
			}
			apply(t, st, compile(t, project("sum(amount - discount)", nil)), "prod") // 2, pending

			m := compile(t, project("sum(amount) * 2", nil))
			p, err := publish.Plan(ctx, st, m, "prod", "")
			if err != nil {
				t.Fatal(err)
			}
			boom := errors.New("flip failed")
			if _, err := st.ApplyPublished(ctx, metadata.ApplyRequest{Env: "prod", Plan: p, Manifest: m, Source: "promote"},
				func(context.Context, metadata.Revision) error { return boom }); !errors.Is(err, boom) {
				t.Fatalf("a failed publish step: %v", err)
			}
			if e, _ := st.Environment(ctx, "prod"); e.Revision != 2 || e.Live != 1 {
				t.Fatalf("a failed publish step wrote a revision: %+v", e)
			}

			var published metadata.Revision
			rev, err := st.ApplyPublished(ctx, metadata.ApplyRequest{Env: "prod", Plan: p, Manifest: m, Source: "promote", AppliedBy: "ana"},
				func(_ context.Context, r metadata.Revision) error { published = r; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if published.Number != 3 || rev.Number != 3 || !rev.Live || rev.Status != metadata.RevisionLive || rev.Jobs != 0 || rev.Source != "promote" {
				t.Errorf("published revision = %+v (publish step saw %+v)", rev, published)
			}
			if e, _ := st.Environment(ctx, "prod"); e.Revision != 3 || e.Live != 3 {
				t.Errorf("prod = %+v, want revision 3 current and live", e)
			}
			hist, err := st.History(ctx, "prod")
			if err != nil {
				t.Fatal(err)
			}
			want := []metadata.RevisionStatus{metadata.RevisionLive, metadata.RevisionSuperseded, metadata.RevisionSuperseded}
			for i, r := range hist {
				if r.Status != want[i] {
					t.Errorf("revision %d is %s, want %s", r.Number, r.Status, want[i])
				}
			}
			if hist[0].Jobs != 0 || hist[0].AppliedBy != "ana" {
				t.Errorf("revision 3 in the history: %+v", hist[0])
			}
			if jobs := claim(t, st); len(jobs) != 0 {
				t.Errorf("%d jobs are claimable after a published revision, want 0 (revision 2's are superseded)", len(jobs))
			}

			if _, err := st.ApplyPublished(ctx, metadata.ApplyRequest{Env: "prod", Plan: p, Manifest: m}, nil); !errors.Is(err, metadata.ErrStale) {
				t.Errorf("the same plan again: %v, want ErrStale", err)
			}
			same, err := publish.Plan(ctx, st, m, "prod", "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.ApplyPublished(ctx, metadata.ApplyRequest{Env: "prod", Plan: same, Manifest: m}, nil); !errors.Is(err, metadata.ErrNoChanges) {
				t.Errorf("a plan without changes: %v, want ErrNoChanges", err)
			}
		})
	}
}
