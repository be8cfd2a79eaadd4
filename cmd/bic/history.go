package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
)

func newHistoryCmd() *cobra.Command {
	var (
		f      = deployFlags{readOnly: true}
		format string
	)
	cmd := &cobra.Command{
		Use:   "history [DIR]",
		Short: "List an environment's revisions, newest first",
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := f.openStore(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer st.Close()
			revs, err := st.History(cmd.Context(), f.env)
			if err != nil {
				return storeError(err)
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(historyJSON(revs))
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			// * marks the current revision (the latest definitions, what
			// plan diffs against); LIVE the one whose release is served.
			fmt.Fprintln(tw, "REVISION\tAPPLIED\tBY\tSOURCE\tCOMMIT\tOBJECTS\tJOBS\tSTATUS\tLIVE")
			live, current := 0, 0
			for _, r := range revs {
				liveMark := ""
				if r.Live {
					live, liveMark = r.Number, "live"
				}
				if r.Current {
					current = r.Number
				}
				num := fmt.Sprint(r.Number)
				if r.Current {
					num += " *"
				}
				source := r.Source
				if r.RollbackOf > 0 {
					source = fmt.Sprintf("rollback to %d", r.RollbackOf)
				}
				commit := r.GitCommit
				if len(commit) > 10 {
					commit = commit[:10]
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", num, r.AppliedAt.UTC().Format(time.DateTime), r.AppliedBy, source, commit, r.Objects, r.Jobs, r.Status, liveMark)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			switch {
			case len(revs) == 0 || live == current:
			case live == 0:
				fmt.Fprintf(out, "\n* current: revision %d; nothing is live yet.\n", current)
			default:
				fmt.Fprintf(out, "\n* current: revision %d; live: revision %d.\n", current, live)
			}
			return nil
		},
	}
	f.register(cmd, "prod")
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

// revisionJSON is a revision as bic history --format json prints it, in
// the snake_case of every other JSON that bic writes. current is the
// latest definitions, live the revision whose release is served.
type revisionJSON struct {
	Env          string    `json:"env"`
	Number       int       `json:"number"`
	Current      bool      `json:"current"`
	Live         bool      `json:"live"`
	Status       string    `json:"status"`
	Source       string    `json:"source"`
	RollbackOf   int       `json:"rollback_of,omitempty"`
	ManifestHash string    `json:"manifest_hash"`
	GitCommit    string    `json:"git_commit,omitempty"`
	GitAuthor    string    `json:"git_author,omitempty"`
	AppliedBy    string    `json:"applied_by"`
	AppliedAt    time.Time `json:"applied_at"`
	Objects      int       `json:"objects"`
	Jobs         int       `json:"jobs"`
}

func historyJSON(revs []metadata.Revision) []revisionJSON {
	out := make([]revisionJSON, len(revs))
	for i, r := range revs {
		out[i] = revisionJSON{Env: r.Env, Number: r.Number, Current: r.Current, Live: r.Live, Status: r.Status.String(), Source: r.Source,
			RollbackOf: r.RollbackOf, ManifestHash: r.ManifestHash, GitCommit: r.GitCommit, GitAuthor: r.GitAuthor,
			AppliedBy: r.AppliedBy, AppliedAt: r.AppliedAt.UTC(), Objects: r.Objects, Jobs: r.Jobs}
	}
	return out
}

func newRollbackCmd() *cobra.Command {
	var (
		f           deployFlags
		to          revisionFlag
		storageURL  string
		autoApprove bool
	)
	cmd := &cobra.Command{
		Use:   "rollback --to N [DIR]",
		Short: "Serve an earlier revision again, as a new revision",
		Long: `Rollback makes revision N's definitions current again, as a new revision.
When storage still holds the release revision N published (bic gc keeps
releases for its --retention), the environment points at it at once and
serves the data published then; otherwise the new revision's jobs compute
its data again.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if to <= 0 {
				return usageErrorf("bic rollback needs --to N, a revision number from bic history")
			}
			st, store, err := f.openStores(cmd, storageURL)
			if err != nil {
				return err
			}
			defer st.Close()
			defer store.Close()
			m, p, err := publish.PlanRollback(cmd.Context(), st, f.env, int(to))
			if err != nil {
				return storeError(err)
			}
			out := cmd.OutOrStdout()
			if err := compiler.WritePlanText(out, p); err != nil {
				return err
			}
			if !p.WritesRevision() {
				return nil
			}
			// Only a rollback that writes a revision looks for the release.
			kept, rec, err := publish.KeptRelease(cmd.Context(), store, f.env, int(to), m)
			if err != nil && !errors.Is(err, publish.ErrReleaseGone) {
				return &exitError{code: exitRuntime, err: err}
			}
			published := rec.PublishedAt.UTC().Format(time.DateTime)
			if kept != nil {
				fmt.Fprintf(out, "\nThe release of revision %d (published %s) is still in storage: %s will serve it at once.\n", to, published, f.env)
			} else {
				fmt.Fprintf(out, "\nThe release of revision %d is no longer in storage: runners will compute its data again.\n", to)
			}
			if err := confirm(cmd, autoApprove, fmt.Sprintf("Roll %s back to revision %d?", f.env, to)); err != nil {
				return err
			}
			// The plan shown and confirmed is the one applied: if the
			// environment moved meanwhile, the store refuses it as stale.
			if kept != nil {
				rev, err := publish.ApplyRollbackToRelease(cmd.Context(), store, st, m, p, int(to), kept, actor())
				if err != nil {
					return storeError(err)
				}
				fmt.Fprintf(out, "\nApplied revision %d to %s: the definitions of revision %d, live at once; %s serves the data published with revision %d at %s.\n",
					rev.Number, f.env, to, f.env, to, published)
				return nil
			}
			rev, err := publish.ApplyRollback(cmd.Context(), st, m, p, int(to), actor())
			if err != nil {
				return storeError(err)
			}
			fmt.Fprintf(out, "\nApplied revision %d to %s: the definitions of revision %d, %d jobs enqueued.\n", rev.Number, f.env, to, rev.Jobs)
			return nil
		},
	}
	f.register(cmd, "prod")
	cmd.Flags().Var(&to, "to", "the revision to restore")
	cmd.Flags().StringVar(&storageURL, "storage", "", "the object storage URL (default: $BIC_STORAGE_URL, bic.yaml's storage, or "+defaultStorageURL+")")
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "roll back without asking (needed off a terminal)")
	return cmd
}

func newDestroyCmd() *cobra.Command {
	var (
		f          deployFlags
		force      bool
		storageURL string
	)
	cmd := &cobra.Command{
		Use:   "destroy --env NAME [DIR]",
		Short: "Remove an environment (a preview, or with --force any), its history and its published pointer",
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.env == "" {
				return usageErrorf("bic destroy needs --env")
			}
			st, store, err := f.openStores(cmd, storageURL)
			if err != nil {
				return err
			}
			defer st.Close()
			defer store.Close()
			if err := st.Destroy(cmd.Context(), f.env, actor(), force); err != nil {
				return storeError(err)
			}
			// Servers stop serving it; gc may then free what only it kept.
			if err := publish.Unpublish(cmd.Context(), store, f.env); err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Destroyed environment %s.\n", f.env)
			return nil
		},
	}
	f.register(cmd, "")
	cmd.Flags().BoolVar(&force, "force", false, "also remove a persistent environment")
	cmd.Flags().StringVar(&storageURL, "storage", "", "the object storage URL (default: $BIC_STORAGE_URL, bic.yaml's storage, or "+defaultStorageURL+" in the project folder)")
	return cmd
}

func newGCCmd() *cobra.Command {
	var (
		f                deployFlags
		storageURL       string
		retention, grace string
		dryRun           bool
	)
	cmd := &cobra.Command{
		Use:   "gc [DIR]",
		Short: "Remove expired previews, objects no revision holds, and blobs no kept release names",
		Long: `Gc removes expired previews and the metadata objects no revision holds, then
the blobs in storage that nothing keeps: every blob that a current pointer's
release names is kept, whatever its age, and so is every blob of a release
that served within --retention (what bic rollback can point at again) or of
a cache entry. Blobs younger than --grace are kept whatever names them, so a
publish running meanwhile loses nothing. Release records older than the
retention and old cache entries go too; the blobs they alone named go on the
next run.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := publish.GCOptions{DryRun: dryRun}
			var err error
			if opts.Retention, err = compiler.ParseDuration(retention); err != nil || opts.Retention <= 0 {
				return usageErrorf("--retention: expected a duration such as 12h or 7d, found %q", retention)
			}
			if opts.Grace, err = compiler.ParseDuration(grace); err != nil || opts.Grace < publish.MinGrace {
				return usageErrorf("--grace: expected a duration of at least 10m, such as 1h, found %q", grace)
			}
			st, store, err := f.openStores(cmd, storageURL)
			if err != nil {
				return err
			}
			defer st.Close()
			defer store.Close()
			out := cmd.OutOrStdout()
			if !dryRun {
				removed, objects, err := st.GC(cmd.Context(), actor())
				if err != nil {
					return &exitError{code: exitRuntime, err: err}
				}
				for _, e := range removed {
					if err := publish.Unpublish(cmd.Context(), store, e); err != nil {
						return &exitError{code: exitRuntime, err: err}
					}
					fmt.Fprintf(out, "Removed expired preview %s.\n", e)
				}
				fmt.Fprintf(out, "Removed %d expired preview(s) and %d unreferenced object(s).\n", len(removed), objects)
			}
			rep, err := publish.GC(cmd.Context(), store, st, opts)
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			verb := "Removed"
			if dryRun {
				verb = "Would remove"
				for _, b := range rep.Removed {
					fmt.Fprintf(out, "would remove %s (%s, %s)\n", b.Key, byteSize(b.Size), b.Modified.UTC().Format(time.DateTime))
				}
				for _, k := range rep.Records {
					fmt.Fprintf(out, "would remove %s\n", k)
				}
			}
			fmt.Fprintf(out, "%s %s blobs (%s) no release within %s names; kept %s (%s).\n",
				verb, thousands(int64(len(rep.Removed))), byteSize(rep.RemovedBytes), retention, thousands(int64(rep.Kept)), byteSize(rep.KeptBytes))
			if len(rep.Records) > 0 || rep.CacheEntries > 0 {
				fmt.Fprintf(out, "%s %d release record(s) and %d cache entry(ies) older than %s; the blobs only they named go on the next run.\n",
					verb, len(rep.Records), rep.CacheEntries, retention)
			}
			if rep.Ticks > 0 || rep.Deliveries > 0 {
				fmt.Fprintf(out, "Removed %d schedule tick(s) and %d notification record(s) older than %s.\n", rep.Ticks, rep.Deliveries, retention)
			}
			return nil
		},
	}
	f.register(cmd, "")
	cmd.Flags().Lookup("env").Hidden = true
	cmd.Flags().StringVar(&storageURL, "storage", "", "the object storage URL (default: $BIC_STORAGE_URL, bic.yaml's storage, or "+defaultStorageURL+")")
	cmd.Flags().StringVar(&retention, "retention", "7d", "how long a release that stopped being served stays available to bic rollback")
	cmd.Flags().StringVar(&grace, "grace", "1h", "blobs younger than this are kept whatever names them (at least 10m)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be removed, and remove nothing")
	return cmd
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// byteSize writes a size in the largest decimal unit under it: 56.7 MB.
func byteSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n)/unit, 0
	for v >= unit && u < 3 {
		v, u = v/unit, u+1
	}
	return fmt.Sprintf("%.1f %s", v, []string{"kB", "MB", "GB", "TB"}[u])
}
