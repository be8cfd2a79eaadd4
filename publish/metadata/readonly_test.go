package metadata_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/runner/servicetest"
)

// pgSchemaURL is the test server's URL with a search_path of a new schema
// name, which nothing has created; the returned admin connection sees it,
// and drops the schema when the test ends.
func pgSchemaURL(t *testing.T) (url, schema string, admin *sql.DB) {
	t.Helper()
	base := servicetest.Postgres(t)
	schema = fmt.Sprintf("bic_test_%d", time.Now().UnixNano())
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema, schema, admin
}

// tablesIn counts the tables of a PostgreSQL schema, and whether it exists.
func tablesIn(t *testing.T, admin *sql.DB, schema string) (exists bool, tables int) {
	t.Helper()
	if err := admin.QueryRow(`SELECT count(*) > 0 FROM pg_namespace WHERE nspname = $1`, schema).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if err := admin.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = $1`, schema).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	return exists, tables
}

// listDir names the files under dir with a hash of each, to show that
// nothing was created or changed.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if info.IsDir() {
			out = append(out, rel+"/")
			return nil
		}
		b, _ := os.ReadFile(path)
		out = append(out, fmt.Sprintf("%s %x", rel, sha256.Sum256(b)))
		return nil
	})
	sort.Strings(out)
	return out
}

// checkEmptyStore checks what a store without bic's tables answers: an
// empty snapshot, so that a plan creates everything; for anything else,
// the message that says to run bic migrate; and no writes.
func checkEmptyStore(t *testing.T, st *metadata.Store, wantWhere string) {
	t.Helper()
	ctx := context.Background()
	m := compile(t, project("sum(amount)", nil))
	p, err := publish.Plan(ctx, st, m, "prod", "")
	if err != nil {
		t.Fatalf("plan against an empty database: %v", err)
	}
	if p.BaseRevision != 0 || len(changeIDs(p)["create"]) != len(p.Changes) || len(p.Changes) == 0 {
		t.Errorf("plan against an empty database: base %d, changes %v; want everything created", p.BaseRevision, changeIDs(p))
	}
	want := "the metadata database at " + wantWhere + " has no bic tables: run `bic migrate`"
	if _, err := st.History(ctx, "prod"); !errors.Is(err, metadata.ErrNotMigrated) || err.Error() != want {
		t.Errorf("history: err = %v\nwant %s", err, want)
	}
	if _, err := st.Manifest(ctx, "prod", 1); !errors.Is(err, metadata.ErrNotMigrated) {
		t.Errorf("manifest: err = %v", err)
	}
	if _, err := st.Apply(ctx, metadata.ApplyRequest{Env: "prod", Plan: p, Manifest: m}); !errors.Is(err, metadata.ErrReadOnly) {
		t.Errorf("apply on a read-only store: err = %v", err)
	}
	if _, err := st.Migrate(ctx); !errors.Is(err, metadata.ErrReadOnly) {
		t.Errorf("migrate on a read-only store: err = %v", err)
	}
}

// TestReadOnlyCreatesNothingOnSQLite: bic plan and bic history open the
// metadata database with OpenReadOnly; on a SQLite file that is not there
// they create neither it nor its folder, and plan against nothing.
func TestReadOnlyCreatesNothingOnSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := metadata.OpenReadOnly(ctx, "sqlite://nested/dir/bic.db", dir)
	if err != nil {
		t.Fatal(err)
	}
	checkEmptyStore(t, st, "sqlite://nested/dir/bic.db")
	st.Close()
	abs := filepath.Join(t.TempDir(), "absent", "bic.db")
	st, err = metadata.OpenReadOnly(ctx, "sqlite://"+abs, "")
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if got := listDir(t, dir); len(got) != 0 {
		t.Errorf("a read-only open created %v", got)
	}
	if _, err := os.Stat(filepath.Dir(abs)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a read-only open created %s: %v", filepath.Dir(abs), err)
	}

	// A file that is there but holds no bic tables is empty too, and stays as it was.
	if err := os.WriteFile(filepath.Join(dir, "empty.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	before := listDir(t, dir)
	st, err = metadata.OpenReadOnly(ctx, "sqlite://empty.db", dir)
	if err != nil {
		t.Fatal(err)
	}
	checkEmptyStore(t, st, "sqlite://empty.db")
	st.Close()
	if diff := cmp.Diff(before, listDir(t, dir)); diff != "" {
		t.Errorf("files changed (-before +after):\n%s", diff)
	}
}

// TestReadOnlyCreatesNothingOnPostgres: on a search_path schema that does
// not exist, and on one without tables, a read-only open creates neither
// the schema nor a table.
func TestReadOnlyCreatesNothingOnPostgres(t *testing.T) {
	ctx := context.Background()
	url, schema, admin := pgSchemaURL(t)
	where := strings.Replace(url, "postgres@", "xxxxx@", 1)
	st, err := metadata.OpenReadOnly(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	checkEmptyStore(t, st, where)
	st.Close()
	if exists, _ := tablesIn(t, admin, schema); exists {
		t.Fatalf("a read-only open created schema %s", schema)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	st, err = metadata.OpenReadOnly(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	checkEmptyStore(t, st, where)
	// The session itself cannot write, whatever a caller tries.
	if _, err := st.DB().ExecContext(ctx, "CREATE TABLE bic_ro_probe (x int)"); err == nil || !strings.Contains(err.Error(), "read-only transaction") {
		t.Errorf("CREATE TABLE in a read-only session: err = %v", err)
	}
	st.Close()
	if _, tables := tablesIn(t, admin, schema); tables != 0 {
		t.Errorf("a read-only open created %d tables in %s", tables, schema)
	}
}

// TestReadOnlyNeedsCurrentSchema: a database at an older schema version is
// not migrated by a read-only command, which says to run bic migrate; one
// at a newer version says to upgrade bic. A current one reads, and refuses
// writes.
func TestReadOnlyNeedsCurrentSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// SQLite needs no server: only the postgres subtest asks for one.
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			raw := "sqlite://meta.db"
			if name == "postgres" {
				raw, _, _ = pgSchemaURL(t)
			}
			rw, err := metadata.Open(ctx, raw, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer rw.Close()
			m := compile(t, project("sum(amount)", nil))
			apply(t, rw, m, "prod")
			latest := metadata.LatestVersion(rw)

			ro, err := metadata.OpenReadOnly(ctx, raw, dir)
			if err != nil {
				t.Fatal(err)
			}
			if revs, err := ro.History(ctx, "prod"); err != nil || len(revs) != 1 {
				t.Errorf("history = %v, %v; want revision 1", revs, err)
			}
			p, err := publish.Plan(ctx, ro, m, "prod", "")
			if err != nil || p.HasChanges() {
				t.Errorf("plan = %v, %v; want no changes", p, err)
			}
			if _, err := ro.Apply(ctx, metadata.ApplyRequest{Env: "prod", Plan: p, Manifest: m}); !errors.Is(err, metadata.ErrReadOnly) {
				t.Errorf("apply on a read-only store: err = %v", err)
			}
			if _, _, err := ro.GC(ctx, "test"); !errors.Is(err, metadata.ErrReadOnly) {
				t.Errorf("gc on a read-only store: err = %v", err)
			}
			ro.Close()

			// An older bic's database: the version recorded is one behind.
			if _, err := rw.DB().ExecContext(ctx, fmt.Sprintf("DELETE FROM bic_schema_migrations WHERE version = %d", latest)); err != nil {
				t.Fatal(err)
			}
			_, err = metadata.OpenReadOnly(ctx, raw, dir)
			want := fmt.Sprintf("is at schema version %d, this bic needs %d: run `bic migrate`", latest-1, latest)
			if !errors.Is(err, metadata.ErrNotMigrated) || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "the metadata database at ") {
				t.Errorf("older schema: err = %v\nwant …%s", err, want)
			}
			if v, _ := rw.Version(ctx); v != latest-1 {
				t.Errorf("a read-only open migrated the database to version %d", v)
			}

			if _, err := rw.DB().ExecContext(ctx, fmt.Sprintf("UPDATE bic_schema_migrations SET version = 999 WHERE version = %d", latest-1)); err != nil {
				t.Fatal(err)
			}
			_, err = metadata.OpenReadOnly(ctx, raw, dir)
			if !errors.Is(err, metadata.ErrSchemaTooNew) || !strings.Contains(err.Error(), fmt.Sprintf("schema version 999, this bic knows up to %d; upgrade bic", latest)) {
				t.Errorf("newer schema: err = %v", err)
			}
		})
	}
}
