package metadata

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bic-dev/bic/runner/servicetest"
)

// TestStmtCache: on SQLite the calls of every job run prepared statements
// kept across calls (running them again prepares nothing more), a full
// cache runs further SQL unprepared with the same results, and a
// PostgreSQL store keeps no cache (pgx has its own).
func TestStmtCache(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite://bic.db", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	job := func() {
		t.Helper()
		if err := st.PutArtifact(ctx, Artifact{ContentHash: "h1", StorageKey: "blobs/h1", Size: 1, Rows: 1}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.CacheEntry(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if ok, err := st.ClaimInput(ctx, "k", "me", time.Minute); err != nil || !ok {
			t.Fatalf("ClaimInput = %v, %v", ok, err)
		}
		arts := []Artifact{{ContentHash: "h2", StorageKey: "blobs/h2", Size: 2, Rows: 1}}
		if err := st.PutCacheEntry(ctx, CacheEntry{InputKey: "k", JSONHash: "h2", CSVHash: "h1", Rows: 1, ReleaseClaim: "me"}, arts...); err != nil {
			t.Fatal(err)
		}
		if e, ok, err := st.CacheEntry(ctx, "k"); err != nil || !ok || e.JSONHash != "h2" || e.CSVHash != "h1" {
			t.Fatalf("CacheEntry = %+v, %v, %v", e, ok, err)
		}
		if _, err := st.JobByID(ctx, 1); err == nil {
			t.Fatal("JobByID found a job in an empty database")
		}
	}
	job()
	n := st.stmts.len()
	if n == 0 {
		t.Fatal("no statement cached on SQLite")
	}
	job()
	if got := st.stmts.len(); got != n {
		t.Errorf("running the same calls again cached %d statements, then %d: want them reused", n, got)
	}
	for i := range maxCachedStmts + 5 {
		var got int
		if err := st.cachedQueryRow(ctx, nil, fmt.Sprintf("SELECT %d", i)).Scan(&got); err != nil || got != i {
			t.Fatalf("SELECT %d = %d, %v", i, got, err)
		}
	}
	if got := st.stmts.len(); got != maxCachedStmts {
		t.Errorf("cache holds %d statements, want at most %d", got, maxCachedStmts)
	}
	job() // statements cached before it filled still serve

	pg, err := Connect(ctx, servicetest.Postgres(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if pg.stmts != nil {
		t.Error("a PostgreSQL store has a statement cache")
	}
}

// TestStmtCacheConcurrent: callers asking for the same and for different
// statements at once all get the right answers, and each SQL is kept once.
func TestStmtCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite://bic.db", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				q := fmt.Sprintf("SELECT %d", (g+i)%4)
				var got int
				if err := st.cachedQueryRow(ctx, nil, q).Scan(&got); err != nil || got != (g+i)%4 {
					errs <- fmt.Errorf("%s = %d, %v", q, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := st.stmts.len(); n != 4 {
		t.Errorf("%d statements kept for 4 SQL texts, want 4", n)
	}
}
