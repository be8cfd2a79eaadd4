package publish_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
)

// TestConcurrentPublishesKeepThePointerLive: the writers of one
// environment's pointer — a runner completing a revision's publish job
// (GoLive), a promote, a refresh of the live revision (Republish), a
// runner completing an older revision's publish job — run at the same
// time, many times over, against PostgreSQL and each storage backend.
// After each round the pointer names the metadata DB's live revision and
// a release of it, and while the round runs the pointer never names an
// older revision than it did (revision numbers only grow: a rollback is a
// new revision too).
func TestConcurrentPublishesKeepThePointerLive(t *testing.T) {
	const rounds = 25
	for _, tc := range []struct {
		name string
		// round applies the round's revisions and returns the writers to
		// race and the revision that must be live afterwards.
		round func(t *testing.T, r *race, i int) (writers []func() error, live int)
	}{
		{
			// A runner publishes revision n while a promote makes n+1 live
			// and a refresh republishes n-1, the live one.
			name: "promote, publish and refresh",
			round: func(t *testing.T, r *race, i int) ([]func() error, int) {
				live := r.live(t)
				n, job, p := r.pending(t, fmt.Sprintf("Sales %d", i))
				pr, err := publish.PlanPromote(r.ctx, r.st, r.meta, "staging", "prod")
				if err != nil {
					t.Fatal(err)
				}
				refresh := r.release(t, live, fmt.Sprintf("refresh-%d", i))
				return []func() error{
					func() error { return publish.GoLive(r.ctx, r.st, r.meta, job, metadata.JobResult{}, "prod", p) },
					func() error { _, err := publish.Promote(r.ctx, r.st, r.meta, pr, "test"); return err },
					func() error { _, err := publish.Republish(r.ctx, r.st, r.meta, "prod", refresh); return err },
				}, n + 1
			},
		},
		{
			// Two runners complete the publish jobs of revisions n and
			// n+1 at once: n+1 is live afterwards, whichever finishes
			// first.
			name: "older and newer publish",
			round: func(t *testing.T, r *race, i int) ([]func() error, int) {
				n, older, po := r.pending(t, fmt.Sprintf("Sales %d a", i))
				_, newer, pn := r.pending(t, fmt.Sprintf("Sales %d b", i))
				return []func() error{
					func() error { return publish.GoLive(r.ctx, r.st, r.meta, older, metadata.JobResult{}, "prod", po) },
					func() error { return publish.GoLive(r.ctx, r.st, r.meta, newer, metadata.JobResult{}, "prod", pn) },
				}, n + 1
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eachStore(t, func(t *testing.T, st storage.Store) {
				r := &race{ctx: context.Background(), st: st, meta: metaStore(t, "postgres")}
				publishRevision(t, st, r.meta, "prod", shop(t, "Sales"), "prod-1")
				publishRevision(t, st, r.meta, "staging", shop(t, "Staging"), "staging-1")
				last := 0
				for i := range rounds {
					writers, want := tc.round(t, r, i)
					seen := r.run(t, writers)
					p, err := release.ReadPointer(r.ctx, st, "prod")
					if err != nil {
						t.Fatal(err)
					}
					e, err := r.meta.Environment(r.ctx, "prod")
					if err != nil {
						t.Fatal(err)
					}
					rel, err := release.Read(r.ctx, st, p.Release)
					if err != nil {
						t.Fatal(err)
					}
					if e.Live != want || p.Revision != e.Live || rel.Revision != e.Live {
						t.Fatalf("round %d: prod's live revision is %d (want %d), its pointer names revision %d, a release of revision %d",
							i, e.Live, want, p.Revision, rel.Revision)
					}
					// The watcher's last read may have begun before the last
					// flip: the pointer read after the round ends the list.
					for _, s := range append(seen, p.Revision) {
						if s < last {
							t.Fatalf("round %d: prod's pointer went back from revision %d to %d (it named %v, then %d)", i, last, s, seen, p.Revision)
						}
						last = s
					}
				}
			})
		})
	}
}

// race is one environment, prod, whose pointer writers race.
type race struct {
	ctx  context.Context
	st   storage.Store
	meta *metadata.Store
}

// live is prod's live revision.
func (r *race) live(t *testing.T) int {
	t.Helper()
	e, err := r.meta.Environment(r.ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	return e.Live
}

// release writes a release of prod's revision n, as a runner does before
// it flips, and returns the pointer to it.
func (r *race) release(t *testing.T, n int, tag string) release.Pointer {
	t.Helper()
	m, err := r.meta.Manifest(r.ctx, "prod", n)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := release.Write(r.ctx, r.st, writeRelease(t, r.st, "prod", n, m, tag))
	if err != nil {
		t.Fatal(err)
	}
	return release.Pointer{Release: blob.Key, Revision: n}
}

// pending applies a revision of prod titled title and runs its jobs the
// way runners would, up to its publish job: that one is running, its
// release written, its completion (the flip) left to the caller. It
// returns the revision's number, the publish job's id and the pointer to
// the release.
func (r *race) pending(t *testing.T, title string) (int, int64, release.Pointer) {
	t.Helper()
	m := shop(t, title)
	p, err := publish.Plan(r.ctx, r.meta, m, "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := r.meta.Apply(r.ctx, metadata.ApplyRequest{Env: "prod", Plan: p, Manifest: m, AppliedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var job int64
	for {
		jobs, err := r.meta.Claim(r.ctx, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			if err := r.meta.MarkRunning(r.ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			if j.Kind == compiler.JobPublish && j.Revision == rev.Number {
				job = j.ID
				continue
			}
			if err := r.meta.Complete(r.ctx, j.ID, metadata.JobResult{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if job == 0 {
		t.Fatalf("revision %d has no publish job", rev.Number)
	}
	return rev.Number, job, r.release(t, rev.Number, title)
}

// run starts writers together, each after a random pause of up to a few
// milliseconds so that they interleave differently each round, and
// returns the revisions prod's pointer named while they ran, in the order
// read.
func (r *race) run(t *testing.T, writers []func() error) []int {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(writers))
	start := make(chan struct{})
	for i, w := range writers {
		pause := time.Duration(rand.IntN(4000)) * time.Microsecond
		wg.Go(func() {
			<-start
			time.Sleep(pause)
			errs[i] = w()
		})
	}
	done := make(chan struct{})
	var seen []int
	var readErr error
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-done:
				return
			default:
			}
			p, err := release.ReadPointer(r.ctx, r.st, "prod")
			if err != nil {
				readErr = err
				return
			}
			seen = append(seen, p.Revision)
		}
	}()
	close(start)
	wg.Wait()
	close(done)
	<-watched
	if readErr != nil {
		t.Fatal(readErr)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	return seen
}

// cancelAfterFlip is a store whose pointer writes succeed and then cancel
// the writer's transaction (cancel is its context's), so that the
// metadata commit after a flip fails.
type cancelAfterFlip struct {
	storage.Store
	cancel context.CancelFunc
}

func (s cancelAfterFlip) WritePointer(ctx context.Context, key string, value []byte) error {
	err := s.Store.WritePointer(ctx, key, value)
	s.cancel()
	return err
}

// TestFailedCommitPutsThePointerBack: a publish (GoLive) or a promote
// whose metadata transaction fails after its flip points the environment
// back at the release it served, whose revision is still live; done
// again, it goes live.
func TestFailedCommitPutsThePointerBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		// publish returns a writer that publishes prod's next revision
		// into store, and that revision's number.
		publish func(t *testing.T, r *race) (func(ctx context.Context, st storage.Store) error, int)
	}{
		{"publish job", func(t *testing.T, r *race) (func(context.Context, storage.Store) error, int) {
			n, job, p := r.pending(t, "Sales 2")
			return func(ctx context.Context, st storage.Store) error {
				return publish.GoLive(ctx, st, r.meta, job, metadata.JobResult{}, "prod", p)
			}, n
		}},
		{"promote", func(t *testing.T, r *race) (func(context.Context, storage.Store) error, int) {
			pr, err := publish.PlanPromote(r.ctx, r.st, r.meta, "staging", "prod")
			if err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context, st storage.Store) error {
				_, err := publish.Promote(ctx, st, r.meta, pr, "test")
				return err
			}, pr.Plan.BaseRevision + 1
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eachStoreAndDB(t, func(t *testing.T, st storage.Store, meta *metadata.Store) {
				r := &race{ctx: context.Background(), st: st, meta: meta}
				before, _ := publishRevision(t, st, meta, "prod", shop(t, "Sales"), "prod-1")
				publishRevision(t, st, meta, "staging", shop(t, "Staging"), "staging-1")
				served, err := release.ReadPointer(r.ctx, st, "prod")
				if err != nil {
					t.Fatal(err)
				}
				do, next := tc.publish(t, r)
				ctx, cancel := context.WithCancel(r.ctx)
				defer cancel()
				if err := do(ctx, cancelAfterFlip{Store: st, cancel: cancel}); err == nil {
					t.Fatal("the transaction cancelled after the flip succeeded")
				}
				p, err := release.ReadPointer(r.ctx, st, "prod")
				if err != nil {
					t.Fatal(err)
				}
				if p != served || r.live(t) != before {
					t.Fatalf("after a failed commit prod points at %+v and revision %d is live; want %+v and %d", p, r.live(t), served, before)
				}
				if err := do(r.ctx, st); err != nil {
					t.Fatal(err)
				}
				if p, err = release.ReadPointer(r.ctx, st, "prod"); err != nil || p.Revision != next || r.live(t) != next {
					t.Fatalf("done again: prod points at %+v (%v), revision %d is live; want %d", p, err, r.live(t), next)
				}
			})
		})
	}
}
