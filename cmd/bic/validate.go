package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/bic-dev/bic/compiler"
)

func newValidateCmd() *cobra.Command {
	var (
		dir      string
		format   string
		manifest bool
		strict   bool
		noCache  bool
		useCache bool
	)
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check a project and report every error with file:line:col",
		Long: `Validate loads every YAML and CUE file of the project in DIR (default: the
current folder), checks it against the schema, resolves every reference and
reports all problems in one run.

Only regular files inside DIR are read (a symbolic link that leads out of it
is refused), each at most --max-file-size.

What bic made of each unchanged YAML file (parsed and checked against the
schema) is kept in DIR/.bic/cache, with each dashboard's hashes and
verdict, so the next run parses and checks only the files that changed,
and resolves again only the dashboards a change can affect: one whose
file, project settings, connections and datasets are as they were when it
was found clean is counted, not resolved (--manifest resolves every
object). Entries are signed with a key in your user cache folder, so a
cache that came with the project is never trusted. --no-cache turns the
cache off; with CI=true it is off unless --cache is given.

Exit status: 0 when the project is valid, 1 when it has errors, 2 for usage
errors, 130 or 143 when stopped by SIGINT or SIGTERM.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "text", "json", "github":
			default:
				return usageErrorf("unknown --format %q: expected text, json or github", format)
			}
			if noCache && useCache {
				return usageErrorf("--cache and --no-cache: give one")
			}
			// Compiling allocates a lot of short-lived trees: collecting
			// less often costs memory (a 10,000-chart project peaks near
			// 0.5 GB) and saves a third of the time. GOGC still wins.
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(validateGCPercent)
			}
			limits, err := projectLimits(cmd)
			if err != nil {
				return err
			}
			var cache compiler.FileCache
			if useCache || !noCache && os.Getenv("CI") != "true" {
				if dc, err := openCompileCache(dir); err == nil {
					defer dc.Close()
					cache = dc
				}
				// A cache that cannot be opened (a read-only checkout, no
				// user cache folder) only costs time.
			}
			// Without --manifest only the verdict is wanted, so dashboards
			// the cache knows to be clean are counted, not resolved again.
			res, err := compileWith(cmd.Context(), dir, limits, compileOptions{cache: cache, checkOnly: !manifest})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			diagOut := out
			if manifest && format == "json" {
				// stdout carries the manifest alone, so it stays one JSON
				// document; GitHub annotations stay on stdout, where the
				// runner reads workflow commands.
				diagOut = cmd.ErrOrStderr()
			}
			if err := writeDiagnostics(diagOut, cmd.ErrOrStderr(), format, res); err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			if res.Diagnostics.HasErrors(strict) {
				return &exitError{code: exitInvalid}
			}
			if manifest {
				b, err := res.Manifest.JSON()
				if err != nil {
					return &exitError{code: exitRuntime, err: err}
				}
				_, err = out.Write(b)
				return err
			}
			if format == "text" {
				n := res.Counts
				fmt.Fprintf(cmd.ErrOrStderr(), "%s is valid: %d datasets, %d dashboards, %d charts, %d alerts, %d reports\n",
					dir, n.Datasets, n.Dashboards, n.Charts, n.Alerts, n.Reports)
			}
			return nil
		},
	}
	addProjectFlag(cmd, &dir, 0)
	cmd.Flags().StringVar(&format, "format", "text", "how to print diagnostics: text, json or github (pull-request annotations)")
	cmd.Flags().BoolVar(&manifest, "manifest", false, "print the compiled manifest as JSON when the project is valid")
	cmd.Flags().BoolVar(&strict, "strict", false, "treat warnings as errors")
	cmd.Flags().BoolVar(&noCache, "no-cache", false, "parse and check every file, without reading or writing DIR/.bic/cache")
	cmd.Flags().BoolVar(&useCache, "cache", false, "use DIR/.bic/cache even when CI=true (where it is off by default)")
	return cmd
}

// compileFor compiles the project in dir for cmd: under its context and
// within the limits its flags set.
func compileFor(cmd *cobra.Command, dir string) (compiler.Result, error) {
	limits, err := projectLimits(cmd)
	if err != nil {
		return compiler.Result{}, err
	}
	return compileDir(cmd.Context(), dir, limits)
}

// compileDir compiles the project in dir, reading only the files inside it
// and within limits; a folder that cannot be read is a usage error. When
// ctx is done first, it returns the compiler's error and run turns it into
// the signal's exit code.
func compileDir(ctx context.Context, dir string, limits compiler.Limits) (compiler.Result, error) {
	return compileWith(ctx, dir, limits, compileOptions{})
}

// validateGCPercent is the GC percent of `bic validate` (see its RunE).
const validateGCPercent = 400

// compileOptions are how compileWith compiles, besides compileDir's.
type compileOptions struct {
	schema    *compiler.Schema   // compiled once by the caller; nil: now
	cache     compiler.FileCache // nil: none
	checkOnly bool               // for the diagnostics and counts alone (compiler.CheckOnly)
}

// compileWith is compileDir as o says.
func compileWith(ctx context.Context, dir string, limits compiler.Limits, o compileOptions) (compiler.Result, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return compiler.Result{}, usageErrorf("project folder: %w", err)
	}
	if !info.IsDir() {
		return compiler.Result{}, usageErrorf("project folder: %s is not a folder", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return compiler.Result{}, usageErrorf("project folder: %w", err)
	}
	defer root.Close()
	s := o.schema
	if s == nil {
		if s, err = compiler.NewSchema(); err != nil {
			return compiler.Result{}, &exitError{code: exitRuntime, err: err}
		}
	}
	c, err := compiler.New(s).WithLimits(limits)
	if err != nil {
		return compiler.Result{}, usageErrorf("%v", err)
	}
	if o.cache != nil {
		c = c.WithCache(o.cache)
	}
	if o.checkOnly {
		c = c.CheckOnly()
	}
	res, err := c.Compile(ctx, projectFS{root: root})
	if err != nil {
		return compiler.Result{}, &exitError{code: exitRuntime, err: err}
	}
	return res, nil
}

// writeDiagnostics prints diagnostics: JSON always (an empty list when
// valid); text and github annotations to stderr and stdout respectively.
func writeDiagnostics(stdout, stderr io.Writer, format string, res compiler.Result) error {
	switch format {
	case "json":
		return compiler.WriteJSON(stdout, res.Diagnostics)
	case "github":
		return compiler.WriteGitHub(stdout, res.Diagnostics)
	default:
		if err := compiler.WriteText(stderr, res.Diagnostics, res.Sources); err != nil {
			return err
		}
		if n := len(res.Diagnostics); n > 0 {
			errs := 0
			for _, d := range res.Diagnostics {
				if d.Severity == compiler.SeverityError {
					errs++
				}
			}
			fmt.Fprintf(stderr, "%d error(s), %d warning(s)\n", errs, n-errs)
		}
		return nil
	}
}
