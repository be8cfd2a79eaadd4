package metadata_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
)

// clock is a settable store clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(st *metadata.Store) *clock {
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	st.SetClock(c.now)
	return c
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const lease = time.Minute

func claim(t *testing.T, st *metadata.Store) []metadata.JobRow {
	t.Helper()
	jobs, err := st.Claim(context.Background(), 1000, lease)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// run takes a claimed job through dispatched and running to done.
func run(t *testing.T, st *metadata.Store, j metadata.JobRow) {
	t.Helper()
	ctx := context.Background()
	if err := st.MarkDispatched(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkRunning(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.Complete(ctx, j.ID, metadata.JobResult{}); err != nil {
		t.Fatal(err)
	}
}

// drain runs every job that becomes runnable until none is left, and
// returns the kinds in the rounds they were claimed.
func drain(t *testing.T, st *metadata.Store) [][]string {
	t.Helper()
	var rounds [][]string
	for {
		jobs := claim(t, st)
		if len(jobs) == 0 {
			return rounds
		}
		var kinds []string
		for _, j := range jobs {
			kinds = append(kinds, j.Kind.String())
			run(t, st, j)
		}
		sort.Strings(kinds)
		rounds = append(rounds, compactStrings(kinds))
	}
}

func compactStrings(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func kindsOf(jobs []metadata.JobRow) map[string]int {
	out := map[string]int{}
	for _, j := range jobs {
		out[j.Kind.String()]++
	}
	return out
}

func revisionStatus(t *testing.T, st *metadata.Store, env string) map[int]metadata.RevisionStatus {
	t.Helper()
	hist, err := st.History(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]metadata.RevisionStatus{}
	for _, r := range hist {
		out[r.Number] = r.Status
	}
	return out
}

// failForGood fails a job on every attempt it has.
func failForGood(t *testing.T, st *metadata.Store, c *clock, j metadata.JobRow) {
	t.Helper()
	ctx := context.Background()
	for attempt := 1; ; attempt++ {
		if err := st.MarkRunning(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		to, err := st.Fail(ctx, j.ID, "warehouse unreachable", c.now().Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if to == metadata.JobFailed {
			if attempt != metadata.DefaultMaxAttempts {
				t.Fatalf("failed for good after %d attempts, want %d", attempt, metadata.DefaultMaxAttempts)
			}
			return
		}
		c.add(time.Second)
	}
}

// Two claimers at once never get the same job, and together they get
// every runnable one.
func TestClaimConcurrently(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			newClock(st)
			_, p := apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			runnable := 0
			for _, j := range p.Jobs {
				if len(j.DependsOn) == 0 && j.Kind != compiler.JobPublish {
					runnable++
				}
			}
			var (
				mu   sync.Mutex
				seen = map[int64]int{}
				wg   sync.WaitGroup
				errs = make([]error, 4)
			)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						jobs, err := st.Claim(ctx, 1, time.Hour)
						if err != nil || len(jobs) == 0 {
							errs[i] = err
							return
						}
						mu.Lock()
						for _, j := range jobs {
							seen[j.ID]++
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("job %d claimed %d times", id, n)
				}
			}
			if len(seen) != runnable {
				t.Errorf("claimed %d jobs, want the %d without dependencies", len(seen), runnable)
			}
		})
	}
}

// A thumbnail is not claimable before its dashboard's chart data is done,
// and the publish job comes last; a job row says what to compute.
func TestJobDependencyOrder(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			applied := c.now()
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			c.add(time.Minute)

			first := claim(t, st)
			if k := kindsOf(first); k["thumbnail"] != 0 || k["publish"] != 0 || k["chart_data"] == 0 {
				t.Fatalf("first claim = %v, want chart data and schedules only", k)
			}
			for _, j := range first {
				if j.Env != "prod" || j.Revision != 1 || !j.AsOf.Equal(applied) || j.Status != metadata.JobPending {
					t.Errorf("claimed job %s: env %q revision %d as_of %v status %s", j.Key, j.Env, j.Revision, j.AsOf, j.Status)
				}
			}
			// Only the sales dashboard's charts: its thumbnail may run, traffic's not.
			for _, j := range first {
				if j.Kind == compiler.JobChartData && len(j.ObjectID) > len("chart/sales/") && j.ObjectID[:len("chart/sales/")] == "chart/sales/" {
					run(t, st, j)
				}
			}
			c.add(lease)
			var thumbs []string
			for _, j := range claim(t, st) {
				if j.Kind == compiler.JobThumbnail {
					thumbs = append(thumbs, j.ObjectID)
					if len(j.DependsOn) == 0 {
						t.Errorf("thumbnail %s lists no dependencies", j.Key)
					}
				}
				if j.Kind == compiler.JobPublish {
					t.Errorf("publish claimed before the other jobs are done")
				}
			}
			if diff := cmp.Diff([]string{"dashboard/sales"}, thumbs); diff != "" {
				t.Errorf("thumbnails claimable (-want +got):\n%s", diff)
			}

			c.add(lease)
			rounds := drain(t, st)
			if len(rounds) == 0 || !cmp.Equal(rounds[len(rounds)-1], []string{"publish"}) {
				t.Fatalf("rounds = %v, want publish alone last", rounds)
			}
			jobs, err := st.Jobs(ctx, "prod", 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range jobs {
				if j.Status != metadata.JobDone {
					t.Errorf("%s is %s after draining", j.Key, j.Status)
				}
				if j.Kind == compiler.JobPublish && len(j.DependsOn) != len(jobs)-1 {
					t.Errorf("publish depends on %d jobs, want all %d others", len(j.DependsOn), len(jobs)-1)
				}
			}
		})
	}
}

// A failed attempt is retried at its retry time, not before; attempts count.
func TestFailThenRetry(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			jobs := claim(t, st)
			j := jobs[0]
			if err := st.MarkDispatched(ctx, j); err != nil {
				t.Fatal(err)
			}
			if err := st.MarkRunning(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			to, err := st.Fail(ctx, j.ID, "connection refused", c.now().Add(10*time.Minute))
			if err != nil || to != metadata.JobPending {
				t.Fatalf("first failure: %s, %v; want pending", to, err)
			}
			c.add(lease) // every other claim's lease is over too
			for _, o := range claim(t, st) {
				if o.ID == j.ID {
					t.Fatal("claimed before its retry time")
				}
			}
			c.add(10 * time.Minute)
			var again *metadata.JobRow
			for _, o := range claim(t, st) {
				if o.ID == j.ID {
					again = &o
				}
			}
			if again == nil {
				t.Fatal("not claimable after its retry time")
			}
			if again.Attempts != 1 || again.LastError != "connection refused" {
				t.Errorf("retried job: attempts %d, last error %q", again.Attempts, again.LastError)
			}
			if err := st.Complete(ctx, j.ID, metadata.JobResult{}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Fail(ctx, j.ID, "late", time.Time{}); !errors.Is(err, metadata.ErrJobState) {
				t.Errorf("failing a done job: %v, want ErrJobState", err)
			}
		})
	}
}

// When the publish job is done its revision is live and the one before
// superseded; until then the previous one keeps serving.
func TestPublishMakesLive(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			newClock(st)
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			if env, _ := st.Environment(ctx, "prod"); env.Revision != 1 || env.Live != 0 {
				t.Fatalf("before publishing: current %d live %d, want 1 and 0", env.Revision, env.Live)
			}
			drain(t, st)
			apply(t, st, compile(t, project("sum(amount - discount)", nil)), "prod")
			if env, _ := st.Environment(ctx, "prod"); env.Revision != 2 || env.Live != 1 {
				t.Fatalf("revision 2 applied: current %d live %d, want 2 and 1", env.Revision, env.Live)
			}
			drain(t, st)
			if env, _ := st.Environment(ctx, "prod"); env.Revision != 2 || env.Live != 2 {
				t.Fatalf("revision 2 published: current %d live %d, want 2 and 2", env.Revision, env.Live)
			}
			want := map[int]metadata.RevisionStatus{1: metadata.RevisionSuperseded, 2: metadata.RevisionLive}
			if diff := cmp.Diff(want, revisionStatus(t, st, "prod")); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			hist, _ := st.History(ctx, "prod")
			if !hist[0].Live || !hist[0].Current || hist[1].Live {
				t.Errorf("history live/current = %+v", hist)
			}
		})
	}
}

// A job that fails for good fails its revision; nothing more of it runs,
// and the live revision stays.
func TestFailedJobFailsRevision(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			drain(t, st)
			apply(t, st, compile(t, project("sum(amount - discount)", nil)), "prod")
			failed := failRevenue(t, st, c)
			c.add(time.Hour)
			for _, j := range claim(t, st) {
				t.Errorf("claimed %s of a failed revision", j.Key)
			}
			env, _ := st.Environment(ctx, "prod")
			if env.Revision != 2 || env.Live != 1 {
				t.Errorf("after the failure: current %d live %d, want 2 and 1", env.Revision, env.Live)
			}
			want := map[int]metadata.RevisionStatus{1: metadata.RevisionLive, 2: metadata.RevisionFailed}
			if diff := cmp.Diff(want, revisionStatus(t, st, "prod")); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			jobs, _ := st.Jobs(ctx, "prod", 2)
			for _, j := range jobs {
				if j.ID == failed && (j.Status != metadata.JobFailed || j.Attempts != metadata.DefaultMaxAttempts) {
					t.Errorf("failed job: %s after %d attempts", j.Status, j.Attempts)
				}
			}
		})
	}
}

// failRevenue runs the pending revision's jobs, failing the revenue
// chart's for good, and returns its id.
func failRevenue(t *testing.T, st *metadata.Store, c *clock) int64 {
	t.Helper()
	var failed int64
	for _, j := range claim(t, st) {
		if j.ObjectID == "chart/sales/revenue" {
			failed = j.ID
			failForGood(t, st, c, j)
			continue
		}
		run(t, st, j)
	}
	if failed == 0 {
		t.Fatal("no chart_data job for chart/sales/revenue")
	}
	return failed
}

// The next plan after a failed revision plans again what the failed
// revision changed (it diffs against the newest revision that did not
// fail), so applying the same definitions again retries the failed work.
func TestPlanAfterFailedRevision(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			drain(t, st)
			m2 := compile(t, project("sum(amount - discount)", nil))
			_, p2 := apply(t, st, m2, "prod")
			failRevenue(t, st, c)

			p3, err := publish.Plan(ctx, st, m2, "prod", "")
			if err != nil {
				t.Fatal(err)
			}
			if p3.BaseRevision != 2 {
				t.Errorf("plan base revision %d, want the current 2", p3.BaseRevision)
			}
			if diff := cmp.Diff(changeIDs(p2), changeIDs(p3)); diff != "" {
				t.Errorf("re-plan changes differ from the failed revision's (-failed +replan):\n%s", diff)
			}
			if !containsString(jobKinds(p3), "chart_data chart/sales/revenue") {
				t.Errorf("re-plan jobs %v lack the failed chart", jobKinds(p3))
			}
			if _, err := st.Apply(ctx, metadata.ApplyRequest{Env: "prod", Plan: p3, Manifest: m2}); err != nil {
				t.Fatal(err)
			}
			c.add(time.Hour)
			drain(t, st)
			want := map[int]metadata.RevisionStatus{1: metadata.RevisionSuperseded, 2: metadata.RevisionFailed, 3: metadata.RevisionLive}
			if diff := cmp.Diff(want, revisionStatus(t, st, "prod")); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			// Once live, the same definitions have nothing left to do.
			if p, err := publish.Plan(ctx, st, m2, "prod", ""); err != nil || p.HasChanges() {
				t.Errorf("plan after the retry went live: %v, %v", changeIDs(p), err)
			}
		})
	}
}

// A first revision that failed leaves nothing to diff against: everything
// is created again.
func TestPlanAfterFailedFirstRevision(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			c := newClock(st)
			m := compile(t, project("sum(amount)", nil))
			_, p1 := apply(t, st, m, "prod")
			failRevenue(t, st, c)
			p, err := publish.Plan(context.Background(), st, m, "prod", "")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(changeIDs(p1), changeIDs(p)); diff != "" {
				t.Errorf("re-plan of a failed first revision (-first +replan):\n%s", diff)
			}
		})
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// The database itself refuses a state outside the lifecycle.
func TestCheckConstraintsRejectBadStates(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			for _, q := range []string{
				"UPDATE revisions SET status = 'bogus'",
				"UPDATE jobs SET status = 'bogus'",
				"UPDATE environments SET kind = 'bogus'",
				"INSERT INTO environments (name, kind, created_at) VALUES ('x', 'temporary', '2026-01-01T00:00:00Z')",
			} {
				_, err := st.DB().ExecContext(ctx, q)
				if err == nil {
					t.Errorf("%s: accepted", q)
					continue
				}
				if name == "postgres" {
					var pe *pgconn.PgError
					if !errors.As(err, &pe) || pe.Code != "23514" {
						t.Errorf("%s: %v, want a check_violation (23514)", q, err)
					}
				}
			}
			if got := revisionStatus(t, st, "prod")[1]; got != metadata.RevisionPending {
				t.Errorf("revision 1 is %q after the refused updates", got)
			}
		})
	}
}

// The jobs of one revision share one decoded manifest.
func TestManifestIsCachedByHash(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			m := compile(t, project("sum(amount)", nil))
			apply(t, st, m, "prod")
			before := metadata.ManifestDecodes(st)
			for range 5 {
				got, err := st.Manifest(ctx, "prod", 1)
				if err != nil || got.Hash != m.Hash {
					t.Fatalf("manifest = %v, %v", got, err)
				}
			}
			if n := metadata.ManifestDecodes(st) - before; n != 1 {
				t.Errorf("decoded %d times for 5 reads, want 1", n)
			}
		})
	}
}

// SQLite needs no server: its tests run without BIC_TEST_POSTGRES_URL.
func TestSQLiteRunsWithoutPostgres(t *testing.T) {
	// The SQLite half of stores needs no server: it used to sit behind the
	// PostgreSQL check, so every store test skipped without PostgreSQL.
	t.Setenv("BIC_TEST_POSTGRES_URL", "")
	got := sqliteStores(t)
	if _, ok := got["sqlite"]; !ok || len(got) != 1 {
		t.Fatalf("stores without PostgreSQL = %v, want sqlite alone", got)
	}
	if _, err := got["sqlite"].History(context.Background(), "prod"); err != nil && !errors.Is(err, metadata.ErrNoEnvironment) {
		t.Fatalf("the SQLite store does not answer: %v", err)
	}
}
