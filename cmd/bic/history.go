package main

import (
	"encoding/json"
	"fmt"
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
		autoApprove bool
	)
	cmd := &cobra.Command{
		Use:   "rollback --to N [DIR]",
		Short: "Make an earlier revision's definitions current again, as a new revision",
		RunE: func(cmd *cobra.Command, args []string) error {
			if to <= 0 {
				return usageErrorf("bic rollback needs --to N, a revision number from bic history")
			}
			st, err := f.openStore(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer st.Close()
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
			if err := confirm(cmd, autoApprove, fmt.Sprintf("Roll %s back to the definitions of revision %d?", f.env, to)); err != nil {
				return err
			}
			// The plan shown and confirmed is the one applied: if the
			// environment moved meanwhile, the store refuses it as stale.
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
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "roll back without asking (needed off a terminal)")
	return cmd
}

func newDestroyCmd() *cobra.Command {
	var (
		f     deployFlags
		force bool
	)
	cmd := &cobra.Command{
		Use:   "destroy --env NAME [DIR]",
		Short: "Remove an environment (a preview, or with --force any) and its history",
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.env == "" {
				return usageErrorf("bic destroy needs --env")
			}
			st, err := f.openStore(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Destroy(cmd.Context(), f.env, actor(), force); err != nil {
				return storeError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Destroyed environment %s.\n", f.env)
			return nil
		},
	}
	f.register(cmd, "")
	cmd.Flags().BoolVar(&force, "force", false, "also remove a persistent environment")
	return cmd
}

func newGCCmd() *cobra.Command {
	var f deployFlags
	cmd := &cobra.Command{
		Use:   "gc [DIR]",
		Short: "Remove expired previews and objects no revision holds",
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := f.openStore(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer st.Close()
			removed, objects, err := st.GC(cmd.Context(), actor())
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			for _, e := range removed {
				fmt.Fprintf(cmd.OutOrStdout(), "Removed expired preview %s.\n", e)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed %d expired preview(s) and %d unreferenced object(s).\n", len(removed), objects)
			return nil
		},
	}
	f.register(cmd, "")
	cmd.Flags().Lookup("env").Hidden = true
	return cmd
}
