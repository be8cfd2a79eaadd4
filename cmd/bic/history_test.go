package main

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/metadata"
)

// TestHistoryShowsLiveAndCurrent: after an apply the new revision is
// current but nothing is live; once its jobs are done it is live too, and
// bic history says so in text (the LIVE column and the footer) and JSON.
func TestHistoryShowsLiveAndCurrent(t *testing.T) {
	t.Setenv("BIC_METADATA_URL", "")
	t.Setenv("BIC_ACTOR", "ana")
	dir := newProject(t)
	wantRun(t, 0, "Applied revision 1 to prod", "", "apply", "-p", dir, "--auto-approve")
	wantRun(t, 0, "* current: revision 1; nothing is live yet.", "", "history", "-p", dir)

	ctx := context.Background()
	st, err := metadata.Open(ctx, "sqlite://.bic/bic.db", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for {
		jobs, err := st.Claim(ctx, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			if err := st.MarkRunning(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			if err := st.Complete(ctx, j.ID, metadata.JobResult{}); err != nil {
				t.Fatal(err)
			}
		}
	}

	code, out, errOut := runBic(t, "history", "-p", dir)
	if code != 0 || !regexp.MustCompile(`(?m)^1 \* .* live +live\s*$`).MatchString(out) || regexp.MustCompile(`current: revision`).MatchString(out) {
		t.Errorf("history once revision 1 is live: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runBic(t, "history", "-p", dir, "--format", "json")
	var revs []map[string]any
	if err := json.Unmarshal([]byte(out), &revs); code != 0 || err != nil || len(revs) != 1 {
		t.Fatalf("history --format json: exit %d, %v\n%s", code, err, out)
	}
	if revs[0]["live"] != true || revs[0]["current"] != true || revs[0]["status"] != "live" {
		t.Errorf("history JSON = %v, want live and current", revs[0])
	}
}
