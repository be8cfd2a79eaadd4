package metadata_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/metadata"
)

// v1Rows is data as bic at schema version 1 wrote it.
var v1Rows = []string{
	`INSERT INTO bic_schema_migrations (version, name, applied_at) VALUES (1, '0001_init.sql', '2026-01-01T00:00:00Z')`,
	`INSERT INTO environments (name, kind, created_at) VALUES ('prod', 'persistent', '2026-01-01T00:00:00Z')`,
	`INSERT INTO revisions (env, number, status, source, manifest_hash, manifest, applied_at) VALUES ('prod', 1, 'pending', 'apply', 'h1', '{}', '2026-01-01T00:00:00Z')`,
	`UPDATE environments SET current_revision = (SELECT id FROM revisions WHERE number = 1)`,
	`INSERT INTO jobs (revision_id, job_key, kind, object_id, inputs_hash, status, attempts, created_at, updated_at)
		VALUES ((SELECT id FROM revisions WHERE number = 1), 'chart_data:chart/a/b@0123', 'chart_data', 'chart/a/b', '0123', 'pending', 2, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
}

// Migration 0002 keeps what version 1 stored: the jobs table SQLite
// rebuilds keeps its rows, with as_of and run_at from created_at; the
// migrated database takes new applies.
func TestMigrationKeepsVersion1Data(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			var url, dir string
			var db *sql.DB
			var err error
			if name == "sqlite" {
				dir = t.TempDir()
				url = "sqlite://v1.db"
				db, err = sql.Open("sqlite", "file:"+filepath.Join(dir, "v1.db")+"?_pragma=foreign_keys(1)")
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
			v1, err := os.ReadFile(filepath.Join("migrations", name, "0001_init.sql"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, string(v1)); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `CREATE TABLE bic_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			for _, q := range v1Rows {
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
			if v, err := st.Version(ctx); err != nil || v != metadata.LatestVersion(st) {
				t.Fatalf("version %d, %v", v, err)
			}
			jobs, err := st.Jobs(ctx, "prod", 1)
			if err != nil || len(jobs) != 1 {
				t.Fatalf("jobs after migrating = %+v, %v", jobs, err)
			}
			j, created := jobs[0], time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			if j.Key != "chart_data:chart/a/b@0123" || j.Status != metadata.JobPending || j.Attempts != 2 || !j.AsOf.Equal(created) || !j.RunAt.Equal(created) || j.ID == 0 {
				t.Errorf("migrated job = %+v", j)
			}
			env, err := st.Environment(ctx, "prod")
			if err != nil || env.Revision != 1 || env.Live != 0 || env.Kind != metadata.EnvPersistent {
				t.Errorf("migrated environment = %+v, %v", env, err)
			}
			rev, _ := apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			if rev.Number != 2 {
				t.Errorf("apply after migrating wrote revision %d, want 2", rev.Number)
			}
		})
	}
}
