package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPromoteRollbackAndGC: through the binary, on the embedded defaults
// (SQLite, file storage, a runner inside apply --wait): promote makes
// prod serve staging's release at once; rollback to a release storage
// still holds points at it at once and says whose data it serves; once
// its record is gone, rollback falls back to computing it again; gc
// --dry-run removes nothing.
func TestPromoteRollbackAndGC(t *testing.T) {
	t.Setenv("BIC_METADATA_URL", "")
	t.Setenv("BIC_STORAGE_URL", "")
	t.Setenv("BIC_ACTOR", "ana")
	dir := newProject(t)
	wantRun(t, 0, "Revision 1 of prod is live.", "", "apply", "-p", dir, "--auto-approve", "--wait")
	dash := filepath.Join(dir, "dashboards", "overview.yaml")
	b, err := os.ReadFile(dash)
	if err != nil {
		t.Fatal(err)
	}
	edited := regexp.MustCompile(`(?m)^title: .*$`).ReplaceAll(b, []byte("title: Overview for staging"))
	if err := os.WriteFile(dash, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	wantRun(t, 0, "Revision 1 of staging is live.", "", "apply", "-p", dir, "--env", "staging", "--auto-approve", "--wait")

	wantRun(t, 1, "", `environment "nope"`, "promote", "-p", dir, "--from", "nope", "--to", "prod", "--auto-approve")
	wantRun(t, 2, "", "--from and --to", "promote", "-p", dir, "--to", "prod")
	wantRun(t, 0, "Promoted staging revision 1 to prod as revision 2; prod now serves it.", "", "promote", "-p", dir, "--from", "staging", "--to", "prod", "--auto-approve")
	code, out, errOut := runBic(t, "history", "-p", dir)
	if code != 0 || !regexp.MustCompile(`(?m)^2 \* .* ana +promote .* 0 +live +live\s*$`).MatchString(out) {
		t.Errorf("history after the promote: exit %d\n%s%s", code, out, errOut)
	}
	wantRun(t, 0, "prod already has the definitions of staging revision 1: nothing to promote.", "", "promote", "-p", dir, "--from", "staging", "--to", "prod", "--auto-approve")

	wantRun(t, 0, "live at once; prod serves the data published with revision 1 at ", "", "rollback", "-p", dir, "--to", "1", "--auto-approve")
	pointer, err := os.ReadFile(filepath.Join(dir, ".bic", "artifacts", "envs", "prod", "current"))
	if err != nil || !strings.Contains(string(pointer), `"revision":3`) {
		t.Errorf("prod's pointer after the rollback: %s (%v)", pointer, err)
	}
	code, out, _ = runBic(t, "history", "-p", dir)
	if code != 0 || !regexp.MustCompile(`(?m)^3 \* .* rollback to 1 .* 0 +live +live\s*$`).MatchString(out) {
		t.Errorf("history after the rollback: exit %d\n%s", code, out)
	}

	// Revision 2's record gone (as gc removes it past the retention): a
	// rollback to 2 computes its data again.
	records, _ := filepath.Glob(filepath.Join(dir, ".bic", "artifacts", "envs", "prod", "releases", "0000000002-*"))
	if len(records) == 0 {
		t.Fatal("no record of revision 2's release in storage")
	}
	for _, r := range records {
		os.Remove(r)
	}
	code, out, errOut = runBic(t, "rollback", "-p", dir, "--to", "2", "--auto-approve")
	if code != 0 || !strings.Contains(out, "The release of revision 2 is no longer in storage: runners will compute its data again.") ||
		!regexp.MustCompile(`Applied revision 4 to prod: the definitions of revision 2, [1-9]\d* jobs enqueued.`).MatchString(out) {
		t.Errorf("rollback to a release no longer in storage: exit %d\n%s%s", code, out, errOut)
	}
	wantRun(t, 0, "* current: revision 4; live: revision 3.", "", "history", "-p", dir)
	before, _ := filepath.Glob(filepath.Join(dir, ".bic", "artifacts", "blobs", "*", "*"))
	wantRun(t, 0, "Would remove 0 blobs (0 B) no release within 7d names; kept ", "", "gc", "-p", dir, "--dry-run")
	after, _ := filepath.Glob(filepath.Join(dir, ".bic", "artifacts", "blobs", "*", "*"))
	if len(before) == 0 || len(after) != len(before) {
		t.Errorf("gc --dry-run: %d blobs before, %d after", len(before), len(after))
	}
	wantRun(t, 2, "", "--grace", "gc", "-p", dir, "--grace", "1m")

	// Destroying staging stops serving it: its pointer and release records
	// leave storage, so gc no longer keeps what only they named.
	staging := filepath.Join(dir, ".bic", "artifacts", "envs", "staging")
	if _, err := os.Stat(filepath.Join(staging, "current")); err != nil {
		t.Fatalf("staging has no pointer before bic destroy: %v", err)
	}
	wantRun(t, 0, "Destroyed environment staging.", "", "destroy", "-p", dir, "--env", "staging", "--force")
	left, _ := filepath.Glob(filepath.Join(staging, "*", "*"))
	if _, err := os.Stat(filepath.Join(staging, "current")); !os.IsNotExist(err) || len(left) != 0 {
		t.Errorf("after bic destroy staging still has in storage: its pointer (%v), %v", err, left)
	}
}
