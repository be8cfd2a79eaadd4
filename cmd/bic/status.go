package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
)

// statusRevisions is how many revisions of an environment bic status
// shows in text unless --all.
const statusRevisions = 5

// maxErrorLen is how long a job's error may be in bic status's text, in
// characters, once escaped onto one line.
const maxErrorLen = 200

// statusJobStates are the job states bic status counts, in the order of
// the lifecycle.
var statusJobStates = []metadata.JobStatus{metadata.JobPending, metadata.JobDispatched, metadata.JobRunning, metadata.JobDone, metadata.JobFailed}

func newStatusCmd() *cobra.Command {
	var (
		f      = deployFlags{readOnly: true}
		format string
		slow   int
		all    bool
	)
	cmd := &cobra.Command{
		Use:   "status [DIR]",
		Short: "Show where each environment's revisions and jobs are, what failed, and how fresh the data is",
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usageErrorf("--format: expected text or json, found %q", format)
			}
			if slow < 0 {
				return usageErrorf("--slow: expected a number of jobs, found %d", slow)
			}
			st, err := f.openStore(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer st.Close()
			report, err := st.Status(cmd.Context(), f.env)
			if err != nil {
				return storeError(err)
			}
			slowest, err := st.Slowest(cmd.Context(), f.env, slow)
			if err != nil {
				return storeError(err)
			}
			now := time.Now()
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(statusJSON(report, slowest, slow > 0))
			}
			return writeStatusText(out, report, slowest, statusTextOptions{now: now, all: all, slow: slow > 0, envColumn: f.env == ""})
		},
	}
	f.register(cmd, "")
	cmd.Flags().Lookup("env").Usage = "the environment (default: every one)"
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	cmd.Flags().IntVar(&slow, "slow", 0, "also list the `N` slowest done jobs, with their phases")
	cmd.Flags().BoolVar(&all, "all", false, "show every revision, not only the 5 newest")
	return cmd
}

type statusTextOptions struct {
	now time.Time
	all bool
	// slow is whether --slow asked for the slowest jobs; envColumn
	// whether they come from every environment.
	slow, envColumn bool
}

func writeStatusText(out io.Writer, report metadata.StatusReport, slowest []metadata.JobTiming, o statusTextOptions) error {
	if len(report.Environments) == 0 {
		fmt.Fprintln(out, "No environments yet: bic apply creates one.")
	}
	for i, e := range report.Environments {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "Environment %s: %s, %s.\n\n", e.Env, revisionPhrase("current", e.Current), revisionPhrase("live", e.Live))
		revs := e.Revisions
		if !o.all && len(revs) > statusRevisions {
			revs = revs[:statusRevisions]
		}
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "REVISION\tSTATUS\tPENDING\tDISPATCHED\tRUNNING\tDONE\tFAILED\tDATA")
		for _, r := range revs {
			fmt.Fprintf(tw, "%d\t%s", r.Number, r.Status)
			for _, s := range statusJobStates {
				fmt.Fprintf(tw, "\t%d", r.Jobs[s])
			}
			fmt.Fprintf(tw, "\t%s\n", freshness(r.OldestData, r.NewestData, o.now))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if hidden := e.Revisions[len(revs):]; len(hidden) > 0 {
			among := ""
			for _, r := range hidden {
				if r.Number == e.Live {
					among = fmt.Sprintf(", live revision %d among them", r.Number)
				}
			}
			fmt.Fprintf(out, "… and %d older revision(s)%s: --all shows them.\n", len(hidden), among)
		}
		for _, r := range revs {
			if len(r.Failed) == 0 {
				continue
			}
			fmt.Fprintf(out, "\nFailed jobs of revision %d:\n", r.Number)
			for _, j := range r.Failed {
				fmt.Fprintf(out, "  %s (%s %s), %s: %s\n", j.Key, j.Kind, j.ObjectID, plural(j.Attempts, "attempt"), oneLineError(j.LastError))
			}
		}
		writeAlertStatus(out, e, o.now)
	}
	if !o.slow {
		return nil
	}
	fmt.Fprintln(out)
	if len(slowest) == 0 {
		fmt.Fprintln(out, "No done jobs with timings yet.")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	header := "JOB\tKIND\tTOOK\tQUEUE\tWAREHOUSE\tENCODE\tUPLOAD\tCACHE\tROWS"
	if o.envColumn {
		header = "ENV\t" + header
	}
	fmt.Fprintln(tw, header)
	for _, j := range slowest {
		if o.envColumn {
			fmt.Fprintf(tw, "%s\t", j.Env)
		}
		r := j.Result
		cache, rows := "-", "-"
		if r.InputKey != "" {
			cache = "miss"
			if r.CacheHit {
				cache = "hit"
			}
		}
		if r.Rows != metadata.NoRows && r.InputKey != "" {
			rows = strconv.FormatInt(r.Rows, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.Key, j.Kind, shortDuration(j.Took),
			shortDuration(r.Queue), shortDuration(r.Warehouse), shortDuration(r.Encode), shortDuration(r.Upload), cache, rows)
	}
	return tw.Flush()
}

func revisionPhrase(what string, n int) string {
	if n == 0 {
		return "no " + what + " revision"
	}
	return fmt.Sprintf("%s revision %d", what, n)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// freshness says how old a revision's data is: its newest entry's age,
// and its oldest's when that reads differently.
func freshness(oldest, newest, now time.Time) string {
	if newest.IsZero() {
		return "-"
	}
	s := "computed " + age(now.Sub(newest)) + " ago"
	if o := age(now.Sub(oldest)); !oldest.IsZero() && o != age(now.Sub(newest)) {
		s += ", oldest " + o + " ago"
	}
	return s
}

// age is a duration as people say it of the past: 40s, 5m, 3h, 2d.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(int(d/time.Second), 0))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
}

// shortDuration writes a phase's duration for a column: 12ms, 1.3s, 42s,
// 2m5s; "-" for a phase that did not happen.
func shortDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Round(time.Millisecond)/time.Millisecond)
	case d < 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", d.Round(time.Second)/time.Second)
	default:
		d = d.Round(time.Second)
		h, m, sec := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
		switch {
		case h > 0:
			return fmt.Sprintf("%dh%dm", h, m)
		case sec == 0:
			return fmt.Sprintf("%dm", m)
		default:
			return fmt.Sprintf("%dm%ds", m, sec)
		}
	}
}

var (
	// urlRE finds URLs in a job's error, whose user and password
	// compiler.RedactURL hides.
	urlRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)
	// secretPairRE finds password=…, token: … and the like in a
	// warehouse's message (DSNs in key=value form).
	secretPairRE = regexp.MustCompile(`(?i)\b((?:password|passwd|pwd|secret|token|access_key|private_key)\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)`)
)

// redactJobError hides what looks like a credential in a job's error: a
// warehouse's message may quote a DSN. The runner already removes the
// passwords it knows of; this is the last line before a terminal or CI log.
func redactJobError(msg string) string {
	msg = urlRE.ReplaceAllStringFunc(msg, compiler.RedactURL)
	return secretPairRE.ReplaceAllString(msg, "${1}xxxxx")
}

// oneLineError is a job's error for a line of text: redacted, with
// newlines and control characters escaped as Go does (\n, \x1b), cut to
// maxErrorLen characters.
func oneLineError(msg string) string {
	var b strings.Builder
	n := 0
	msg = redactJobError(msg)
	for len(msg) > 0 {
		r, size := utf8.DecodeRuneInString(msg)
		tok := msg[:size]
		msg = msg[size:]
		switch {
		case r == utf8.RuneError && size == 1:
			tok = fmt.Sprintf(`\x%02x`, tok[0])
		case !strconv.IsPrint(r):
			q := strconv.QuoteRune(r)
			tok = q[1 : len(q)-1]
		}
		if n+utf8.RuneCountInString(tok) > maxErrorLen-1 {
			return b.String() + "…"
		}
		b.WriteString(tok)
		n += utf8.RuneCountInString(tok)
	}
	return b.String()
}

// statusReportJSON is bic status --format json's document.
type statusReportJSON struct {
	Environments []envStatusJSON `json:"environments"`
	// Slowest is present when --slow asked for it.
	Slowest *[]jobTimingJSON `json:"slowest,omitempty"`
}

type envStatusJSON struct {
	Env       string               `json:"env"`
	Current   int                  `json:"current"`
	Live      int                  `json:"live"`
	Revisions []revisionStatusJSON `json:"revisions"`
	Alerts    []alertStatusJSON    `json:"alerts,omitempty"`
	// FailedDeliveries are notifications that did not reach a channel.
	FailedDeliveries []deliveryJSON `json:"failed_deliveries,omitempty"`
}

type alertStatusJSON struct {
	Alert       string     `json:"alert"`
	State       string     `json:"state"`
	Value       *float64   `json:"value,omitempty"`
	FiringSince *time.Time `json:"firing_since,omitempty"`
	EvaluatedAt time.Time  `json:"evaluated_at"`
	DryRun      bool       `json:"dry_run"`
}

type deliveryJSON struct {
	Key      string    `json:"key"`
	Channel  string    `json:"channel"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"`
	At       time.Time `json:"at"`
}

type revisionStatusJSON struct {
	Number int            `json:"number"`
	Status string         `json:"status"`
	Jobs   map[string]int `json:"jobs"`
	Failed []failedJSON   `json:"failed"`
	// OldestData and NewestData are absent when no job recorded data.
	OldestData *time.Time `json:"oldest_data,omitempty"`
	NewestData *time.Time `json:"newest_data,omitempty"`
}

type failedJSON struct {
	ID        int64  `json:"id"`
	Key       string `json:"key"`
	Kind      string `json:"kind"`
	ObjectID  string `json:"object_id"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error"`
}

// jobTimingJSON is a done job's timing; a phase that did not happen is
// absent, and so are cache_hit and rows for a job that looked nothing up.
type jobTimingJSON struct {
	Env         string `json:"env"`
	Revision    int    `json:"revision"`
	ID          int64  `json:"id"`
	Key         string `json:"key"`
	Kind        string `json:"kind"`
	ObjectID    string `json:"object_id"`
	TookMS      int64  `json:"took_ms"`
	QueueMS     int64  `json:"queue_ms,omitempty"`
	WarehouseMS int64  `json:"warehouse_ms,omitempty"`
	EncodeMS    int64  `json:"encode_ms,omitempty"`
	UploadMS    int64  `json:"upload_ms,omitempty"`
	CacheHit    *bool  `json:"cache_hit,omitempty"`
	Rows        *int64 `json:"rows,omitempty"`
}

func statusJSON(report metadata.StatusReport, slowest []metadata.JobTiming, withSlow bool) statusReportJSON {
	out := statusReportJSON{Environments: []envStatusJSON{}}
	for _, e := range report.Environments {
		ej := envStatusJSON{Env: e.Env, Current: e.Current, Live: e.Live, Revisions: []revisionStatusJSON{}}
		for _, a := range e.Alerts {
			aj := alertStatusJSON{Alert: a.Alert, State: cmp.Or(a.State, "ok"), Value: a.Value, EvaluatedAt: a.LastEvaluatedAt.UTC(), DryRun: a.DryRun}
			if !a.FiringSince.IsZero() {
				t := a.FiringSince.UTC()
				aj.FiringSince = &t
			}
			ej.Alerts = append(ej.Alerts, aj)
		}
		for _, d := range e.FailedDeliveries {
			ej.FailedDeliveries = append(ej.FailedDeliveries, deliveryJSON{Key: d.Key, Channel: d.Channel, Attempts: d.Attempts, Error: oneLineError(d.Error), At: d.At.UTC()})
		}
		for _, r := range e.Revisions {
			rj := revisionStatusJSON{Number: r.Number, Status: r.Status.String(), Jobs: map[string]int{}, Failed: []failedJSON{}}
			for _, s := range statusJobStates {
				rj.Jobs[s.String()] = r.Jobs[s]
			}
			for _, j := range r.Failed {
				rj.Failed = append(rj.Failed, failedJSON{ID: j.ID, Key: j.Key, Kind: string(j.Kind), ObjectID: j.ObjectID,
					Attempts: j.Attempts, LastError: redactJobError(j.LastError)})
			}
			if !r.NewestData.IsZero() {
				oldest, newest := r.OldestData.UTC(), r.NewestData.UTC()
				rj.OldestData, rj.NewestData = &oldest, &newest
			}
			ej.Revisions = append(ej.Revisions, rj)
		}
		out.Environments = append(out.Environments, ej)
	}
	if !withSlow {
		return out
	}
	timings := []jobTimingJSON{}
	for _, j := range slowest {
		r := j.Result
		tj := jobTimingJSON{Env: j.Env, Revision: j.Revision, ID: j.ID, Key: j.Key, Kind: string(j.Kind), ObjectID: j.ObjectID,
			TookMS: j.Took.Milliseconds(), QueueMS: r.Queue.Milliseconds(), WarehouseMS: r.Warehouse.Milliseconds(),
			EncodeMS: r.Encode.Milliseconds(), UploadMS: r.Upload.Milliseconds()}
		if r.InputKey != "" {
			hit := r.CacheHit
			tj.CacheHit = &hit
			if r.Rows != metadata.NoRows {
				rows := r.Rows
				tj.Rows = &rows
			}
		}
		timings = append(timings, tj)
	}
	out.Slowest = &timings
	return out
}

// writeAlertStatus prints an environment's alerts, a preview's marked as
// dry runs, and the notifications that failed.
func writeAlertStatus(out io.Writer, e metadata.EnvironmentStatus, now time.Time) {
	if len(e.Alerts) > 0 {
		fmt.Fprintln(out, "\nAlerts:")
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		for _, a := range e.Alerts {
			state := cmp.Or(a.State, "ok")
			if !a.FiringSince.IsZero() {
				state += " since " + age(now.Sub(a.FiringSince)) + " ago"
			}
			value := "-"
			if a.Value != nil {
				value = strconv.FormatFloat(*a.Value, 'f', -1, 64)
			}
			dry := ""
			if a.DryRun {
				dry = "dry run: nothing sent"
			}
			fmt.Fprintf(tw, "  %s\t%s\tvalue %s\tevaluated %s ago\t%s\n", a.Alert, state, value, age(now.Sub(a.LastEvaluatedAt)), dry)
		}
		tw.Flush()
	}
	if len(e.FailedDeliveries) > 0 {
		fmt.Fprintln(out, "\nFailed notifications:")
		for _, d := range e.FailedDeliveries {
			fmt.Fprintf(out, "  %s to %s, %s, %s ago: %s\n", d.Key, d.Channel, plural(d.Attempts, "attempt"), age(now.Sub(d.At)), oneLineError(d.Error))
		}
	}
}
