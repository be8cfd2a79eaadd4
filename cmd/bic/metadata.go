package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
)

// defaultMetadataURL is the embedded default: SQLite in the project folder.
const defaultMetadataURL = "sqlite://.bic/bic.db"

// deployFlags are the flags of the commands that read or write the metadata DB.
type deployFlags struct {
	dir      string
	env      string
	metadata string
	// readOnly marks a command that only reads (plan, history): its store
	// creates and migrates nothing.
	readOnly bool
}

func (f *deployFlags) register(cmd *cobra.Command, envDefault string) {
	addProjectFlag(cmd, &f.dir, 0)
	f.env = envDefault
	cmd.Flags().Var(envNameFlag{&f.env}, "env", "the environment")
	cmd.Flags().StringVar(&f.metadata, "metadata", "", "the metadata database URL (default: $BIC_METADATA_URL, bic.yaml's metadata, or "+defaultMetadataURL+")")
}

// metadataURL picks the database: the flag, then $BIC_METADATA_URL, then
// bic.yaml, then SQLite in the project folder.
func (f *deployFlags) metadataURL(m *compiler.Manifest) (string, error) {
	project := ""
	if m != nil {
		project = m.Project.Metadata
	}
	return pick("metadata URL", f.metadata, "BIC_METADATA_URL", project, defaultMetadataURL)
}

// openStore opens the metadata database: read-only for a command that
// only reads, else migrated to this bic's schema.
func (f *deployFlags) openStore(ctx context.Context, m *compiler.Manifest) (*metadata.Store, error) {
	url, err := f.metadataURL(m)
	if err != nil {
		return nil, &exitError{code: exitRuntime, err: err}
	}
	open := metadata.Open
	if f.readOnly {
		open = metadata.OpenReadOnly
	}
	st, err := open(ctx, url, f.dir)
	if errors.Is(err, metadata.ErrNotMigrated) || errors.Is(err, metadata.ErrSchemaTooNew) {
		// The user can act on these: run bic migrate, or upgrade bic.
		return nil, &exitError{code: exitInvalid, err: err}
	}
	if err != nil {
		return nil, &exitError{code: exitRuntime, err: err}
	}
	return st, nil
}

// compileProject compiles the project, printing its diagnostics; a project
// with errors ends the command with exit status 1.
func compileProject(cmd *cobra.Command, dir string) (*compiler.Manifest, error) {
	res, err := compileFor(cmd, dir)
	if err != nil {
		return nil, err
	}
	if len(res.Diagnostics) > 0 {
		_ = writeDiagnostics(cmd.OutOrStdout(), cmd.ErrOrStderr(), "text", res)
	}
	if res.Manifest == nil {
		return nil, &exitError{code: exitInvalid}
	}
	return res.Manifest, nil
}

// actor names who runs a command, for the history and the audit log.
func actor() string {
	for _, k := range []string{"BIC_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "USER"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "unknown"
}

// gitInfo returns the commit and author of the project's checkout, if any.
func gitInfo(ctx context.Context, dir string) (commit, author string) {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "log", "-1", "--format=%H%n%an <%ae>").Output()
	if err != nil {
		return "", ""
	}
	commit, author, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	return commit, author
}

func newMigrateCmd() *cobra.Command {
	var f deployFlags
	cmd := &cobra.Command{
		Use:   "migrate [DIR]",
		Short: "Create or upgrade the metadata database's tables",
		RunE: func(cmd *cobra.Command, args []string) error {
			url, err := f.metadataURL(nil)
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			st, err := metadata.Connect(cmd.Context(), url, f.dir)
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			defer st.Close()
			n, err := st.Migrate(cmd.Context())
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			v, _ := st.Version(cmd.Context())
			fmt.Fprintf(cmd.OutOrStdout(), "metadata database (%s) at schema version %d; applied %d migration(s)\n", st.Dialect(), v, n)
			return nil
		},
	}
	f.register(cmd, "")
	cmd.Flags().Lookup("env").Hidden = true
	return cmd
}
