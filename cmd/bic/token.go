package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/access"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/storage"
)

// tokenFlags are the flags of bic token and bic link: the metadata DB
// that issues tokens and the storage that the allow-list is published to.
type tokenFlags struct {
	deployFlags
	storage string
}

func (f *tokenFlags) register(cmd *cobra.Command) {
	f.deployFlags.register(cmd, "")
	cmd.Flags().StringVar(&f.storage, "storage", "", "the object storage URL that bic serve reads (default: $BIC_STORAGE_URL, bic.yaml's storage, or "+defaultStorageURL+" in the project folder)")
}

// publishAllowList writes the active tokens of db to st, where bic serve
// --auth token reads them.
func publishAllowList(ctx context.Context, db *metadata.Store, st storage.Store) (int, error) {
	entries, err := db.ActiveTokens(ctx)
	if err != nil {
		return 0, err
	}
	if err := access.Write(ctx, st, entries); err != nil {
		return 0, err
	}
	return len(entries), nil
}

// parseTTL reads --ttl: a duration such as 12h, 7d or 30d; "" means none.
func parseTTL(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := compiler.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, usageErrorf("--ttl: expected a duration such as 12h, 7d or 30d, found %q", excerptArg(s))
	}
	return d, nil
}

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke the access tokens of bic serve --auth token",
		Long: `A token reads one environment of bic serve --auth token. bic keeps only its
sha256: in the metadata database, and in the allow-list access/tokens.json that
it publishes to object storage after every change, which is what the server
reads (a change is seen within about a second). Send a token as
Authorization: Bearer TOKEN, or open a page with ?token=TOKEN once: the server
sets a session cookie and drops the token from the URL.`,
	}
	cmd.AddCommand(newTokenCreateCmd(), newTokenListCmd(), newTokenRevokeCmd(), newTokenPublishCmd())
	return cmd
}

func newTokenCreateCmd() *cobra.Command {
	var (
		f   tokenFlags
		ttl string
	)
	cmd := &cobra.Command{
		Use:   "create --env NAME [--ttl 30d]",
		Short: "Make a token that reads one environment, and publish the allow-list",
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.env == "" {
				return usageErrorf("bic token create needs --env NAME, the environment the token reads")
			}
			d, err := parseTTL(ttl)
			if err != nil {
				return err
			}
			db, err := f.openStore(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer db.Close()
			st, err := openStorage(cmd, f.dir, f.storage)
			if err != nil {
				return err
			}
			defer st.Close()
			tok, t, err := db.CreateToken(cmd.Context(), f.env, actor(), d)
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			out := cmd.OutOrStdout()
			expires := "it does not expire; revoke it with bic token revoke " + t.ID
			if !t.ExpiresAt.IsZero() {
				expires = "it expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(out, "Created token %s for %s (%s):\n\n    %s\n\n", t.ID, f.env, expires, tok)
			fmt.Fprintln(cmd.ErrOrStderr(), "Copy the token now: it is not shown again (bic keeps only its hash).")
			n, err := publishAllowList(cmd.Context(), db, st)
			if err != nil {
				return &exitError{code: exitRuntime, err: fmt.Errorf("token %s is created, but the allow-list is not published (run bic token publish): %w", t.ID, err)}
			}
			fmt.Fprintf(out, "Published the allow-list (%d active tokens) to %s.\n", n, st)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&ttl, "ttl", "", "how long the token lives, such as 24h or 30d (default: until revoked)")
	return cmd
}

func newTokenListCmd() *cobra.Command {
	var f tokenFlags
	cmd := &cobra.Command{
		Use:   "list [--env NAME]",
		Short: "List the tokens (their ids, never the tokens or their hashes)",
		RunE: func(cmd *cobra.Command, args []string) error {
			f.readOnly = true
			db, err := f.openStore(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer db.Close()
			ts, err := db.ListTokens(cmd.Context(), f.env)
			if err != nil {
				if errors.Is(err, metadata.ErrNotMigrated) {
					return &exitError{code: exitInvalid, err: err}
				}
				return &exitError{code: exitRuntime, err: err}
			}
			out := cmd.OutOrStdout()
			if len(ts) == 0 {
				fmt.Fprintln(out, "No tokens: make one with bic token create --env NAME.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tENV\tCREATED\tBY\tEXPIRES\tSTATUS")
			now := time.Now()
			for _, t := range ts {
				expires, status := "never", "active"
				if !t.ExpiresAt.IsZero() {
					expires = t.ExpiresAt.UTC().Format(time.RFC3339)
				}
				switch {
				case !t.RevokedAt.IsZero():
					status = "revoked " + t.RevokedAt.UTC().Format(time.RFC3339)
				case !t.Active(now):
					status = "expired"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Env, t.CreatedAt.UTC().Format(time.RFC3339), t.CreatedBy, expires, status)
			}
			return tw.Flush()
		},
	}
	f.register(cmd)
	cmd.Flags().Lookup("storage").Hidden = true
	return cmd
}

func newTokenRevokeCmd() *cobra.Command {
	var f tokenFlags
	cmd := &cobra.Command{
		Use:   "revoke ID [DIR]",
		Short: "Revoke a token, and the links made from it, and publish the allow-list",
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := f.openStore(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer db.Close()
			st, err := openStorage(cmd, f.dir, f.storage)
			if err != nil {
				return err
			}
			defer st.Close()
			t, err := db.RevokeToken(cmd.Context(), args[0], actor())
			if errors.Is(err, metadata.ErrNoToken) {
				return &exitError{code: exitInvalid, err: fmt.Errorf("%w (see bic token list)", err)}
			}
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			n, err := publishAllowList(cmd.Context(), db, st)
			if err != nil {
				return &exitError{code: exitRuntime, err: fmt.Errorf("token %s is revoked, but the allow-list is not published, so servers still admit it (run bic token publish): %w", t.ID, err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Revoked token %s of %s; published the allow-list (%d active tokens) to %s.\n", t.ID, t.Env, n, st)
			return nil
		},
	}
	f.register(cmd)
	cmd.Args = projectArgs(&f.dir, 1) // the token's id, then the project folder
	cmd.Flags().Lookup("env").Hidden = true
	return cmd
}

func newTokenPublishCmd() *cobra.Command {
	var f tokenFlags
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Publish the allow-list of the active tokens to storage again",
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := f.openStore(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer db.Close()
			st, err := openStorage(cmd, f.dir, f.storage)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := publishAllowList(cmd.Context(), db, st)
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Published the allow-list (%d active tokens) to %s.\n", n, st)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().Lookup("env").Hidden = true
	return cmd
}

func newLinkCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "link",
		Short: "Share an environment (a preview, say) with a signed link that expires",
	}
	cmd.AddCommand(newLinkCreateCmd())
	return cmd
}

// dashboardNameRE is a name that the server's URLs accept.
var dashboardNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

func newLinkCreateCmd() *cobra.Command {
	var (
		f                   tokenFlags
		ttl, base, dash, id string
	)
	cmd := &cobra.Command{
		Use:   "create --env NAME [--ttl 24h] [--dashboard D] [--base-url URL]",
		Short: "Print a link that opens an environment until it expires",
		Long: `A link is signed with a token of the environment: $BIC_TOKEN, or the token
--token-id names (or the newest active one of --env) in the metadata database.
It carries the token's id, never the token, and stops working when it expires
or when its token is revoked or expires. Whoever opens it gets a session cookie
for the environment until the link expires.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.env == "" {
				return usageErrorf("bic link create needs --env NAME, the environment to share")
			}
			d, err := parseTTL(ttl)
			if err != nil {
				return err
			}
			if d == 0 {
				return usageErrorf("--ttl: a link needs a time to live, such as 24h")
			}
			if dash != "" && !dashboardNameRE.MatchString(dash) {
				return usageErrorf("--dashboard %q: expected a dashboard's name", excerptArg(dash))
			}
			st, err := openStorage(cmd, f.dir, f.storage)
			if err != nil {
				return err
			}
			defer st.Close()
			key, err := f.linkKey(cmd.Context(), id)
			if err != nil {
				return err
			}
			// The link works only if the server admits its token: check
			// the allow-list that the server reads.
			list, err := access.ReadAllowList(cmd.Context(), st)
			if err != nil && !errors.Is(err, access.ErrNoAllowList) {
				return &exitError{code: exitRuntime, err: err}
			}
			var entry *access.Entry
			for _, e := range list.Entries() {
				if e.ID == key.ID() {
					entry = &e
				}
			}
			now := time.Now()
			switch {
			case entry == nil:
				return &exitError{code: exitInvalid, err: fmt.Errorf("token %s is not in the allow-list of %s (revoked, expired or not published: see bic token list, bic token publish)", key.ID(), st)}
			case entry.Env != f.env:
				return &exitError{code: exitInvalid, err: fmt.Errorf("token %s reads %s, not %s", key.ID(), entry.Env, f.env)}
			}
			expires := now.Add(d)
			if entry.ExpiresAt != nil && entry.ExpiresAt.Before(expires) {
				expires = *entry.ExpiresAt
				fmt.Fprintf(cmd.ErrOrStderr(), "The link expires with its token, at %s.\n", expires.UTC().Format(time.RFC3339))
			}
			q := access.LinkParam + "=" + url.QueryEscape(access.Sign(key, f.env, expires))
			link := "?" + q
			if dash != "" {
				link = strings.TrimSuffix(base, "/") + access.DashboardPath(f.env, dash) + "?" + q
			}
			fmt.Fprintln(cmd.OutOrStdout(), link)
			if dash == "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "Append it to the URL of any page of %s (or pass --dashboard).\n", f.env)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "It opens %s until %s.\n", f.env, expires.UTC().Format(time.RFC3339))
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&ttl, "ttl", "24h", "how long the link works, such as 1h or 7d")
	cmd.Flags().StringVar(&base, "base-url", "http://127.0.0.1:8080", "where bic serve is reached")
	cmd.Flags().StringVar(&dash, "dashboard", "", "the dashboard the link opens (default: print only the query to append)")
	cmd.Flags().StringVar(&id, "token-id", "", "the id of the token to sign with (default: $BIC_TOKEN, else the newest active token of --env)")
	return cmd
}

// linkKey is the hash of the token that signs a link: $BIC_TOKEN's, or,
// from the metadata database, the token id names or the newest active one
// of the environment.
func (f *tokenFlags) linkKey(ctx context.Context, id string) (access.Hash, error) {
	if tok := os.Getenv("BIC_TOKEN"); tok != "" && id == "" {
		if !access.LooksLikeToken(tok) {
			return access.Hash{}, &exitError{code: exitInvalid, err: errors.New("$BIC_TOKEN is not a bic token (bic_…)")}
		}
		return access.HashToken(tok), nil
	}
	f.readOnly = true
	db, err := f.openStore(ctx, nil)
	if err != nil {
		return access.Hash{}, err
	}
	defer db.Close()
	entries, err := db.ActiveTokens(ctx)
	if err != nil {
		if errors.Is(err, metadata.ErrNotMigrated) {
			return access.Hash{}, &exitError{code: exitInvalid, err: err}
		}
		return access.Hash{}, &exitError{code: exitRuntime, err: err}
	}
	var best *access.Entry
	for _, e := range entries {
		if id != "" && e.ID == id || id == "" && e.Env == f.env && (best == nil || e.CreatedAt.After(best.CreatedAt)) {
			best = &e
		}
	}
	if best == nil {
		what := cmp.Or(id, "of "+f.env)
		return access.Hash{}, &exitError{code: exitInvalid, err: fmt.Errorf("no active token %s: make one with bic token create --env %s, or set $BIC_TOKEN", what, f.env)}
	}
	h, ok := access.ParseHash(best.Hash)
	if !ok {
		return access.Hash{}, &exitError{code: exitRuntime, err: fmt.Errorf("token %s has a malformed hash in the metadata database", best.ID)}
	}
	return h, nil
}
