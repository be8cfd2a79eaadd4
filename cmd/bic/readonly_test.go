package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/runner/servicetest"
)

// runBic runs one command line and returns its exit code and output.
func runBic(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// newProject writes bic init's project into a new temporary folder.
func newProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proj")
	if code, _, errOut := runBic(t, "init", dir); code != 0 {
		t.Fatalf("bic init: exit %d: %s", code, errOut)
	}
	return dir
}

func statErr(path string) error {
	_, err := os.Stat(path)
	return err
}

func wantRun(t *testing.T, wantCode int, wantOut, wantErr string, args ...string) {
	t.Helper()
	code, out, errOut := runBic(t, args...)
	if code != wantCode || !strings.Contains(out, wantOut) || !strings.Contains(errOut, wantErr) {
		t.Errorf("bic %s: exit %d\nstdout: %s\nstderr: %s\nwant exit %d, stdout with %q, stderr with %q",
			strings.Join(args, " "), code, out, errOut, wantCode, wantOut, wantErr)
	}
}

// TestPlanAndHistoryWriteNothingOnSQLite: in a fresh clone, bic plan shows
// everything to create without creating .bic/ or the database; bic
// history says to run bic migrate and creates nothing either.
func TestPlanAndHistoryWriteNothingOnSQLite(t *testing.T) {
	t.Setenv("BIC_METADATA_URL", "")
	dir := newProject(t)
	wantRun(t, 0, "Plan: 9 to create, 0 to update, 0 to delete.", "", "plan", "-p", dir)
	wantRun(t, 1, "", "bic: the metadata database at sqlite://.bic/bic.db has no bic tables: run `bic migrate`\n", "history", "-p", dir)
	if !errors.Is(statErr(filepath.Join(dir, ".bic")), os.ErrNotExist) {
		t.Errorf("plan or history created %s/.bic", dir)
	}
	elsewhere := filepath.Join(t.TempDir(), "nonexistent", "dir", "bic.db")
	wantRun(t, 0, "Plan: 9 to create", "", "plan", "-p", dir, "--metadata", "sqlite://"+elsewhere)
	wantRun(t, 1, "", "has no bic tables: run `bic migrate`", "history", "-p", dir, "--metadata", "sqlite://"+elsewhere)
	if top := filepath.Dir(filepath.Dir(elsewhere)); !errors.Is(statErr(top), os.ErrNotExist) {
		t.Errorf("plan or history created %s", top)
	}

	// Once applied, both read; plan still changes nothing in the database.
	wantRun(t, 0, "Applied revision 1 to prod", "", "apply", "-p", dir, "--auto-approve")
	db := filepath.Join(dir, ".bic", "bic.db")
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	wantRun(t, 0, "No changes: prod is up to date at revision 1.", "", "plan", "-p", dir)
	wantRun(t, 0, "1 *", "", "history", "-p", dir)
	if after, _ := os.ReadFile(db); !bytes.Equal(before, after) {
		t.Error("plan or history changed the database file")
	}
}

// TestPlanAndHistoryWriteNothingOnPostgres: against a search_path schema
// that does not exist, plan shows everything to create and creates
// neither the schema nor a table; against an older schema version, plan
// and history say to run bic migrate and leave the version as it was.
func TestPlanAndHistoryWriteNothingOnPostgres(t *testing.T) {
	base := servicetest.Postgres(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("bic_cli_ro_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	t.Setenv("BIC_METADATA_URL", base+sep+"search_path="+schema)
	dir := newProject(t)
	wantRun(t, 0, "Plan: 9 to create, 0 to update, 0 to delete.", "", "plan", "-p", dir)
	wantRun(t, 1, "", "has no bic tables: run `bic migrate`\n", "history", "-p", dir)
	var n int
	if err := admin.QueryRow(`SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err != nil || n != 0 {
		t.Fatalf("plan or history created schema %s (%d, %v)", schema, n, err)
	}

	wantRun(t, 0, "migration(s)", "", "migrate", "-p", dir)
	// Take the latest migration back: the database is one version behind.
	var latest int
	if err := admin.QueryRow("SELECT max(version) FROM " + schema + ".bic_schema_migrations").Scan(&latest); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("DELETE FROM "+schema+".bic_schema_migrations WHERE version = $1", latest); err != nil {
		t.Fatal(err)
	}
	want := "bic: the metadata database at " + strings.Replace(base, "postgres@", "xxxxx@", 1) + sep + "search_path=" + schema +
		fmt.Sprintf(" is at schema version %d, this bic needs %d: run `bic migrate`\n", latest-1, latest)
	wantRun(t, 1, "", want, "plan", "-p", dir)
	wantRun(t, 1, "", want, "history", "-p", dir)
	if err := admin.QueryRow("SELECT max(version) FROM " + schema + ".bic_schema_migrations").Scan(&n); err != nil || n != latest-1 {
		t.Errorf("plan or history migrated the database to version %d (%v)", n, err)
	}
}
