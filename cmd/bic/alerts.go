package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/compiler/query"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/runner"
	"github.com/bic-dev/bic/runner/alert"
	"github.com/bic-dev/bic/runner/notify"
	"github.com/bic-dev/bic/runner/schedule"
)

// maxBacktest bounds the warehouse queries of one backtest.
const maxBacktest = 1000

func newAlertsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "Try an alert on the warehouse, or list its evaluations",
	}
	cmd.AddCommand(newAlertsTestCmd(), newAlertsHistoryCmd())
	return cmd
}

func newAlertsTestCmd() *cobra.Command {
	var (
		f        = deployFlags{readOnly: true}
		atFlag   string
		send     bool
		backtest string
	)
	cmd := &cobra.Command{
		Use:   "test NAME [DIR]",
		Short: "Evaluate an alert now on the warehouse and show what it would send",
		Long: `Test evaluates alert NAME on the warehouse, now or --at a time, from the
environment's recorded state, and shows the values, the condition, the
transition and the channels it would notify. It records and sends nothing
unless --send, which sends a test message to every channel at once.

--backtest 30d evaluates the alert at each of its schedule's ticks over the
past 30 days (at most 1,000), from ok, and prints every transition: how
often it would have fired and notified. It records and sends nothing.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var window time.Duration
			if backtest != "" {
				d, err := compiler.ParseDuration(backtest)
				if err != nil || d <= 0 {
					return usageErrorf("--backtest: expected a duration such as 30d or 12h, found %q", excerptArg(backtest))
				}
				if send || atFlag != "" {
					return usageErrorf("--backtest evaluates past ticks and sends nothing: leave out --send and --at")
				}
				window = d
			}
			if atFlag != "" {
				if _, err := parseNow(atFlag, time.UTC); err != nil {
					return usageErrorf("%s", strings.Replace(err.Error(), "--now", "--at", 1))
				}
			}
			m, err := compileProject(cmd, f.dir)
			if err != nil {
				return err
			}
			a, err := findAlertSpec(m, args[0])
			if err != nil {
				return err
			}
			w := &runner.Worker{Open: warehouses{env: os.LookupEnv, dir: f.dir}}
			defer w.Close()
			if window > 0 {
				return runBacktest(cmd.Context(), cmd.OutOrStdout(), w, m, a, time.Now(), window)
			}
			now, at := time.Now(), time.Now()
			if atFlag != "" {
				loc, _ := time.LoadLocation(a.Timezone) // checked by the compiler
				at, _ = parseNow(atFlag, loc)
				now = at
			}
			st, note, err := recordedState(cmd.Context(), &f, m, a.Name)
			if err != nil {
				return err
			}
			out, err := w.EvaluateAlert(cmd.Context(), m, a.Name, at, st, now)
			if err != nil {
				return &exitError{code: exitRuntime, err: fmt.Errorf("evaluate alert %s: %w", a.Name, err)}
			}
			channels, bad := alertChannels(a)
			o := cmd.OutOrStdout()
			if out.Notice == alert.None && out.To != alert.OK {
				note = strings.TrimPrefix(note+"; ", "; ") + cooldownText(a, st)
			}
			writeEvaluation(o, m, a, f.env, at, out, note, channels, bad)
			if !send {
				fmt.Fprintln(o, "Nothing was sent (use --send to send it).")
				return nil
			}
			return sendTest(cmd.Context(), o, a, f.env, at, out, channels)
		},
	}
	f.register(cmd, "prod")
	cmd.Args = projectArgs(&f.dir, 1)
	cmd.Flags().StringVar(&atFlag, "at", "", "evaluate as of this time (RFC 3339, or a date: midnight in the alert's time zone) instead of now")
	cmd.Flags().BoolVar(&send, "send", false, "send a test message to every channel now")
	cmd.Flags().StringVar(&backtest, "backtest", "", "evaluate every tick of the schedule over this past span, such as 30d, and print the transitions")
	return cmd
}

// findAlertSpec is the project's alert name, or an error naming the ones
// there are.
func findAlertSpec(m *compiler.Manifest, name string) (compiler.Alert, error) {
	names := make([]string, len(m.Alerts))
	for i, a := range m.Alerts {
		if a.Spec.Name == name {
			return a.Spec, nil
		}
		names[i] = a.Spec.Name
	}
	if len(names) == 0 {
		return compiler.Alert{}, &exitError{code: exitInvalid, err: fmt.Errorf("no alert %q: the project has no alerts", name)}
	}
	return compiler.Alert{}, &exitError{code: exitInvalid, err: fmt.Errorf("no alert %q%s\nalerts: %s", name, compiler.DidYouMean(name, names), nameList(names))}
}

// recordedState is the alert's state in f.env: the zero state, with a note
// why, when the metadata database has none yet.
func recordedState(ctx context.Context, f *deployFlags, m *compiler.Manifest, name string) (metadata.AlertState, string, error) {
	st, err := f.openStore(ctx, m)
	if errors.Is(err, metadata.ErrNotMigrated) {
		return metadata.AlertState{}, "no state recorded: " + errors.Unwrap(err).Error(), nil
	}
	if err != nil {
		return metadata.AlertState{}, "", err
	}
	defer st.Close()
	state, err := st.AlertState(ctx, f.env, name)
	switch {
	case errors.Is(err, metadata.ErrNotMigrated):
		return metadata.AlertState{}, "no state recorded: " + err.Error(), nil
	case err != nil:
		return metadata.AlertState{}, "", storeError(err)
	case state.State == "":
		return state, "never evaluated in " + f.env, nil
	}
	return state, fmt.Sprintf("recorded: %s since the tick of %s", state.State, state.Tick.UTC().Format("2006-01-02 15:04 UTC")), nil
}

// alertChannels are the alert's channels with their secrets expanded from
// the environment, and the reasons of those that cannot be.
func alertChannels(a compiler.Alert) (channels []notify.Channel, bad []string) {
	for _, n := range a.Notify {
		ch, err := notify.ChannelFromNotify(n, os.LookupEnv)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		channels = append(channels, ch)
	}
	return channels, bad
}

// writeEvaluation prints one evaluation as bic alerts test shows it.
func writeEvaluation(o io.Writer, m *compiler.Manifest, a compiler.Alert, env string, at time.Time, out runner.AlertOutcome, note string, channels []notify.Channel, bad []string) {
	loc, _ := time.LoadLocation(a.Timezone)
	fmt.Fprintf(o, "Alert %s in %s, evaluated at %s\n", a.Name, env, at.In(loc).Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(o, "  metric:    %s of dataset %s, by %s (%s)\n", a.Metric, a.Dataset, a.Period, a.Timezone)
	var current, previous string
	if q, err := query.PlanAlert(m, a.Name, at); err == nil {
		for _, w := range q.Windows {
			switch w.Name {
			case "current":
				current = periodText(w.Window.From.In(loc), w.Window.To.In(loc))
			case "previous":
				previous = periodText(w.Window.From.In(loc), w.Window.To.In(loc))
			}
		}
	}
	fmt.Fprintf(o, "  current:   %s: %s\n", current, valueText(out.Current))
	fmt.Fprintf(o, "  previous:  %s: %s\n", previous, valueText(out.Previous))
	fmt.Fprintf(o, "  condition: %s\n", conditionText(a))
	fmt.Fprintf(o, "  observed:  %s\n", out.Observation.Text)
	fmt.Fprintf(o, "  state:     %s → %s: %s\n", out.From, out.To, noticeText(out.Notice, channels))
	if note != "" {
		fmt.Fprintf(o, "             (%s)\n", note)
	}
	if !m.Project.RunsSchedules(env) {
		fmt.Fprintf(o, "  %s does not run schedules: its runners record this evaluation as a dry run and send nothing\n", env)
	}
	fmt.Fprintln(o, "  channels:")
	for _, c := range channels {
		fmt.Fprintf(o, "    %s\n", c)
	}
	for _, b := range bad {
		fmt.Fprintf(o, "    cannot be sent: %s\n", b)
	}
}

func noticeText(n alert.Notice, channels []notify.Channel) string {
	if n == alert.None {
		return "nothing to notify"
	}
	names := make([]string, len(channels))
	for i, c := range channels {
		names[i] = c.String()
	}
	what := map[alert.Notice]string{alert.Fire: "would notify", alert.Remind: "would remind", alert.Resolve: "would notify it resolved to", alert.Missing: "would notify no data to"}[n]
	if len(names) == 0 {
		return what + " no channel (none can be sent)"
	}
	return what + " " + strings.Join(names, ", ")
}

// cooldownText says why a firing alert notifies nothing.
func cooldownText(a compiler.Alert, st metadata.AlertState) string {
	if a.Cooldown == "" {
		return "no cooldown: a firing alert notifies once, when it starts firing"
	}
	if st.LastNotifiedAt.IsZero() {
		return "cooldown " + a.Cooldown
	}
	return fmt.Sprintf("last notified at %s; cooldown %s", st.LastNotifiedAt.UTC().Format("2006-01-02 15:04 UTC"), a.Cooldown)
}

// periodText is a period [from, to) in its zone: a day as its date, whole
// days as the first and last date, else the times.
func periodText(from, to time.Time) string {
	midnight := func(t time.Time) bool { return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 }
	if midnight(from) && midnight(to) {
		last := to.AddDate(0, 0, -1)
		if last.Format(time.DateOnly) == from.Format(time.DateOnly) {
			return from.Format(time.DateOnly)
		}
		return from.Format(time.DateOnly) + " to " + last.Format(time.DateOnly)
	}
	return from.Format("2006-01-02 15:04") + " to " + to.Format("2006-01-02 15:04 MST")
}

func valueText(v *float64) string {
	if v == nil {
		return "no data"
	}
	return cell(*v)
}

// conditionText is an alert's condition as its file reads.
func conditionText(a compiler.Alert) string {
	c := a.Condition
	switch {
	case c.NoData:
		return fmt.Sprintf("%s has no data for the %s", a.Metric, a.Period)
	case c.Change != "":
		return fmt.Sprintf("%s: %s by %s%% or more against the previous %s", a.Metric, c.Change, cell(c.Percent), a.Period)
	}
	var v float64
	if c.Value != nil {
		v = *c.Value
	}
	return fmt.Sprintf("%s %s %s", a.Metric, c.Op, cell(v))
}

// sendTest sends a test message of the evaluation to every channel now,
// with a key of its own: it is never taken for a tick's notification.
func sendTest(ctx context.Context, o io.Writer, a compiler.Alert, env string, at time.Time, out runner.AlertOutcome, channels []notify.Channel) error {
	cfg, err := notifyConfig()
	if err != nil {
		return &exitError{code: exitInvalid, err: err}
	}
	if len(channels) == 0 {
		return &exitError{code: exitRuntime, err: fmt.Errorf("alert %s: no channel can be sent to", a.Name)}
	}
	now := time.Now()
	msg := notify.Message{Kind: notify.KindAlert, Name: a.Name, Env: env, State: notify.StateTest, Tick: at,
		Text:  fmt.Sprintf("A test of alert %s, sent by bic alerts test: %s (%s → %s).", a.Name, out.Observation.Text, out.From, out.To),
		Value: out.Current, Previous: out.Previous, IdempotencyKey: notify.Key(env, notify.KindAlert, a.Name, now, notify.StateTest)}
	rep, err := cfg.Deliver(ctx, noLedger{}, channels, msg)
	if err != nil {
		return &exitError{code: exitRuntime, err: err}
	}
	failed := 0
	for i, d := range rep.Deliveries {
		switch d.Outcome {
		case notify.Failed:
			failed++
			fmt.Fprintf(o, "  %s: failed after %d attempt(s): %s\n", channels[i], d.Attempts, d.Reason)
		default:
			fmt.Fprintf(o, "  %s: %s\n", channels[i], d.Outcome)
		}
	}
	if failed > 0 {
		return &exitError{code: exitRuntime, err: fmt.Errorf("the test of alert %s failed on %d of %d channel(s)", a.Name, failed, len(channels))}
	}
	fmt.Fprintf(o, "Sent a test message to %d channel(s) (key %s).\n", len(channels), msg.IdempotencyKey)
	return nil
}

// noLedger records nothing: a test message is sent every time it is asked.
type noLedger struct{}

func (noLedger) Begin(context.Context, string, string) (bool, error)         { return false, nil }
func (noLedger) Done(context.Context, string, string, notify.Delivery) error { return nil }

// runBacktest evaluates a at its schedule's ticks over the window before
// now, from ok, and prints the transitions and what they would have sent.
func runBacktest(ctx context.Context, o io.Writer, w *runner.Worker, m *compiler.Manifest, a compiler.Alert, now time.Time, window time.Duration) error {
	sched, err := schedule.Parse(a.Schedule, a.Timezone)
	if err != nil {
		return &exitError{code: exitInvalid, err: fmt.Errorf("alert %s: %w", a.Name, err)}
	}
	loc := sched.Location()
	st := metadata.AlertState{State: string(alert.OK)}
	counts := map[alert.Notice]int{}
	n, last := 0, time.Time{}
	for t := sched.Next(now.Add(-window)); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		if n == maxBacktest {
			fmt.Fprintf(o, "Stopped after %s evaluations, at %s: a shorter --backtest reaches now.\n", thousands(maxBacktest), last.In(loc).Format("2006-01-02 15:04 MST"))
			break
		}
		out, err := w.EvaluateAlert(ctx, m, a.Name, t, st, t)
		if err != nil {
			return &exitError{code: exitRuntime, err: fmt.Errorf("evaluate alert %s at %s: %w", a.Name, t.Format(time.RFC3339), err)}
		}
		n, last = n+1, t
		counts[out.Notice]++
		if out.From != out.To || out.Notice == alert.Remind {
			what := fmt.Sprintf("%s → %s", out.From, out.To)
			if out.Notice == alert.Remind {
				what += " (reminder)"
			}
			fmt.Fprintf(o, "%s  %s  %s\n", t.In(loc).Format("2006-01-02 15:04 MST"), what, out.Observation.Text)
		}
		st.State, st.Tick = string(out.To), t
		if out.Notice != alert.None {
			st.LastNotifiedAt = t
		}
	}
	notified := counts[alert.Fire] + counts[alert.Remind] + counts[alert.Resolve] + counts[alert.Missing]
	fmt.Fprintf(o, "%s: %s evaluation(s) over the past %s (%s); would have fired %s, resolved %s",
		a.Name, thousands(int64(n)), backtestSpan(window), a.Schedule, times(counts[alert.Fire]), times(counts[alert.Resolve]))
	if counts[alert.Missing] > 0 {
		fmt.Fprintf(o, ", had no data %s", times(counts[alert.Missing]))
	}
	fmt.Fprintf(o, "; notified %s.\nNothing was recorded or sent.\n", times(notified))
	return nil
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// backtestSpan writes a window in days when it is whole days.
func backtestSpan(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func newAlertsHistoryCmd() *cobra.Command {
	var (
		f      = deployFlags{readOnly: true}
		limit  int
		format string
	)
	cmd := &cobra.Command{
		Use:   "history NAME [DIR]",
		Short: "List an alert's evaluations in an environment, newest first",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTextOrJSON(format); err != nil {
				return err
			}
			m, err := compileProject(cmd, f.dir)
			if err != nil {
				return err
			}
			a, err := findAlertSpec(m, args[0])
			if err != nil {
				return err
			}
			st, err := f.openStore(cmd.Context(), m)
			if err != nil {
				return err
			}
			defer st.Close()
			evs, err := st.AlertHistory(cmd.Context(), f.env, a.Name, limit)
			if err != nil {
				return storeError(err)
			}
			return writeAlertHistory(cmd.OutOrStdout(), format, f.env, a.Name, evs)
		},
	}
	f.register(cmd, "prod")
	cmd.Args = projectArgs(&f.dir, 1)
	cmd.Flags().IntVar(&limit, "limit", 50, "list at most this many evaluations (0: all)")
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

// evaluationJSON is an evaluation as bic alerts history --format json prints it.
type evaluationJSON struct {
	At       time.Time  `json:"at"`
	Tick     *time.Time `json:"tick,omitempty"`
	State    string     `json:"state"`
	Value    *float64   `json:"value"`
	Previous *float64   `json:"previous,omitempty"`
	Notified bool       `json:"notified"`
	DryRun   bool       `json:"dry_run"`
	Message  string     `json:"message"`
}

func writeAlertHistory(o io.Writer, format, env, name string, evs []metadata.Evaluation) error {
	if format == "json" {
		list := make([]evaluationJSON, len(evs))
		for i, e := range evs {
			list[i] = evaluationJSON{At: e.At.UTC(), State: e.State, Value: e.Value, Previous: e.Previous, Notified: e.Notify, DryRun: e.DryRun, Message: e.Message}
			if !e.Tick.IsZero() {
				t := e.Tick.UTC()
				list[i].Tick = &t
			}
		}
		return writeJSON(o, list)
	}
	if len(evs) == 0 {
		_, err := fmt.Fprintf(o, "Alert %s has no evaluations in %s.\n", name, env)
		return err
	}
	tw := tabwriter.NewWriter(o, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tTICK\tSTATE\tVALUE\tNOTIFIED\tDRY RUN\tMESSAGE")
	yes := map[bool]string{true: "yes", false: "no"}
	for _, e := range evs {
		tick := "by hand"
		if !e.Tick.IsZero() {
			tick = e.Tick.UTC().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format(time.DateTime), tick, e.State, valueText(e.Value), yes[e.Notify], map[bool]string{true: "dry run", false: "no"}[e.DryRun], e.Message)
	}
	return tw.Flush()
}
