package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
)

// secretError is a failed job's cause as a careless warehouse driver
// might word it: a DSN with a password, a key=value password, a newline
// and a terminal escape, and more than a line's worth of text.
const secretError = "connect postgres://bob:hunter22@db.internal/shop failed\npassword=s3cr3t-pw rejected \x1b[31m" +
	"and then the driver went on and on about what it tried, which server it asked, and why each of its many attempts failed, " +
	"until the message was far longer than any line of a terminal should be; the end of it says TAIL"

// statusFixture is a project applied to prod and staging, with jobs in
// every state, and bic status's expectations of it.
type statusFixture struct {
	dir string
	// staging holds staging revision 1's jobs counted by status.
	staging map[metadata.JobStatus]int
	// failedKey is staging's failed job.
	failedKey string
	// slowest are the keys of prod revision 1's done jobs, slowest first.
	slowest []string
	took    map[string]time.Duration
}

// newStatusFixture applies bic init's project to prod and runs all its
// jobs, each taking longer than the one before, with data computed
// 3h30m (the first chart) to 10m30s ago (the others); applies it to
// staging and leaves one job failed, one dispatched, one running and
// the rest pending; then applies six more revisions to prod, whose jobs
// stay pending.
func newStatusFixture(t *testing.T) statusFixture {
	t.Helper()
	t.Setenv("BIC_METADATA_URL", "")
	t.Setenv("BIC_ACTOR", "ana")
	dir := newProject(t)
	wantRun(t, 0, "Applied revision 1 to prod", "", "apply", "-p", dir, "--auto-approve")

	ctx := context.Background()
	st, err := metadata.Open(ctx, "sqlite://.bic/bic.db", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var clock time.Time
	st.SetClock(func() time.Time { return clock })
	claim := func() []metadata.JobRow {
		t.Helper()
		clock = time.Now()
		jobs, err := st.Claim(ctx, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return jobs
	}

	fx := statusFixture{dir: dir, staging: map[metadata.JobStatus]int{}, took: map[string]time.Duration{}}
	n, charts := 0, 0
	for jobs := claim(); len(jobs) > 0; jobs = claim() {
		for _, j := range jobs {
			n++
			took := time.Duration(n) * 1300 * time.Millisecond
			if err := st.MarkDispatched(ctx, j); err != nil {
				t.Fatal(err)
			}
			var r metadata.JobResult
			finished := time.Now().Add(-10*time.Minute - 30*time.Second)
			if j.Kind == compiler.JobChartData {
				charts++
				if charts == 1 {
					finished = time.Now().Add(-3*time.Hour - 30*time.Minute)
				}
				key := "input:" + j.Key
				for _, h := range []string{"json:" + j.Key, "csv:" + j.Key} {
					if err := st.PutArtifact(ctx, metadata.Artifact{ContentHash: h, StorageKey: "blobs/" + h, Size: 10, Rows: 4}); err != nil {
						t.Fatal(err)
					}
				}
				if err := st.PutCacheEntry(ctx, metadata.CacheEntry{InputKey: key, JSONHash: "json:" + j.Key, CSVHash: "csv:" + j.Key,
					Rows: 4, ComputedAt: finished}); err != nil {
					t.Fatal(err)
				}
				r = metadata.JobResult{InputKey: key, Rows: 4, CacheHit: charts == 2, Queue: 12 * time.Millisecond,
					Warehouse: took / 2, Encode: 3 * time.Millisecond, Upload: took / 4}
				if r.CacheHit {
					r.Warehouse = 0
				}
			}
			clock = finished.Add(-took)
			if err := st.MarkRunning(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			clock = finished
			if err := st.Complete(ctx, j.ID, r); err != nil {
				t.Fatal(err)
			}
			fx.slowest = append([]string{j.Key}, fx.slowest...)
			fx.took[j.Key] = took
		}
	}
	if charts < 3 || len(fx.slowest) < 4 {
		t.Fatalf("prod ran %d jobs, %d of them charts: too few to order", len(fx.slowest), charts)
	}

	wantRun(t, 0, "Applied revision 1 to staging", "", "apply", "-p", dir, "--env", "staging", "--auto-approve")
	st.SetMaxAttempts(1)
	jobs := claim()
	if len(jobs) < 3 {
		t.Fatalf("staging has %d jobs to claim, want 3 or more", len(jobs))
	}
	for i, j := range jobs[:3] {
		if err := st.MarkDispatched(ctx, j); err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0:
			if err := st.MarkRunning(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Fail(ctx, j.ID, secretError, time.Now()); err != nil {
				t.Fatal(err)
			}
			fx.failedKey = j.Key
		case 1:
			if err := st.MarkRunning(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	staging, err := st.Jobs(ctx, "staging", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range staging {
		fx.staging[j.Status]++
	}

	// Six more revisions of prod, each retitling the dashboard.
	board := filepath.Join(dir, "dashboards", "overview.yaml")
	src, err := os.ReadFile(board)
	if err != nil {
		t.Fatal(err)
	}
	for rev := 2; rev <= 7; rev++ {
		retitled := strings.Replace(string(src), "title: Orders overview", fmt.Sprintf("title: Orders overview %d", rev), 1)
		if err := os.WriteFile(board, []byte(retitled), 0o644); err != nil {
			t.Fatal(err)
		}
		wantRun(t, 0, fmt.Sprintf("Applied revision %d to prod", rev), "", "apply", "-p", dir, "--auto-approve")
	}
	return fx
}

// stagingRow is the text row of staging's revision 1.
func (fx statusFixture) stagingRow() *regexp.Regexp {
	c := fx.staging
	return regexp.MustCompile(fmt.Sprintf(`(?m)^1\s+failed\s+%d\s+%d\s+%d\s+%d\s+%d\s+-$`,
		c[metadata.JobPending], c[metadata.JobDispatched], c[metadata.JobRunning], c[metadata.JobDone], c[metadata.JobFailed]))
}

func TestStatusText(t *testing.T) {
	fx := newStatusFixture(t)
	if fx.staging[metadata.JobFailed] != 1 || fx.staging[metadata.JobDispatched] != 1 || fx.staging[metadata.JobRunning] != 1 || fx.staging[metadata.JobPending] == 0 {
		t.Fatalf("staging's jobs %v, want one failed, dispatched and running, and some pending", fx.staging)
	}
	prodRev1 := regexp.MustCompile(`(?m)^1\s+live\s+0\s+0\s+0\s+\d+\s+0\s+computed 10m ago, oldest 3h ago$`)
	failedLine := "  " + fx.failedKey + " (chart_data "
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantRE  []*regexp.Regexp
		notWant []string
	}{
		{
			name: "every environment",
			args: []string{"status"},
			want: []string{
				"Environment prod: current revision 7, live revision 1.\n",
				"Environment staging: current revision 1, no live revision.\n",
				"REVISION  STATUS",
				"… and 2 older revision(s), live revision 1 among them: --all shows them.",
				"Failed jobs of revision 1:\n" + failedLine,
			},
			wantRE:  []*regexp.Regexp{fx.stagingRow(), regexp.MustCompile(`(?m)^7\s+pending\s+[1-9]`)},
			notWant: []string{"hunter22", "s3cr3t", "JOB  "},
		},
		{
			name:   "every revision",
			args:   []string{"status", "--env", "prod", "--all"},
			want:   []string{"Environment prod: current revision 7, live revision 1.\n"},
			wantRE: []*regexp.Regexp{prodRev1, regexp.MustCompile(`(?m)^2\s+pending\s+[1-9]`)},
			// The failed job is staging's.
			notWant: []string{"staging", "older revision", "Failed jobs"},
		},
		{
			name: "a failed job's error, escaped, redacted and cut",
			args: []string{"status", "--env", "staging"},
			want: []string{
				failedLine,
				"1 attempt: connect postgres://xxxxx@db.internal/shop failed\\npassword=xxxxx rejected \\x1b[31mand then",
			},
			wantRE:  []*regexp.Regexp{fx.stagingRow()},
			notWant: []string{"prod", "hunter22", "s3cr3t", "\x1b", "TAIL"},
		},
		{
			name: "the slowest jobs of prod",
			args: []string{"status", "--env", "prod", "--slow", "3"},
			want: []string{"JOB", "KIND", "TOOK", "QUEUE", "WAREHOUSE", "ENCODE", "UPLOAD", "CACHE", "ROWS"},
			wantRE: []*regexp.Regexp{
				regexp.MustCompile(`(?s)` + regexp.QuoteMeta(fx.slowest[0]) + `\s.*\n` + regexp.QuoteMeta(fx.slowest[1]) + `\s.*\n` + regexp.QuoteMeta(fx.slowest[2]) + `\s`),
			},
			notWant: []string{"ENV  ", fx.slowest[3] + " "},
		},
		{
			name:   "the slowest jobs of every environment",
			args:   []string{"status", "--slow", "1"},
			wantRE: []*regexp.Regexp{regexp.MustCompile(`(?m)^ENV\s+JOB\s+KIND\s+TOOK`), regexp.MustCompile(`(?m)^prod\s+` + regexp.QuoteMeta(fx.slowest[0]) + `\s`)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runBic(t, append(tt.args, "-p", fx.dir)...)
			if code != 0 {
				t.Fatalf("bic %v: exit %d\n%s%s", tt.args, code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, re := range tt.wantRE {
				if !re.MatchString(out) {
					t.Errorf("output does not match %s:\n%s", re, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, failedLine) {
					if msg := line[strings.Index(line, "1 attempt: ")+len("1 attempt: "):]; len([]rune(msg)) > maxErrorLen {
						t.Errorf("the error takes %d characters, want at most %d: %s", len([]rune(msg)), maxErrorLen, msg)
					}
				}
			}
		})
	}
}

// TestStatusSlowPhases: each phase of a slow job is in its column, in
// short units, with whether the cache answered and the rows.
func TestStatusSlowPhases(t *testing.T) {
	fx := newStatusFixture(t)
	code, out, errOut := runBic(t, "status", "-p", fx.dir, "--env", "prod", "--slow", "100")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 9 {
			rows[f[0]] = f[1:]
		}
	}
	var charts, hits int
	for _, key := range fx.slowest {
		r, ok := rows[key]
		if !ok {
			t.Errorf("job %s is not listed:\n%s", key, out)
			continue
		}
		took := fx.took[key]
		if want := shortDuration(took); r[1] != want {
			t.Errorf("%s took %s, want %s", key, r[1], want)
		}
		if r[0] != string(compiler.JobChartData) {
			if want := []string{"-", "-", "-", "-", "-", "-"}; !cmp.Equal(r[2:], want) {
				t.Errorf("%s (%s) phases %v, want %v", key, r[0], r[2:], want)
			}
			continue
		}
		charts++
		want := []string{"12ms", shortDuration(took / 2), "3ms", shortDuration(took / 4), "miss", "4"}
		if r[6] == "hit" {
			hits++
			want[1], want[4] = "-", "hit"
		}
		if !cmp.Equal(r[2:], want) {
			t.Errorf("%s phases %v, want %v", key, r[2:], want)
		}
	}
	if charts < 3 || hits != 1 {
		t.Errorf("%d charts listed, %d cache hits; want 3 or more and 1", charts, hits)
	}
}

func TestStatusJSON(t *testing.T) {
	fx := newStatusFixture(t)
	code, out, errOut := runBic(t, "status", "-p", fx.dir, "--format", "json", "--slow", "2")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var doc struct {
		Environments []struct {
			Env       string `json:"env"`
			Current   int    `json:"current"`
			Live      int    `json:"live"`
			Revisions []struct {
				Number int            `json:"number"`
				Status string         `json:"status"`
				Jobs   map[string]int `json:"jobs"`
				Failed []struct {
					Key       string `json:"key"`
					Kind      string `json:"kind"`
					Attempts  int    `json:"attempts"`
					LastError string `json:"last_error"`
				} `json:"failed"`
				OldestData *time.Time `json:"oldest_data"`
				NewestData *time.Time `json:"newest_data"`
			} `json:"revisions"`
		} `json:"environments"`
		Slowest []struct {
			Env      string `json:"env"`
			Revision int    `json:"revision"`
			Key      string `json:"key"`
			TookMS   int64  `json:"took_ms"`
		} `json:"slowest"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(out, "hunter22") || strings.Contains(out, "s3cr3t") {
		t.Errorf("the JSON holds a password:\n%s", out)
	}
	if len(doc.Environments) != 2 || doc.Environments[0].Env != "prod" || doc.Environments[1].Env != "staging" {
		t.Fatalf("environments %+v, want prod and staging", doc.Environments)
	}
	prod, staging := doc.Environments[0], doc.Environments[1]
	if prod.Current != 7 || prod.Live != 1 || len(prod.Revisions) != 7 || prod.Revisions[0].Number != 7 {
		t.Errorf("prod: current %d live %d, %d revisions; want 7, 1 and all 7 newest first", prod.Current, prod.Live, len(prod.Revisions))
	}
	if r := prod.Revisions[len(prod.Revisions)-1]; r.OldestData == nil || r.NewestData == nil ||
		time.Since(*r.OldestData).Round(time.Minute) != 3*time.Hour+30*time.Minute || time.Since(*r.NewestData).Round(time.Minute) != 11*time.Minute {
		t.Errorf("prod revision 1's data %v to %v, want 3h30m to 10m30s ago", r.OldestData, r.NewestData)
	}
	want := map[string]int{}
	for s, n := range fx.staging {
		want[s.String()] = n
	}
	for _, s := range []string{"pending", "dispatched", "running", "done", "failed"} {
		want[s] += 0
	}
	if len(staging.Revisions) != 1 {
		t.Fatalf("staging revisions %+v, want 1", staging.Revisions)
	}
	r := staging.Revisions[0]
	if diff := cmp.Diff(want, r.Jobs); diff != "" || r.Status != "failed" {
		t.Errorf("staging revision 1: %s, jobs (-want +got):\n%s", r.Status, diff)
	}
	if len(r.Failed) != 1 || r.Failed[0].Key != fx.failedKey || r.Failed[0].Attempts != 1 ||
		!strings.HasPrefix(r.Failed[0].LastError, "connect postgres://xxxxx@db.internal/shop failed\npassword=xxxxx rejected") ||
		!strings.HasSuffix(r.Failed[0].LastError, "TAIL") {
		t.Errorf("staging's failed jobs %+v, want %s with its whole error, redacted", r.Failed, fx.failedKey)
	}

	var keys []string
	for _, s := range doc.Slowest {
		keys = append(keys, s.Key)
		if s.Env != "prod" || s.Revision != 1 || s.TookMS != fx.took[s.Key].Milliseconds() {
			t.Errorf("slow job %+v, want prod revision 1 taking %dms", s, fx.took[s.Key].Milliseconds())
		}
	}
	if diff := cmp.Diff(fx.slowest[:2], keys); diff != "" {
		t.Errorf("slowest (-want +got):\n%s", diff)
	}
}

func TestStatusErrors(t *testing.T) {
	t.Setenv("BIC_METADATA_URL", "")
	fresh := newProject(t)
	applied := newProject(t)
	wantRun(t, 0, "Applied revision 1 to prod", "", "apply", "-p", applied, "--auto-approve")
	tests := []struct {
		name      string
		args      []string
		code      int
		wantOut   string
		wantErr   string
		wantEmpty bool
	}{
		{name: "an unknown environment", args: []string{"status", "-p", applied, "--env", "nope"}, code: 1,
			wantErr: "bic: environment \"nope\": no such environment\n", wantEmpty: true},
		{name: "an un-migrated database", args: []string{"status", "-p", fresh}, code: 1,
			wantErr: "bic: the metadata database at sqlite://.bic/bic.db has no bic tables: run `bic migrate`\n", wantEmpty: true},
		{name: "an un-migrated database, one environment", args: []string{"status", "-p", fresh, "--env", "prod", "--slow", "3"}, code: 1,
			wantErr: "has no bic tables: run `bic migrate`\n", wantEmpty: true},
		{name: "an unknown format", args: []string{"status", "-p", applied, "--format", "yaml"}, code: 2,
			wantErr: "--format: expected text or json"},
		{name: "a negative --slow", args: []string{"status", "-p", applied, "--slow", "-1"}, code: 2,
			wantErr: "--slow: expected a number of jobs"},
		{name: "nothing slow yet", args: []string{"status", "-p", applied, "--slow", "3"}, code: 0,
			wantOut: "No done jobs with timings yet."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runBic(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) || tt.wantEmpty && out != "" {
				t.Errorf("bic %v: exit %d\nstdout: %s\nstderr: %s\nwant exit %d, stdout with %q, stderr with %q",
					tt.args, code, out, errOut, tt.code, tt.wantOut, tt.wantErr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(fresh, ".bic")); !os.IsNotExist(err) {
		t.Errorf("bic status created %s/.bic (%v)", fresh, err)
	}
}

func TestStatusFormatting(t *testing.T) {
	durations := []struct {
		d    time.Duration
		want string
	}{
		{0, "-"}, {12 * time.Millisecond, "12ms"}, {999 * time.Millisecond, "999ms"}, {1300 * time.Millisecond, "1.3s"},
		{42 * time.Second, "42s"}, {125 * time.Second, "2m5s"}, {130 * time.Second, "2m10s"}, {2 * time.Minute, "2m"},
		{time.Hour + 2*time.Minute + 5*time.Second, "1h2m"},
	}
	for _, tt := range durations {
		if got := shortDuration(tt.d); got != tt.want {
			t.Errorf("shortDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	ages := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"}, {40 * time.Second, "40s"}, {5 * time.Minute, "5m"}, {3 * time.Hour, "3h"}, {72 * time.Hour, "3d"},
	}
	for _, tt := range ages {
		if got := age(tt.d); got != tt.want {
			t.Errorf("age(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	errs := []struct {
		name, in, want string
	}{
		{"plain", "warehouse unreachable", "warehouse unreachable"},
		{"newline and tab", "a\n\tb", `a\n\tb`},
		{"url", "dial snowflake://me:pw1234@acct/db?token=abc&x=1: refused", "dial snowflake://xxxxx@acct/db?token=xxxxx&x=1: refused"},
		{"key value", `host=db user=bob password='x y' sslmode=require`, `host=db user=bob password=xxxxx sslmode=require`},
		{"invalid utf-8", "bad \xff byte", `bad \xff byte`},
		{"long", strings.Repeat("é", 300), strings.Repeat("é", maxErrorLen-1) + "…"},
		{"an escape at the cut", strings.Repeat("a", maxErrorLen-2) + "\n", strings.Repeat("a", maxErrorLen-2) + "…"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if got := oneLineError(tt.in); got != tt.want {
				t.Errorf("oneLineError(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestStatusAlerts: bic status shows each alert's state, a preview's as a
// dry run that sent nothing, and the notifications that failed, in text
// and JSON.
func TestStatusAlerts(t *testing.T) {
	t.Setenv("BIC_METADATA_URL", "")
	dir := newProject(t)
	wantRun(t, 0, "Applied revision 1 to prod", "", "apply", "-p", dir, "--auto-approve")
	wantRun(t, 0, "Applied revision 1 to preview pr-1", "", "preview", "-p", dir, "--env", "pr-1")
	ctx := context.Background()
	st, err := metadata.Open(ctx, "sqlite://.bic/bic.db", dir)
	if err != nil {
		t.Fatal(err)
	}
	tick := time.Now().Add(-time.Hour).Truncate(time.Minute)
	v := 2.0
	for env, dry := range map[string]bool{"prod": false, "pr-1": true} {
		if _, err := st.RecordEvaluation(ctx, env, "no_orders", metadata.Evaluation{At: tick, Tick: tick, State: "firing", Value: &v, Notify: true, DryRun: dry}); err != nil {
			t.Fatal(err)
		}
	}
	key := "prod/alert/no_orders/" + tick.UTC().Format(time.RFC3339) + "/firing"
	if _, err := st.BeginDelivery(ctx, key, "webhook:hooks.example.com:1"); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishDelivery(ctx, key, "webhook:hooks.example.com:1", metadata.DeliveryFailed, 5, "503 from hooks.example.com"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out, errOut := runBic(t, "status", "-p", dir)
	for _, want := range []string{"Alerts:", "no_orders", "firing since 1h ago", "value 2", "dry run: nothing sent",
		"Failed notifications:\n  " + key + " to webhook:hooks.example.com:1, 5 attempts, "} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("bic status: exit %d, want %q in\n%s%s", code, want, out, errOut)
		}
	}
	code, out, _ = runBic(t, "status", "-p", dir, "--env", "pr-1", "--format", "json")
	if code != 0 || !strings.Contains(out, `"dry_run": true`) || strings.Contains(out, "failed_deliveries") {
		t.Errorf("bic status --env pr-1 --format json: exit %d\n%s", code, out)
	}
}
