package metadata_test

import (
	"context"
	"errors"
	"testing"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
)

// runUpToPublish runs every runnable job of env but the publish job of
// revision number, which it leaves running and returns.
func runUpToPublish(t *testing.T, st *metadata.Store, number int) metadata.JobRow {
	t.Helper()
	ctx := context.Background()
	var pub metadata.JobRow
	for {
		jobs := claim(t, st)
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			if j.Kind == compiler.JobPublish && j.Revision == number {
				if err := st.MarkDispatched(ctx, j); err != nil {
					t.Fatal(err)
				}
				if err := st.MarkRunning(ctx, j.ID); err != nil {
					t.Fatal(err)
				}
				pub = j
				continue
			}
			run(t, st, j)
		}
	}
	if pub.ID == 0 {
		t.Fatalf("revision %d has no publish job", number)
	}
	return pub
}

// TestCompletePublishFlipsOnlyWhatGoesLive: CompletePublish runs the flip
// only for a revision that goes live, and a failed flip records nothing;
// WhileLive runs only while its revision is the live one.
func TestCompletePublishFlipsOnlyWhatGoesLive(t *testing.T) {
	errFlip := errors.New("storage is down")
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			newClock(st)
			live := func() int {
				t.Helper()
				e, err := st.Environment(ctx, "prod")
				if err != nil {
					t.Fatal(err)
				}
				return e.Live
			}
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			drain(t, st)
			r2, _ := apply(t, st, compile(t, project("sum(amount - discount)", nil)), "prod")
			pub2 := runUpToPublish(t, st, r2.Number)
			r3, _ := apply(t, st, compile(t, project("sum(amount * 2)", nil)), "prod")
			pub3 := runUpToPublish(t, st, r3.Number)

			flips := map[int]int{} // by revision
			flip := func(n int, err error) func(context.Context) error {
				return func(context.Context) error { flips[n]++; return err }
			}
			for _, step := range []struct {
				what     string
				do       func() error
				wantErr  error
				wantLive int
				flips    map[int]int
			}{
				{"revision 3's flip fails", func() error { return st.CompletePublish(ctx, pub3.ID, metadata.JobResult{}, flip(3, errFlip)) },
					errFlip, 1, map[int]int{3: 1}},
				{"a refresh of revision 2, not live", func() error {
					ran, err := st.WhileLive(ctx, "prod", 2, flip(2, nil))
					if ran {
						t.Error("WhileLive ran for a revision that is not live")
					}
					return err
				}, nil, 1, map[int]int{3: 1}},
				{"revision 3 goes live", func() error { return st.CompletePublish(ctx, pub3.ID, metadata.JobResult{}, flip(3, nil)) },
					nil, 3, map[int]int{3: 2}},
				{"revision 3 completed again", func() error { return st.CompletePublish(ctx, pub3.ID, metadata.JobResult{}, flip(3, nil)) },
					nil, 3, map[int]int{3: 2}},
				{"revision 2, older, is superseded unflipped", func() error {
					return st.CompletePublish(ctx, pub2.ID, metadata.JobResult{}, flip(2, nil))
				}, nil, 3, map[int]int{3: 2}},
				{"a refresh of revision 1, superseded", func() error { _, err := st.WhileLive(ctx, "prod", 1, flip(1, nil)); return err },
					nil, 3, map[int]int{3: 2}},
				{"a refresh of revision 3, live", func() error {
					ran, err := st.WhileLive(ctx, "prod", 3, flip(3, nil))
					if !ran {
						t.Error("WhileLive did not run for the live revision")
					}
					return err
				}, nil, 3, map[int]int{3: 3}},
				{"a refresh of an environment that does not exist", func() error { _, err := st.WhileLive(ctx, "nowhere", 1, flip(9, nil)); return err },
					nil, 3, map[int]int{3: 3}},
			} {
				if err := step.do(); !errors.Is(err, step.wantErr) {
					t.Fatalf("%s: error %v, want %v", step.what, err, step.wantErr)
				}
				if got := live(); got != step.wantLive {
					t.Fatalf("%s: live revision %d, want %d", step.what, got, step.wantLive)
				}
				if len(flips) != len(step.flips) {
					t.Fatalf("%s: flips %v, want %v", step.what, flips, step.flips)
				}
				for n, c := range step.flips {
					if flips[n] != c {
						t.Fatalf("%s: flips %v, want %v", step.what, flips, step.flips)
					}
				}
			}
			want := map[int]metadata.RevisionStatus{1: metadata.RevisionSuperseded, 2: metadata.RevisionSuperseded, 3: metadata.RevisionLive}
			for n, s := range revisionStatus(t, st, "prod") {
				if want[n] != s {
					t.Errorf("revision %d is %s, want %s", n, s, want[n])
				}
			}
		})
	}
}
