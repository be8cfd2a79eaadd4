package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/schedule"
)

func newSchedulesCmd() *cobra.Command {
	var (
		dir    string
		env    = "prod"
		next   int
		format string
	)
	cmd := &cobra.Command{
		Use:   "schedules [DIR]",
		Short: "List every alert, report and dataset refresh with its next runs",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTextOrJSON(format); err != nil {
				return err
			}
			if next < 0 || next > 100 {
				return usageErrorf("--next: expected 0 to 100 runs, found %d", next)
			}
			m, err := compileProject(cmd, dir)
			if err != nil {
				return err
			}
			list, err := projectSchedules(m, env, time.Now(), next)
			if err != nil {
				return &exitError{code: exitInvalid, err: err}
			}
			return writeSchedules(cmd.OutOrStdout(), format, env, list)
		},
	}
	addProjectFlag(cmd, &dir, 0)
	cmd.Flags().Var(envNameFlag{&env}, "env", "the environment")
	cmd.Flags().IntVar(&next, "next", 3, "show this many next runs of each")
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func checkTextOrJSON(format string) error {
	if format != "text" && format != "json" {
		return usageErrorf("unknown --format %q: expected text or json", excerptArg(format))
	}
	return nil
}

func writeJSON(o io.Writer, v any) error {
	enc := json.NewEncoder(o)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// scheduled is one scheduled object as bic schedules lists it.
type scheduled struct {
	Kind     string      `json:"kind"`
	Name     string      `json:"name"`
	Schedule string      `json:"schedule"`
	Timezone string      `json:"timezone"`
	Catchup  string      `json:"catchup"`
	Runs     string      `json:"runs"` // runs, dry_run or off
	Next     []time.Time `json:"next"`
}

// projectSchedules are m's scheduled objects in env, each with its next n
// runs after now in its own time zone.
func projectSchedules(m *compiler.Manifest, env string, now time.Time, n int) ([]scheduled, error) {
	live := m.Project.RunsSchedules(env)
	runs := map[bool]string{true: "runs", false: "dry_run"}[live]
	var out []scheduled
	for _, a := range m.Alerts {
		out = append(out, scheduled{Kind: schedule.KindAlert, Name: a.Spec.Name, Schedule: a.Spec.Schedule, Timezone: a.Spec.Timezone, Catchup: a.Spec.Catchup, Runs: runs})
	}
	for _, r := range m.Reports {
		out = append(out, scheduled{Kind: schedule.KindReport, Name: r.Spec.Name, Schedule: r.Spec.Schedule, Timezone: r.Spec.Timezone, Catchup: r.Spec.Catchup, Runs: runs})
	}
	for _, d := range m.Datasets {
		if d.Spec.Refresh == "" {
			continue
		}
		// Only the schedule environments refresh (the others share their caches).
		out = append(out, scheduled{Kind: schedule.KindRefresh, Name: d.Spec.Name, Schedule: d.Spec.Refresh,
			Timezone: cmp.Or(m.Project.Defaults.Timezone, "UTC"), Catchup: d.Spec.Catchup, Runs: map[bool]string{true: "runs", false: "off"}[live]})
	}
	for i := range out {
		s := &out[i]
		s.Catchup = cmp.Or(s.Catchup, "latest")
		sched, err := schedule.Parse(s.Schedule, s.Timezone)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", s.Kind, s.Name, err)
		}
		s.Next = []time.Time{}
		for t := now; len(s.Next) < n; {
			if t = sched.Next(t); t.IsZero() {
				break
			}
			s.Next = append(s.Next, t.In(sched.Location()))
		}
	}
	return out, nil
}

func writeSchedules(o io.Writer, format, env string, list []scheduled) error {
	if format == "json" {
		return writeJSON(o, list)
	}
	if len(list) == 0 {
		_, err := fmt.Fprintln(o, "The project schedules nothing: no alerts, no reports, no dataset refresh.")
		return err
	}
	tw := tabwriter.NewWriter(o, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "KIND\tNAME\tSCHEDULE\tTIME ZONE\tCATCH-UP\tIN %s\tNEXT RUNS\n", strings.ToUpper(env))
	for _, s := range list {
		next := make([]string, len(s.Next))
		for i, t := range s.Next {
			next[i] = t.Format("2006-01-02 15:04 MST")
		}
		runs := map[string]string{"runs": "runs", "dry_run": "dry run", "off": "off"}[s.Runs]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Kind, s.Name, s.Schedule, s.Timezone, s.Catchup, runs, strings.Join(next, ", "))
	}
	return tw.Flush()
}
