package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/compiler/query"
	"github.com/bic-dev/bic/runner"
	"github.com/bic-dev/bic/runner/result"
)

func newQueryCmd() *cobra.Command {
	var (
		dir     string
		filters []string
		format  string
		showSQL bool
		dryRun  bool
		nowFlag string
		conn    string
	)
	cmd := &cobra.Command{
		Use:   "query DASHBOARD/CHART [DIR]",
		Short: "Run one chart's query on its warehouse and print the result",
		Long: `Query plans a chart with the dashboard's filter values (their defaults, or
--filter NAME=VALUE), writes its SQL for the chart's connection, runs it and
prints the result.

Filter values: a list is comma-separated (--filter country=DE,FR), a date range
is a named range or FROM..TO (--filter period=2025-01-01..2025-03-31), a number
range MIN..MAX; NAME= clears a filter's default. Values are always bound as
parameters, never written into the SQL.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "table", "json", "csv":
			default:
				return usageErrorf("unknown --format %q: expected table, json or csv", format)
			}
			if nowFlag != "" {
				// Checked before compiling, so a typo fails at once.
				if _, err := parseNow(nowFlag, time.UTC); err != nil {
					return usageErrorf("%v", err)
				}
			}
			// Warnings are shown too: a filter that applies to no chart
			// explains an odd result.
			m, err := compileProject(cmd, dir)
			if err != nil {
				return err
			}
			now := time.Now()
			if nowFlag != "" {
				loc, err := m.Location()
				if err != nil {
					return &exitError{code: exitRuntime, err: err}
				}
				now, _ = parseNow(nowFlag, loc)
			}
			dash, err := findChart(m, args[0], dir)
			if err != nil {
				return err
			}
			state, err := query.ParseFilterArgs(m, dash, filters)
			if err != nil {
				return usageErrorf("%v", err)
			}
			q, err := query.PlanChart(m, args[0], state, now)
			if err != nil {
				return usageErrorf("%v", err)
			}
			if conn != "" {
				// The same chart on another warehouse holding the same tables.
				c, ok := m.Connection(conn)
				if !ok {
					return usageErrorf("no connection %q in %s", conn, dir)
				}
				q.Connection, q.Dialect = c.Spec.Name, c.Spec.Type
			}
			if showSQL || dryRun {
				s, err := q.SQL()
				if err != nil {
					return &exitError{code: exitRuntime, err: err}
				}
				w := cmd.ErrOrStderr()
				if dryRun {
					w = cmd.OutOrStdout()
				}
				fmt.Fprintf(w, "-- %s on connection %s (%s)\n%s", q.Chart, q.Connection, q.Dialect, s.Text)
				for i, a := range s.Args {
					fmt.Fprintf(w, "-- parameter %d: %#v\n", i+1, a)
				}
				if dryRun {
					return nil
				}
			}
			return runQuery(cmd.Context(), cmd.OutOrStdout(), m, dir, q, format)
		},
	}
	addProjectFlag(cmd, &dir, 1)
	cmd.Flags().StringArrayVarP(&filters, "filter", "f", nil, "a filter value NAME=VALUE (repeatable)")
	cmd.Flags().StringVar(&format, "format", "table", "output: table, json (as served to charts) or csv")
	cmd.Flags().BoolVar(&showSQL, "sql", false, "print the SQL and its parameters to stderr before the result")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the SQL and its parameters, and do not run it")
	cmd.Flags().StringVar(&conn, "connection", "", "run on this connection of the project instead of the dataset's (its tables must match)")
	cmd.Flags().StringVar(&nowFlag, "now", "", "resolve relative time ranges as of this time (RFC 3339), instead of now")
	return cmd
}

// findChart checks a DASHBOARD/CHART argument before planning, so a typo
// is answered with the names there are.
func findChart(m *compiler.Manifest, ref, dir string) (dash string, err error) {
	dash, chart, _ := strings.Cut(ref, "/")
	d, ok := m.Dashboard(dash)
	if !ok {
		names := make([]string, len(m.Dashboards))
		for i, d := range m.Dashboards {
			names[i] = d.Spec.Name
		}
		return "", usageErrorf("no dashboard %q in %s%s\ndashboards: %s", dash, dir, compiler.DidYouMean(dash, names), nameList(names))
	}
	charts := make([]string, len(d.Spec.Charts))
	for i, c := range d.Spec.Charts {
		charts[i] = c.Name
	}
	switch {
	case len(charts) == 0:
		return "", usageErrorf("dashboard %q has no charts", dash)
	case chart == "":
		return "", usageErrorf("expected DASHBOARD/CHART, such as %s/%s\ncharts of %s: %s", dash, charts[0], dash, nameList(charts))
	case !slices.Contains(charts, chart):
		return "", usageErrorf("dashboard %q has no chart %q%s\ncharts of %s: %s", dash, chart, compiler.DidYouMean(chart, charts), dash, nameList(charts))
	}
	return dash, nil
}

// nameList joins names for a message, at most 20 of them.
func nameList(names []string) string {
	if len(names) > 20 {
		return strings.Join(names[:20], ", ") + fmt.Sprintf(" and %d more", len(names)-20)
	}
	return strings.Join(names, ", ")
}

// runQuery runs a planned chart through the runner and prints it in format.
func runQuery(ctx context.Context, out io.Writer, m *compiler.Manifest, dir string, q *query.Query, format string) error {
	err := runner.RunChart(ctx, warehouses{env: os.LookupEnv, dir: dir}, m, q, func(rows result.Rows) error {
		var err error
		switch format {
		case "json":
			_, err = result.WriteJSON(out, rows)
		case "csv":
			_, err = result.WriteCSV(out, rows)
		default:
			err = writeTable(out, rows)
		}
		return err
	})
	if err != nil {
		return &exitError{code: exitRuntime, err: err}
	}
	return nil
}

// writeTable prints rows aligned in columns, then the row count.
func writeTable(out io.Writer, rows result.Rows) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	cols := rows.Columns()
	for i, c := range cols {
		if i > 0 {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprint(tw, c.Name)
	}
	fmt.Fprintln(tw, "\t")
	n := 0
	for rows.Next() {
		for i, v := range rows.Values() {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, cell(v))
		}
		fmt.Fprintln(tw, "\t")
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "(%d %s)\n", n, map[bool]string{true: "row", false: "rows"}[n == 1])
	return err
}

func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case float64:
		// Twelve significant digits hide float noise such as 7085.059999999998.
		r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
		return strconv.FormatFloat(r, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}
