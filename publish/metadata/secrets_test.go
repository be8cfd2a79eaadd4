package metadata_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/runner/servicetest"
)

// TestMetadataPasswordWithURLCharacters opens the metadata database as
// roles whose passwords hold @ / : # ? % and spaces, written as ${env:…} in
// the metadata URL: the password reaches pgx intact, the tables are made by
// that role in the search_path's schema, and a failed connection's message
// shows no part of the password.
func TestMetadataPasswordWithURLCharacters(t *testing.T) {
	ctx := context.Background()
	baseURL := servicetest.Postgres(t)
	base, err := pgx.ParseConfig(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", baseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	for name, pw := range map[string]string{
		"url characters": "p@ss/w:rd#x?y",
		"at and slash":   "a@b/c",
		"percent":        "50% off?&x=1#frag",
		"space":          "with space",
		"unicode":        "ünïcødé 密码 @/:#?%",
	} {
		t.Run(name, func(t *testing.T) {
			role := fmt.Sprintf("bic_meta_pw_%d", time.Now().UnixNano())
			schema := role + "_s"
			if _, err := admin.Exec("CREATE ROLE " + role + " LOGIN PASSWORD '" + strings.ReplaceAll(pw, "'", "''") + "'"); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.Exec("GRANT CREATE ON DATABASE " + base.Database + " TO " + role); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
				admin.Exec("REVOKE CREATE ON DATABASE " + base.Database + " FROM " + role)
				admin.Exec("DROP ROLE IF EXISTS " + role)
			})
			lookup := func(k string) (string, bool) { return pw, k == "BIC_TEST_META_SECRET" }
			tmpl := "postgres://" + role + ":${env:BIC_TEST_META_SECRET}@" + base.Host + ":" + strconv.Itoa(int(base.Port)) + "/" + base.Database + "?sslmode=disable&search_path=" + schema
			raw, missing := compiler.ExpandURL(tmpl, lookup)
			if missing != "" {
				t.Fatal(missing)
			}
			cfg, err := pgx.ParseConfig(raw)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Password != pw || cfg.User != role || cfg.Host != base.Host || cfg.Database != base.Database || cfg.RuntimeParams["search_path"] != schema {
				t.Errorf("pgx config: user %q password %q host %q database %q search_path %q", cfg.User, cfg.Password, cfg.Host, cfg.Database, cfg.RuntimeParams["search_path"])
			}
			st, err := metadata.Open(ctx, raw, "")
			if err != nil {
				t.Fatal(err)
			}
			var owner string
			err = admin.QueryRow(`SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'bic_schema_migrations'`, schema).Scan(&owner)
			st.Close()
			if err != nil || owner != role {
				t.Errorf("bic_schema_migrations in %s owned by %q (%v), want %s", schema, owner, err, role)
			}

			// A failed connection: the URL is redacted, the password nowhere.
			bad := strings.Replace(raw, "/"+base.Database+"?", "/bic_no_such_database?", 1)
			_, err = metadata.Open(ctx, bad, "")
			if err == nil {
				t.Fatal("connected to a database that does not exist")
			}
			wantPrefix := "connect to metadata database postgres://xxxxx@" + base.Host + ":" + strconv.Itoa(int(base.Port)) + "/bic_no_such_database?sslmode=disable&search_path=" + schema + ": "
			if msg := err.Error(); !strings.HasPrefix(msg, wantPrefix) || leaks(msg, pw) {
				t.Errorf("err = %q\nwant it to start %q and show no part of the password", msg, wantPrefix)
			}
		})
	}
}

// TestMetadataURLWithUnencodedPassword: given as it is, a password with an
// @ and a / would make "b" the host (a DNS lookup of part of the password)
// and "c@127.0.0.1…" the database. The URL is refused before connecting,
// and messages redact everything up to the last @.
func TestMetadataURLWithUnencodedPassword(t *testing.T) {
	_, err := metadata.Open(context.Background(), "postgres://postgres:a@b/c@127.0.0.1:5432/test?sslmode=disable", "")
	const want = "metadata URL postgres://xxxxx@127.0.0.1:5432/test?sslmode=disable: an @ follows the host: percent-encode @ / ? # % and spaces in the user and password (@ is %40), or give the password as ${env:NAME}"
	if err == nil || err.Error() != want || !errors.Is(err, compiler.ErrAmbiguousURL) {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	_, err = metadata.Open(context.Background(), "mysql://root:a@b/c@db/shop", "")
	if err == nil || err.Error() != `metadata URL "mysql://xxxxx@db/shop": expected postgres://… or sqlite://PATH` {
		t.Errorf("unknown scheme: err = %v", err)
	}
}

// leaks reports whether msg holds secret, encoded or not, or a piece of it
// between URL separators (such as "w:rd#x" of "p@ss/w:rd#x?y").
func leaks(msg, secret string) bool {
	if strings.Contains(msg, secret) || strings.Contains(msg, strings.ReplaceAll(secret, "@", "%40")) {
		return true
	}
	for _, piece := range strings.FieldsFunc(secret, func(r rune) bool { return strings.ContainsRune("@/?", r) }) {
		if len(piece) >= 3 && strings.Contains(msg, piece) {
			return true
		}
	}
	return false
}
