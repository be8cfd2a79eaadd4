package metadata_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bic-dev/bic/publish/metadata"
)

// v2Rows is data as bic at schema version 2 wrote it: a job done, a blob
// and the cache entry naming it.
var v2Rows = []string{
	`INSERT INTO bic_schema_migrations (version, name, applied_at) VALUES (1, '0001_init.sql', '2026-01-01T00:00:00Z'), (2, '0002_lifecycle.sql', '2026-01-01T00:00:00Z')`,
	`INSERT INTO environments (name, kind, created_at) VALUES ('prod', 'persistent', '2026-01-01T00:00:00Z')`,
	`INSERT INTO revisions (env, number, status, source, manifest_hash, manifest, applied_at) VALUES ('prod', 1, 'pending', 'apply', 'h1', '{}', '2026-01-01T00:00:00Z')`,
	`UPDATE environments SET current_revision = (SELECT id FROM revisions WHERE number = 1)`,
	`INSERT INTO jobs (revision_id, job_key, kind, object_id, inputs_hash, as_of, run_at, status, attempts, created_at, updated_at)
		VALUES ((SELECT id FROM revisions WHERE number = 1), 'chart_data:chart/a/b@0123', 'chart_data', 'chart/a/b', '0123',
			'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'done', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
		((SELECT id FROM revisions WHERE number = 1), 'chart_data:chart/a/c@0456', 'chart_data', 'chart/a/c', '0456',
			'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'running', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
	`INSERT INTO artifacts (content_hash, storage_key, size, rows, created_at) VALUES ('j1', 'blobs/j1', 10, 3, '2026-01-01T00:00:00Z')`,
	`INSERT INTO cache_entries (input_key, content_hash, rows, computed_at) VALUES ('k1', 'j1', 3, '2026-01-01T00:00:00Z')`,
}

// Migration 0003 keeps what version 2 stored: jobs have no result yet,
// cache entries no CSV; both take one afterwards.
func TestMigrationKeepsVersion2Data(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			var url, dir string
			var db *sql.DB
			var err error
			if name == "sqlite" {
				dir = t.TempDir()
				url = "sqlite://v2.db"
				db, err = sql.Open("sqlite", "file:"+filepath.Join(dir, "v2.db")+"?_pragma=foreign_keys(1)")
			} else {
				var schema string
				var admin *sql.DB
				url, schema, admin = pgSchemaURL(t)
				if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
					t.Fatal(err)
				}
				db, err = sql.Open("pgx", url)
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `CREATE TABLE bic_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"0001_init.sql", "0002_lifecycle.sql"} {
				q, err := os.ReadFile(filepath.Join("migrations", name, f))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.ExecContext(ctx, string(q)); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
			}
			for _, q := range v2Rows {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			db.Close()

			st, err := metadata.Open(ctx, url, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if v, err := st.Version(ctx); err != nil || v != metadata.LatestVersion(st) || v < 3 {
				t.Fatalf("version %d, %v", v, err)
			}
			jobs, err := st.Jobs(ctx, "prod", 1)
			if err != nil || len(jobs) != 2 {
				t.Fatalf("jobs after migrating = %+v, %v", jobs, err)
			}
			for _, j := range jobs {
				if !j.StartedAt.IsZero() || !j.FinishedAt.IsZero() || !cmp.Equal(j.Result, metadata.JobResult{Rows: metadata.NoRows}) {
					t.Errorf("migrated job %s: started %v finished %v result %+v", j.Key, j.StartedAt, j.FinishedAt, j.Result)
				}
			}
			created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			e, ok, err := st.CacheEntry(ctx, "k1")
			want := metadata.CacheEntry{InputKey: "k1", JSONHash: "j1", Rows: 3, ComputedAt: created}
			if err != nil || !ok || !cmp.Equal(want, e, cmp.Comparer(time.Time.Equal)) {
				t.Errorf("migrated cache entry = %+v, %v, %v; want %+v", e, ok, err, want)
			}

			// The running job (its runner died during the upgrade) is
			// redelivered and completes with a result.
			running := jobs[1]
			if err := st.MarkRunning(ctx, running.ID); err != nil {
				t.Fatal(err)
			}
			if err := st.Complete(ctx, running.ID, metadata.JobResult{InputKey: "k1", CacheHit: true, Rows: 3}); err != nil {
				t.Fatal(err)
			}
			if j, err := st.JobByID(ctx, running.ID); err != nil || j.Attempts != 2 || !j.Result.CacheHit || j.StartedAt.IsZero() {
				t.Errorf("job after the upgrade = %+v, %v", j, err)
			}
			putBlobs(t, st, "j2", "c2")
			next := metadata.CacheEntry{InputKey: "k1", JSONHash: "j2", CSVHash: "c2", Rows: 4, ComputedAt: created.Add(time.Hour)}
			if err := st.PutCacheEntry(ctx, next); err != nil {
				t.Fatal(err)
			}
			if e, _, err := st.CacheEntry(ctx, "k1"); err != nil || !cmp.Equal(next, e, cmp.Comparer(time.Time.Equal)) {
				t.Errorf("refreshed cache entry = %+v, %v; want %+v", e, err, next)
			}
		})
	}
}
