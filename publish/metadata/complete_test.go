package metadata_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
)

// TestCompleteWithoutTheEnvLock: completing any job but a publish moves
// its own row only, so it does not wait for the lock of its environment,
// which every writer of the environment takes (on PostgreSQL an advisory
// lock; SQLite has one writer at a time anyway). Held by another session
// here: Complete of a chart_data job must finish without ever waiting for
// it, and its result, a second Complete and a late Fail behave as before.
func TestCompleteWithoutTheEnvLock(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			const env = "complete-unlocked" // no other test takes its lock
			apply(t, st, compile(t, project("sum(amount)", nil)), env)
			var j, f metadata.JobRow // a chart_data job, and another that is no publish
			for _, o := range claim(t, st) {
				switch {
				case o.Kind == compiler.JobChartData && j.ID == 0:
					j = o
				case o.Kind != compiler.JobPublish && f.ID == 0:
					f = o
				}
			}
			if j.ID == 0 || f.ID == 0 {
				t.Fatalf("want a chart_data job and another, claimed %+v and %+v", j, f)
			}
			if err := st.MarkRunning(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			res := metadata.JobResult{InputKey: "k", Rows: 3, Warehouse: 5 * time.Millisecond}
			if st.Dialect() == "postgres" {
				// Another session holds the environment's lock meanwhile.
				locker, err := st.DB().BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer locker.Rollback()
				if _, err := locker.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", "bic-env:"+env); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- st.Complete(ctx, j.ID, res) }()
				for waiting := false; !waiting; {
					select {
					case err := <-done:
						if err != nil {
							t.Fatal(err)
						}
						waiting = true // finished: it did not wait
						continue
					default:
					}
					var n int
					if err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM pg_locks
						WHERE locktype = 'advisory' AND NOT granted AND objid = (hashtext($1)::bigint & 4294967295)::oid`, "bic-env:"+env).Scan(&n); err != nil {
						t.Fatal(err)
					}
					if n > 0 {
						locker.Rollback()
						<-done
						t.Fatal("Complete of a chart_data job waited for the environment's lock")
					}
				}
				locker.Rollback() // what follows may take it
			} else if err := st.Complete(ctx, j.ID, res); err != nil {
				t.Fatal(err)
			}
			got, err := st.JobByID(ctx, j.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != metadata.JobDone || got.Result.InputKey != "k" || got.Result.Rows != 3 || got.Result.Warehouse != 5*time.Millisecond || got.FinishedAt.IsZero() {
				t.Errorf("completed job: %s, result %+v, finished %v", got.Status, got.Result, got.FinishedAt)
			}
			if err := st.Complete(ctx, j.ID, metadata.JobResult{InputKey: "other"}); err != nil {
				t.Errorf("completing it again: %v", err)
			}
			if again, _ := st.JobByID(ctx, j.ID); again.Result.InputKey != "k" {
				t.Errorf("completing it again replaced its result: %+v", again.Result)
			}
			if _, err := st.Fail(ctx, j.ID, "late", c.now()); !errors.Is(err, metadata.ErrJobState) {
				t.Errorf("failing a done job: %v, want ErrJobState", err)
			}
			// A failed job is not completed by the fast way either.
			if err := st.FailForGood(ctx, f.ID, "broken"); err != nil {
				t.Fatal(err)
			}
			if err := st.Complete(ctx, f.ID, metadata.JobResult{}); !errors.Is(err, metadata.ErrJobState) {
				t.Errorf("completing a failed job: %v, want ErrJobState", err)
			}
			var status string
			if err := st.DB().QueryRowContext(ctx, rebind(st, `SELECT status FROM jobs WHERE id = ?`), f.ID).Scan(&status); err != nil || status != string(metadata.JobFailed) {
				t.Errorf("the failed job is %q (%v) after Complete", status, err)
			}
		})
	}
}

func rebind(st *metadata.Store, q string) string {
	if st.Dialect() == "postgres" {
		return "SELECT status FROM jobs WHERE id = $1"
	}
	return q
}
