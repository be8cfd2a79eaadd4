package metadata_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
)

// runWithResult runs a claimed job for took, recording a cache entry
// computed now under the job's object id when it is chart data.
func runWithResult(t *testing.T, st *metadata.Store, c *clock, j metadata.JobRow, took time.Duration) {
	t.Helper()
	ctx := context.Background()
	if err := st.MarkDispatched(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkRunning(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	c.add(took)
	var r metadata.JobResult
	if j.Kind == compiler.JobChartData {
		key := "input:" + j.ObjectID
		putBlobs(t, st, "json:"+j.ObjectID, "csv:"+j.ObjectID)
		if err := st.PutCacheEntry(ctx, metadata.CacheEntry{InputKey: key, JSONHash: "json:" + j.ObjectID, CSVHash: "csv:" + j.ObjectID, Rows: 4}); err != nil {
			t.Fatal(err)
		}
		r = metadata.JobResult{InputKey: key, Rows: 4, Queue: time.Second, Warehouse: took / 2, Encode: took / 4, Upload: took / 4}
	}
	if err := st.Complete(ctx, j.ID, r); err != nil {
		t.Fatal(err)
	}
}

// Status counts each revision's jobs by status, lists those that failed
// with their cause, and says how fresh each revision's data is.
func TestStatus(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			// The data's computed_at: runWithResult takes a second.
			var oldest, newest time.Time
			for jobs := claim(t, st); len(jobs) > 0; jobs = claim(t, st) {
				for _, j := range jobs {
					c.add(time.Minute)
					if j.Kind == compiler.JobChartData {
						newest = c.now().Add(time.Second)
						if oldest.IsZero() {
							oldest = newest
						}
					}
					runWithResult(t, st, c, j, time.Second)
				}
			}
			rev1, err := st.Jobs(ctx, "prod", 1)
			if err != nil {
				t.Fatal(err)
			}
			apply(t, st, compile(t, project("sum(amount - discount)", nil)), "prod")
			failed := failRevenue(t, st, c)
			rev2, err := st.Jobs(ctx, "prod", 2)
			if err != nil {
				t.Fatal(err)
			}
			apply(t, st, compile(t, project("sum(amount)", nil)), "staging")
			staging, err := st.Jobs(ctx, "staging", 1)
			if err != nil {
				t.Fatal(err)
			}
			counts := func(jobs []metadata.JobRow) map[metadata.JobStatus]int {
				out := map[metadata.JobStatus]int{}
				for _, j := range jobs {
					out[j.Status]++
				}
				return out
			}
			var failedKey, failedObject string
			for _, j := range rev2 {
				if j.ID == failed {
					failedKey, failedObject = j.Key, j.ObjectID
				}
			}
			prod := metadata.EnvironmentStatus{Env: "prod", Current: 2, Live: 1, Revisions: []metadata.RevisionJobs{
				{Number: 2, Status: metadata.RevisionFailed, Jobs: counts(rev2), Failed: []metadata.FailedJob{{
					ID: failed, Key: failedKey, Kind: compiler.JobChartData, ObjectID: failedObject,
					Attempts: metadata.DefaultMaxAttempts, LastError: "warehouse unreachable"}}},
				{Number: 1, Status: metadata.RevisionLive, Jobs: counts(rev1), OldestData: oldest, NewestData: newest},
			}}
			stagingStatus := metadata.EnvironmentStatus{Env: "staging", Current: 1, Revisions: []metadata.RevisionJobs{
				{Number: 1, Status: metadata.RevisionPending, Jobs: counts(staging)},
			}}
			if got := counts(rev1); got[metadata.JobDone] != len(rev1) {
				t.Fatalf("revision 1 jobs %v, want all done", got)
			}
			if got := counts(rev2); got[metadata.JobFailed] != 1 || got[metadata.JobDone] == 0 {
				t.Fatalf("revision 2 jobs %v, want one failed and some done", got)
			}
			tests := []struct {
				env     string
				want    metadata.StatusReport
				wantErr error
			}{
				{env: "prod", want: metadata.StatusReport{Environments: []metadata.EnvironmentStatus{prod}}},
				{env: "staging", want: metadata.StatusReport{Environments: []metadata.EnvironmentStatus{stagingStatus}}},
				{env: "", want: metadata.StatusReport{Environments: []metadata.EnvironmentStatus{prod, stagingStatus}}},
				{env: "nope", wantErr: metadata.ErrNoEnvironment},
			}
			for _, tt := range tests {
				t.Run(fmt.Sprintf("env %q", tt.env), func(t *testing.T) {
					got, err := st.Status(ctx, tt.env)
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("err = %v, want %v", err, tt.wantErr)
					}
					if diff := cmp.Diff(tt.want, got, cmp.Comparer(time.Time.Equal)); diff != "" {
						t.Errorf("status (-want +got):\n%s", diff)
					}
				})
			}
		})
	}
}

// Slowest lists the done jobs whose last attempt took longest, with their
// phases, in one environment or in all.
func TestSlowest(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			apply(t, st, compile(t, project("sum(amount)", nil)), "staging")
			took := map[int64]time.Duration{}
			var order []int64 // slowest first
			var skipped int64
			jobs := claim(t, st)
			for i, j := range jobs {
				if j.Kind == compiler.JobPublish {
					continue
				}
				if skipped == 0 && j.Env == "prod" {
					// Completed without MarkRunning: no start, not listed.
					skipped = j.ID
					if err := st.MarkDispatched(ctx, j); err != nil {
						t.Fatal(err)
					}
					if err := st.Complete(ctx, j.ID, metadata.JobResult{}); err != nil {
						t.Fatal(err)
					}
					continue
				}
				// Each job takes longer than the one before, by 1.5 s.
				d := time.Duration(i+1) * 1500 * time.Millisecond
				runWithResult(t, st, c, j, d)
				took[j.ID] = d
				order = append([]int64{j.ID}, order...)
			}
			envOf := map[int64]string{}
			for _, j := range jobs {
				envOf[j.ID] = j.Env
			}
			only := func(env string, n int) []int64 {
				var out []int64
				for _, id := range order {
					if (env == "" || envOf[id] == env) && len(out) < n {
						out = append(out, id)
					}
				}
				return out
			}
			if len(only("prod", 3)) < 3 || len(only("staging", 1)) < 1 {
				t.Fatalf("too few jobs ran to order: %v", order)
			}
			tests := []struct {
				name string
				env  string
				n    int
				want []int64
			}{
				{name: "the three slowest of prod", env: "prod", n: 3, want: only("prod", 3)},
				{name: "all of staging", env: "staging", n: 100, want: only("staging", 100)},
				{name: "every environment", n: 100, want: only("", 100)},
				{name: "none asked", env: "prod", n: 0},
				{name: "no such environment", env: "nope", n: 5},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := st.Slowest(ctx, tt.env, tt.n)
					if err != nil {
						t.Fatal(err)
					}
					var ids []int64
					for _, j := range got {
						ids = append(ids, j.ID)
						if j.Took != took[j.ID] || j.Status != metadata.JobDone {
							t.Errorf("job %s: took %v, want %v; status %s", j.Key, j.Took, took[j.ID], j.Status)
						}
						if j.Kind == compiler.JobChartData && (j.Result.Warehouse != took[j.ID]/2.0 || j.Result.Queue != time.Second || j.Result.CacheHit) {
							t.Errorf("job %s: phases %+v", j.Key, j.Result)
						}
					}
					if diff := cmp.Diff(tt.want, ids); diff != "" {
						t.Errorf("slowest (-want +got):\n%s", diff)
					}
				})
			}
		})
	}
}

// A read-only store reads results and refuses to write them.
func TestResultsReadOnly(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			raw := "sqlite://meta.db"
			if name == "postgres" {
				raw, _, _ = pgSchemaURL(t)
			}
			rw, err := metadata.Open(ctx, raw, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer rw.Close()
			apply(t, rw, compile(t, project("sum(amount)", nil)), "prod")
			jobs, err := rw.Jobs(ctx, "prod", 1)
			if err != nil {
				t.Fatal(err)
			}
			ro, err := metadata.OpenReadOnly(ctx, raw, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			writes := map[string]error{
				"PutArtifact":   ro.PutArtifact(ctx, metadata.Artifact{ContentHash: "h", StorageKey: "k", Size: 1}),
				"PutCacheEntry": ro.PutCacheEntry(ctx, metadata.CacheEntry{InputKey: "k", JSONHash: "h"}),
				"ReleaseInput":  ro.ReleaseInput(ctx, "k", "a"),
				"Complete":      ro.Complete(ctx, jobs[0].ID, metadata.JobResult{}),
				"MarkRunning":   ro.MarkRunning(ctx, jobs[0].ID),
			}
			_, writes["ClaimInput"] = ro.ClaimInput(ctx, "k", "a", time.Minute)
			for what, err := range writes {
				if !errors.Is(err, metadata.ErrReadOnly) {
					t.Errorf("%s on a read-only store: err = %v, want ErrReadOnly", what, err)
				}
			}
			if _, ok, err := ro.CacheEntry(ctx, "k"); ok || err != nil {
				t.Errorf("CacheEntry = %v, %v", ok, err)
			}
			if j, err := ro.JobByID(ctx, jobs[0].ID); err != nil || j.Key != jobs[0].Key {
				t.Errorf("JobByID = %+v, %v", j, err)
			}
			if r, err := ro.Status(ctx, "prod"); err != nil || len(r.Environments) != 1 {
				t.Errorf("Status = %+v, %v", r, err)
			}
			if _, err := ro.Slowest(ctx, "", 5); err != nil {
				t.Errorf("Slowest: %v", err)
			}
		})
	}
}
