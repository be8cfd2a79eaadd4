package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/storage"
)

func newPromoteCmd() *cobra.Command {
	var (
		f           deployFlags
		from, to    string
		storageURL  string
		autoApprove bool
	)
	cmd := &cobra.Command{
		Use:   "promote --from ENV --to ENV [DIR]",
		Short: "Make an environment serve what another one serves, at once",
		Long: `Promote makes --to serve the release --from serves: the same definitions
and the same data, as a new revision of --to that is live at once, with no
jobs to run. It shows the plan of --from's definitions against --to's and
asks first.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" || to == "" {
				return usageErrorf("bic promote needs --from and --to, such as --from staging --to prod")
			}
			st, store, err := f.openStores(cmd, storageURL)
			if err != nil {
				return err
			}
			defer st.Close()
			defer store.Close()
			pr, err := publish.PlanPromote(cmd.Context(), store, st, from, to)
			if errors.Is(err, publish.ErrNothingLive) {
				return &exitError{code: exitInvalid, err: err}
			}
			if err != nil {
				return storeError(err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s serves revision %d, published %s.\n\n", from, pr.Revision, pr.Release.PublishedAt.UTC().Format(time.DateTime))
			if err := compiler.WritePlanText(out, pr.Plan); err != nil {
				return err
			}
			if !pr.Plan.WritesRevision() {
				fmt.Fprintf(out, "%s already has the definitions of %s revision %d: nothing to promote.\n", to, from, pr.Revision)
				return nil
			}
			if err := confirm(cmd, autoApprove, fmt.Sprintf("Promote %s revision %d to %s?", from, pr.Revision, to)); err != nil {
				return err
			}
			rev, err := publish.Promote(cmd.Context(), store, st, pr, actor())
			if err != nil {
				return storeError(err)
			}
			fmt.Fprintf(out, "\nPromoted %s revision %d to %s as revision %d; %s now serves it.\n", from, pr.Revision, to, rev.Number, to)
			return nil
		},
	}
	f.register(cmd, "")
	cmd.Flags().Lookup("env").Hidden = true
	cmd.Flags().Var(envNameFlag{&from}, "from", "the environment whose release to promote")
	cmd.Flags().Var(envNameFlag{&to}, "to", "the environment to serve it")
	cmd.Flags().StringVar(&storageURL, "storage", "", "the object storage URL (default: $BIC_STORAGE_URL, bic.yaml's storage, or "+defaultStorageURL+")")
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "promote without asking (needed off a terminal)")
	return cmd
}

// openStores opens the metadata database and the object storage, for the
// commands that change what an environment serves (promote, rollback) or
// what storage holds (gc).
func (f *deployFlags) openStores(cmd *cobra.Command, storageURL string) (*metadata.Store, storage.Store, error) {
	st, err := f.openStore(cmd.Context(), nil)
	if err != nil {
		return nil, nil, err
	}
	store, err := openStorage(cmd, f.dir, storageURL)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, store, nil
}
