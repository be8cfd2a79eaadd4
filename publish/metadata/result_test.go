package metadata_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
)

// jobByID reads a job, failing the test when it cannot.
func jobByID(t *testing.T, st *metadata.Store, id int64) metadata.JobRow {
	t.Helper()
	j, err := st.JobByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// Complete records what the attempt found; MarkRunning when it started.
// A phase that did not happen is NULL, and so are the cache hit and the
// row count of a job that looked nothing up.
func TestCompleteRecordsResult(t *testing.T) {
	tests := []struct {
		name   string
		result metadata.JobResult
		want   metadata.JobResult
		// wantNull names the columns stored as NULL.
		wantNull []string
	}{
		{name: "computed",
			result: metadata.JobResult{InputKey: "k1", Rows: 12, Queue: 2 * time.Second, Warehouse: 3 * time.Second, Encode: 1500 * time.Millisecond, Upload: 500 * time.Millisecond},
			want:   metadata.JobResult{InputKey: "k1", Rows: 12, Queue: 2 * time.Second, Warehouse: 3 * time.Second, Encode: 1500 * time.Millisecond, Upload: 500 * time.Millisecond}},
		{name: "cache hit",
			result:   metadata.JobResult{InputKey: "k2", CacheHit: true, Rows: 7, Queue: time.Second},
			want:     metadata.JobResult{InputKey: "k2", CacheHit: true, Rows: 7, Queue: time.Second},
			wantNull: []string{"warehouse_ms", "encode_ms", "upload_ms"}},
		{name: "zero rows",
			result:   metadata.JobResult{InputKey: "k3", Warehouse: time.Millisecond},
			want:     metadata.JobResult{InputKey: "k3", Warehouse: time.Millisecond},
			wantNull: []string{"queue_ms", "encode_ms", "upload_ms"}},
		{name: "no rows",
			result:   metadata.JobResult{InputKey: "k4", Rows: metadata.NoRows, Upload: time.Second},
			want:     metadata.JobResult{InputKey: "k4", Rows: metadata.NoRows, Upload: time.Second},
			wantNull: []string{"queue_ms", "warehouse_ms", "encode_ms", "rows"}},
		{name: "nothing looked up",
			result:   metadata.JobResult{CacheHit: true, Rows: 5},
			want:     metadata.JobResult{Rows: metadata.NoRows},
			wantNull: []string{"queue_ms", "warehouse_ms", "encode_ms", "upload_ms", "cache_hit", "rows"}},
	}
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			jobs := claim(t, st)
			if len(jobs) < len(tests) {
				t.Fatalf("%d runnable jobs, want at least %d", len(jobs), len(tests))
			}
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					id := jobs[i].ID
					if err := st.MarkDispatched(ctx, jobs[i]); err != nil {
						t.Fatal(err)
					}
					started := c.now()
					if err := st.MarkRunning(ctx, id); err != nil {
						t.Fatal(err)
					}
					c.add(5 * time.Second)
					if err := st.Complete(ctx, id, tt.result); err != nil {
						t.Fatal(err)
					}
					j := jobByID(t, st, id)
					if j.Status != metadata.JobDone || !j.StartedAt.Equal(started) || !j.FinishedAt.Equal(started.Add(5*time.Second)) {
						t.Errorf("job %s: started %v finished %v", j.Status, j.StartedAt, j.FinishedAt)
					}
					if diff := cmp.Diff(tt.want, j.Result); diff != "" {
						t.Errorf("result (-want +got):\n%s", diff)
					}
					var got []string
					for _, col := range []string{"queue_ms", "warehouse_ms", "encode_ms", "upload_ms", "cache_hit", "rows"} {
						var null bool
						if err := st.DB().QueryRowContext(ctx, "SELECT "+col+" IS NULL FROM jobs WHERE id = "+strconv.FormatInt(id, 10)).Scan(&null); err != nil {
							t.Fatal(err)
						}
						if null {
							got = append(got, col)
						}
					}
					if diff := cmp.Diff(tt.wantNull, got); diff != "" {
						t.Errorf("NULL columns (-want +got):\n%s", diff)
					}

					// A duplicate delivery's Complete keeps the first result.
					c.add(time.Minute)
					if err := st.Complete(ctx, id, metadata.JobResult{InputKey: "other", Rows: 99, Queue: time.Hour}); err != nil {
						t.Fatal(err)
					}
					if again := jobByID(t, st, id); !cmp.Equal(again.Result, j.Result) || !again.FinishedAt.Equal(j.FinishedAt) {
						t.Errorf("completing again changed the result: %+v at %v", again.Result, again.FinishedAt)
					}
				})
			}
		})
	}
}

// JobByID reads a job as Jobs does, with its revision's row id; a job
// that is not there is ErrNoJob.
func TestJobByID(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			newClock(st)
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			apply(t, st, compile(t, project("sum(amount)", nil)), "staging")
			prod, err := st.Jobs(ctx, "prod", 1)
			if err != nil {
				t.Fatal(err)
			}
			staging, err := st.Jobs(ctx, "staging", 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range append(prod, staging...) {
				got := jobByID(t, st, j.ID)
				if diff := cmp.Diff(j, got); diff != "" {
					t.Errorf("JobByID(%d) differs from Jobs (-Jobs +JobByID):\n%s", j.ID, diff)
				}
				if j.RevisionID == 0 || j.RevisionID != prod[0].RevisionID && j.RevisionID != staging[0].RevisionID {
					t.Errorf("job %s: revision id %d", j.Key, j.RevisionID)
				}
			}
			if prod[0].RevisionID == staging[0].RevisionID {
				t.Errorf("prod and staging revision 1 share the row id %d", prod[0].RevisionID)
			}
			if _, err := st.JobByID(ctx, 1<<40); !errors.Is(err, metadata.ErrNoJob) {
				t.Errorf("JobByID of no job: %v, want ErrNoJob", err)
			}
		})
	}
}

// A runner that dies mid-job leaves its row running, and JetStream
// redelivers the message: the next runner's MarkRunning succeeds and
// counts another attempt, its timing is the attempt's that completes, and
// a crash uses up attempts the way a Fail does.
func TestRedeliveredRunningJob(t *testing.T) {
	type step struct {
		do   string // running, complete, fail, wait
		wait time.Duration
		// wantErr: the step is refused with ErrJobState.
		wantErr bool
	}
	tests := []struct {
		name         string
		steps        []step
		wantStatus   metadata.JobStatus
		wantAttempts int
		// wantStarted is when the last attempt started, after how many
		// seconds; -1: never.
		wantStarted time.Duration
	}{
		{name: "redelivered once then done",
			steps:      []step{{do: "running"}, {do: "wait", wait: 10 * time.Second}, {do: "running"}, {do: "wait", wait: 3 * time.Second}, {do: "complete"}},
			wantStatus: metadata.JobDone, wantAttempts: 2, wantStarted: 10 * time.Second},
		{name: "redelivered twice then done",
			steps:      []step{{do: "running"}, {do: "wait", wait: time.Second}, {do: "running"}, {do: "wait", wait: time.Second}, {do: "running"}, {do: "complete"}},
			wantStatus: metadata.JobDone, wantAttempts: 3, wantStarted: 2 * time.Second},
		{name: "crashes use up its attempts",
			steps:      []step{{do: "running"}, {do: "running"}, {do: "running"}, {do: "fail"}},
			wantStatus: metadata.JobFailed, wantAttempts: metadata.DefaultMaxAttempts},
		{name: "a crash then a failure retries",
			steps:      []step{{do: "running"}, {do: "running"}, {do: "fail"}},
			wantStatus: metadata.JobPending, wantAttempts: 2},
		{name: "redelivered after done is dropped",
			steps:      []step{{do: "running"}, {do: "complete"}, {do: "wait", wait: time.Second}, {do: "running", wantErr: true}},
			wantStatus: metadata.JobDone, wantAttempts: 1, wantStarted: 0},
		{name: "redelivered after failing for good is dropped",
			steps:      []step{{do: "running"}, {do: "running"}, {do: "running"}, {do: "fail"}, {do: "running", wantErr: true}, {do: "complete", wantErr: true}},
			wantStatus: metadata.JobFailed, wantAttempts: metadata.DefaultMaxAttempts},
	}
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			// One environment per case, so that a case failing its
			// revision leaves the others alone.
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					env := fmt.Sprintf("redeliver-%d", i)
					apply(t, st, compile(t, project("sum(amount)", nil)), env)
					var j metadata.JobRow
					for _, o := range claim(t, st) {
						if o.Env == env && o.Kind == compiler.JobChartData {
							j = o
							break
						}
					}
					if j.ID == 0 {
						t.Fatal("no chart_data job claimed")
					}
					if err := st.MarkDispatched(ctx, j); err != nil {
						t.Fatal(err)
					}
					start := c.now()
					for n, s := range tt.steps {
						var err error
						switch s.do {
						case "wait":
							c.add(s.wait)
							continue
						case "running":
							err = st.MarkRunning(ctx, j.ID)
						case "complete":
							err = st.Complete(ctx, j.ID, metadata.JobResult{InputKey: "k", Rows: 1})
						case "fail":
							_, err = st.Fail(ctx, j.ID, "warehouse unreachable", time.Time{})
						}
						if s.wantErr != errors.Is(err, metadata.ErrJobState) || !s.wantErr && err != nil {
							t.Fatalf("step %d (%s): err = %v, want ErrJobState: %v", n, s.do, err, s.wantErr)
						}
					}
					got := jobByID(t, st, j.ID)
					if got.Status != tt.wantStatus || got.Attempts != tt.wantAttempts {
						t.Errorf("job is %s after %d attempts, want %s after %d", got.Status, got.Attempts, tt.wantStatus, tt.wantAttempts)
					}
					if tt.wantStatus == metadata.JobDone && !got.StartedAt.Equal(start.Add(tt.wantStarted)) {
						t.Errorf("started at %v, want %v", got.StartedAt, start.Add(tt.wantStarted))
					}
				})
			}
		})
	}
}

// The publish job is claimable exactly when every other job of its
// revision is done, whatever kind is done last and whatever other
// environments have pending.
func TestPublishClaimableWhenDataDone(t *testing.T) {
	tests := []struct {
		name string
		// last is the kind run last, when a choice is left (chart data
		// cannot be: a thumbnail waits for it).
		last   compiler.JobKind
		others []string // other environments applied first, never run
	}{
		{name: "thumbnails last", last: compiler.JobThumbnail},
		{name: "schedules last", last: compiler.JobSchedule},
		{name: "beside other environments' pending jobs", last: compiler.JobThumbnail, others: []string{"staging", "pr-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, st := range stores(t) {
				t.Run(name, func(t *testing.T) {
					ctx := context.Background()
					newClock(st)
					for _, env := range tt.others {
						apply(t, st, compile(t, project("sum(amount)", nil)), env)
					}
					apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
					lastRun := map[compiler.JobKind]bool{}
					for step := 0; ; step++ {
						// A lease of zero leaves what it claims claimable.
						runnable, err := st.Claim(ctx, 1000, 0)
						if err != nil {
							t.Fatal(err)
						}
						jobs, err := st.Jobs(ctx, "prod", 1)
						if err != nil {
							t.Fatal(err)
						}
						dataDone := true
						for _, j := range jobs {
							if j.Kind != compiler.JobPublish && j.Status != metadata.JobDone {
								dataDone = false
							}
						}
						var publish, next, deferred *metadata.JobRow
						for i, j := range runnable {
							switch {
							case j.Env != "prod":
							case j.Kind == compiler.JobPublish:
								publish = &runnable[i]
							case j.Kind == tt.last && deferred == nil:
								deferred = &runnable[i]
							case j.Kind != tt.last && next == nil:
								next = &runnable[i]
							}
						}
						if (publish != nil) != dataDone {
							t.Fatalf("step %d: publish claimable %v, every other job done %v", step, publish != nil, dataDone)
						}
						if publish != nil {
							run(t, st, *publish)
							break
						}
						if next == nil {
							next = deferred
						}
						if next == nil {
							t.Fatalf("step %d: nothing of prod is runnable and publish is not either", step)
						}
						lastRun = map[compiler.JobKind]bool{next.Kind: true}
						run(t, st, *next)
					}
					if !lastRun[tt.last] {
						t.Errorf("the last job run before publish was %v, want a %s", lastRun, tt.last)
					}
					if env, _ := st.Environment(ctx, "prod"); env.Live != 1 {
						t.Errorf("prod live revision %d after its publish job, want 1", env.Live)
					}
				})
			}
		})
	}
}

// The database refuses a timing or a count below zero, and a cache hit
// recorded on a job that is not done.
func TestResultConstraints(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			for _, q := range []string{
				"UPDATE jobs SET queue_ms = -1",
				"UPDATE jobs SET warehouse_ms = -1",
				"UPDATE jobs SET encode_ms = -1",
				"UPDATE jobs SET upload_ms = -1",
				"UPDATE jobs SET rows = -1",
				"UPDATE jobs SET cache_hit = (1 = 1) WHERE status = 'pending'",
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
			if name == "sqlite" {
				if _, err := st.DB().ExecContext(ctx, "UPDATE jobs SET cache_hit = 2, status = 'done'"); err == nil {
					t.Error("cache_hit = 2: accepted")
				}
			}
		})
	}
}

// A dispatcher marks its claimed jobs dispatched after publishing them; a
// runner may have taken a message, run it and failed it back to pending
// for a retry before then. That row must stay pending, to be dispatched
// again: marked dispatched, it would wait for a message already consumed.
func TestMarkDispatchedLeavesJobsThatMovedOn(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			jobs := claim(t, st)
			if len(jobs) < 3 {
				t.Fatalf("%d runnable jobs, want at least 3", len(jobs))
			}
			retried, running, untouched := jobs[0], jobs[1], jobs[2]
			// The runner was quicker than the dispatcher's mark.
			for _, j := range []metadata.JobRow{retried, running} {
				if err := st.MarkRunning(ctx, j.ID); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.Fail(ctx, retried.ID, "warehouse busy", time.Time{}); err != nil {
				t.Fatal(err)
			}
			if err := st.MarkDispatched(ctx, retried, running, untouched); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				j    metadata.JobRow
				want metadata.JobStatus
			}{{retried, metadata.JobPending}, {running, metadata.JobRunning}, {untouched, metadata.JobDispatched}} {
				got, err := st.JobByID(ctx, c.j.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != c.want {
					t.Errorf("job %s: %s, want %s", c.j.Key, got.Status, c.want)
				}
			}
		})
	}
}
