package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner"
)

func newPlanCmd() *cobra.Command {
	var (
		f        = deployFlags{readOnly: true} // a plan never writes
		format   string
		detailed bool
	)
	cmd := &cobra.Command{
		Use:   "plan [DIR]",
		Short: "Show what apply would change in an environment",
		Long: `Plan compiles the project and compares it, object by object and by content
hash, with the environment's current revision: what would be created, updated
(with the fields that change) or deleted, and the jobs that implies.

Exit status: 0 (with --detailed-exitcode: 0 no changes, 2 changes), 1 errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" && format != "markdown" {
				return usageErrorf("unknown --format %q: expected text, json or markdown", format)
			}
			_, st, p, err := f.planProject(cmd, "")
			if err != nil {
				return err
			}
			defer st.Close()
			if err := writePlan(cmd.OutOrStdout(), p, format); err != nil {
				return err
			}
			if detailed && p.HasChanges() {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	f.register(cmd, "prod")
	cmd.Flags().StringVar(&format, "format", "text", "text, json, or markdown (for a pull-request comment)")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when there are changes, as terraform does")
	return cmd
}

// planProject compiles the project, opens the metadata database and plans
// the environment against its current revision (or base's, for a new
// preview). The caller closes the store.
func (f *deployFlags) planProject(cmd *cobra.Command, base string) (*compiler.Manifest, *metadata.Store, *compiler.Plan, error) {
	m, st, err := f.openProject(cmd)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := f.plan(cmd, st, m, base)
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return m, st, p, nil
}

// openProject compiles the project and opens its metadata database.
func (f *deployFlags) openProject(cmd *cobra.Command) (*compiler.Manifest, *metadata.Store, error) {
	m, err := compileProject(cmd, f.dir)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.openStore(cmd.Context(), m)
	if err != nil {
		return nil, nil, err
	}
	return m, st, nil
}

func (f *deployFlags) plan(cmd *cobra.Command, st *metadata.Store, m *compiler.Manifest, base string) (*compiler.Plan, error) {
	p, err := publish.Plan(cmd.Context(), st, m, f.env, base)
	if err != nil {
		return nil, &exitError{code: exitRuntime, err: err}
	}
	return p, nil
}

func writePlan(w io.Writer, p *compiler.Plan, format string) error {
	switch format {
	case "json":
		return compiler.WritePlanJSON(w, p)
	case "markdown":
		return compiler.WritePlanMarkdown(w, p)
	default:
		return compiler.WritePlanText(w, p)
	}
}

func newApplyCmd() *cobra.Command {
	var (
		f           deployFlags
		r           runtimeFlags
		autoApprove bool
		wait        bool
	)
	cmd := &cobra.Command{
		Use:   "apply [DIR]",
		Short: "Record the project as a new revision of an environment and enqueue its jobs",
		Long: `Apply plans like bic plan, asks for confirmation on a terminal, then writes the
revision, its objects and the jobs it implies in one transaction. Concurrent
applies to one environment are serialized; an apply planned against a revision
that is no longer current fails instead of overwriting it. Off a terminal (in
CI) it needs --auto-approve.

With --wait it then runs the revision's jobs and follows them until the
revision is live (exit 0) or a job has failed (exit 3; the live revision keeps
serving). On the embedded queue the jobs run in this process; with a NATS
server, the bic runner processes run them.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, st, p, err := f.planProject(cmd, "")
			if err != nil {
				return err
			}
			defer st.Close()
			out := cmd.OutOrStdout()
			if err := compiler.WritePlanText(out, p); err != nil {
				return err
			}
			if !p.WritesRevision() {
				return nil
			}
			if err := confirm(cmd, autoApprove, fmt.Sprintf("Apply these changes to %s?", f.env)); err != nil {
				return err
			}
			commit, author := gitInfo(cmd.Context(), f.dir)
			rev, err := st.Apply(cmd.Context(), metadata.ApplyRequest{Env: f.env, Plan: p, Manifest: m, GitCommit: commit, GitAuthor: author, AppliedBy: actor()})
			if err != nil {
				return storeError(err)
			}
			fmt.Fprintf(out, "\nApplied revision %d to %s: %d objects, %d jobs enqueued.\n", rev.Number, f.env, rev.Objects, rev.Jobs)
			if !wait {
				return nil
			}
			return runJobs(cmd, &f, &r, m, st, rev.Number)
		},
	}
	f.register(cmd, "prod")
	r.register(cmd)
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "apply without asking (needed off a terminal, as in CI)")
	cmd.Flags().BoolVar(&wait, "wait", false, "run the revision's jobs and wait until it is live")
	return cmd
}

// storeError turns the metadata database's errors into exit codes: a
// refusal that the user can act on is 1, anything else (a lost connection,
// a cancelled command) is 3.
func storeError(err error) error {
	for _, refusal := range []error{metadata.ErrStale, metadata.ErrNoChanges, metadata.ErrNoEnvironment,
		metadata.ErrNoRevision, metadata.ErrPersistent, metadata.ErrSchemaTooNew, metadata.ErrNotMigrated} {
		if errors.Is(err, refusal) {
			return &exitError{code: exitInvalid, err: err}
		}
	}
	return &exitError{code: exitRuntime, err: err}
}

// confirm asks for "yes" on a terminal; off a terminal, or in CI, only
// --auto-approve goes on.
func confirm(cmd *cobra.Command, autoApprove bool, question string) error {
	if autoApprove {
		return nil
	}
	stdin, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(stdin.Fd())) || os.Getenv("CI") != "" {
		return usageErrorf("not applying: pass --auto-approve to apply without a terminal to confirm on (as in CI)")
	}
	fmt.Fprintf(cmd.OutOrStdout(), "\n%s Only 'yes' will be accepted: ", question)
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return &exitError{code: exitInvalid, err: errors.New("cancelled: nothing was applied")}
	}
	return nil
}

func newPreviewCmd() *cobra.Command {
	var (
		f      deployFlags
		r      runtimeFlags
		ttl    string
		base   string
		wait   bool
		format string
		pubURL string
	)
	cmd := &cobra.Command{
		Use:   "preview --env NAME [DIR]",
		Short: "Apply the project into an ephemeral environment, such as one per pull request",
		Long: `Preview applies without asking into an environment that expires: each run
renews it for --ttl, and bic gc removes it once expired. Its first revision is
planned against --base, so it only computes what differs from it.

--format markdown prints, on standard output, the comment a CI job posts on
the pull request (everything else goes to standard error): the plan, a link
to each dashboard of the preview on --url (default $BIC_PUBLIC_URL), the
thumbnails of the dashboards that changed beside --base's (with --wait, once
the preview is live; signed links when BIC_LINK_SECRET is set, so they load
under --auth token too), and every alert evaluated now on the warehouse as a
dry run: a preview never notifies anyone.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.env == "" {
				return usageErrorf("bic preview needs --env, such as --env pr-42")
			}
			if format != "text" && format != "markdown" {
				return usageErrorf("unknown --format %q: expected text or markdown", excerptArg(format))
			}
			// The schema's durations (12h, 7d), read by the one parser.
			d, err := compiler.ParseDuration(ttl)
			if err != nil || d <= 0 {
				return usageErrorf("--ttl: expected a duration such as 12h or 7d, found %q", ttl)
			}
			public, err := publicURL(pubURL)
			if err != nil {
				return usageErrorf("--url: %v", err)
			}
			m, st, err := f.openProject(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			// A persistent environment is refused before any plan is printed.
			switch env, err := st.Environment(cmd.Context(), f.env); {
			case errors.Is(err, metadata.ErrNoEnvironment):
			case err != nil:
				return storeError(err)
			case env.Kind != metadata.EnvPreview:
				return &exitError{code: exitInvalid, err: fmt.Errorf("%s is a persistent environment, not a preview: choose another --env, such as pr-42, or use bic apply --env %s", f.env, f.env)}
			}
			p, err := f.plan(cmd, st, m, base)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if format == "markdown" {
				out = cmd.ErrOrStderr() // stdout is the comment alone
			}
			if err := compiler.WritePlanText(out, p); err != nil {
				return err
			}
			comment := &previewComment{env: f.env, base: base, plan: p, manifest: m, publicURL: public,
				linkSecret: []byte(os.Getenv("BIC_LINK_SECRET")), now: time.Now()}
			if !p.WritesRevision() {
				// Nothing to apply, but the preview is still in use.
				if err := st.RenewPreview(cmd.Context(), f.env, d); err != nil {
					return &exitError{code: exitRuntime, err: err}
				}
				fmt.Fprintf(out, "Renewed preview %s: it expires in %s.\n", f.env, ttl)
			} else {
				commit, author := gitInfo(cmd.Context(), f.dir)
				rev, err := st.Apply(cmd.Context(), metadata.ApplyRequest{Env: f.env, Plan: p, Manifest: m, Source: "preview",
					GitCommit: commit, GitAuthor: author, AppliedBy: actor(), Preview: &metadata.PreviewOptions{Base: base, TTL: d}})
				if err != nil {
					return storeError(err)
				}
				fmt.Fprintf(out, "\nApplied revision %d to preview %s (expires in %s): %d objects, %d jobs enqueued.\n", rev.Number, f.env, ttl, rev.Objects, rev.Jobs)
				comment.number = rev.Number
				if wait {
					if err := runJobsTo(cmd, out, &f, &r, m, st, rev.Number); err != nil {
						return err
					}
					comment.live = true
				}
			}
			if format != "markdown" {
				return nil
			}
			if comment.number == 0 {
				comment.live = true // what it serves is already live
			}
			// The comment shows what merging would change: the project
			// planned against the base, not against the preview's last run.
			if comment.plan, err = publish.Plan(cmd.Context(), st, m, base, ""); err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			if comment.live {
				url, err := r.storageURL(m, f.dir)
				if err != nil {
					return &exitError{code: exitInvalid, err: err}
				}
				objects, err := storage.Open(cmd.Context(), url)
				if err != nil {
					return &exitError{code: exitRuntime, err: err}
				}
				defer objects.Close()
				comment.storage = objects
			}
			w := &runner.Worker{Open: warehouses{env: os.LookupEnv, dir: f.dir}}
			defer w.Close()
			comment.alerts = evaluateAlerts(cmd.Context(), w, st, m, f.env, comment.now)
			return comment.write(cmd.Context(), cmd.OutOrStdout())
		},
	}
	f.register(cmd, "")
	r.register(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "run the revision's jobs and wait until it is live")
	cmd.Flags().StringVar(&ttl, "ttl", "7d", "how long the preview lives after its last apply (such as 12h or 7d)")
	cmd.Flags().StringVar(&base, "base", "prod", "the environment the preview starts from")
	cmd.Flags().StringVar(&format, "format", "text", "text, or markdown: the pull-request comment on standard output")
	cmd.Flags().StringVar(&pubURL, "url", "", "where viewers reach bic serve, for the comment's links (default: $BIC_PUBLIC_URL)")
	return cmd
}

// runJobs is --wait: it runs an applied revision's jobs and follows them.
func runJobs(cmd *cobra.Command, f *deployFlags, r *runtimeFlags, m *compiler.Manifest, st *metadata.Store, number int) error {
	return runJobsTo(cmd, cmd.OutOrStdout(), f, r, m, st, number)
}

// runJobsTo is runJobs with its progress written to out.
func runJobsTo(cmd *cobra.Command, out io.Writer, f *deployFlags, r *runtimeFlags, m *compiler.Manifest, st *metadata.Store, number int) error {
	e, err := startEngine(cmd.Context(), f, r, m, st, engineOptions{})
	if err != nil {
		return err
	}
	defer e.close()
	return waitForRevision(cmd.Context(), out, e, st, f.env, number)
}
