package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/servicetest"
	"github.com/bic-dev/bic/runner/warehouse"
)

// hostilePasswords hold every character that means something in a URL.
var hostilePasswords = map[string]string{
	"url characters": "p@ss/w:rd#x?y",
	"at and slash":   "a@b/c",
	"percent":        "50% off?&x=1#frag",
	"space":          "with space",
	"unicode":        "ünïcødé 密码 @/:#?%",
}

// createRole makes a login role with the password pw and drops it when the
// test ends. It returns the role's name.
func createRole(t *testing.T, admin *pgx.Conn, pw string) string {
	t.Helper()
	ctx := context.Background()
	role := fmt.Sprintf("bic_pw_%d", time.Now().UnixNano())
	// CREATE ROLE takes no parameters: the password is a quoted literal.
	if _, err := admin.Exec(ctx, "CREATE ROLE "+role+" LOGIN PASSWORD '"+strings.ReplaceAll(pw, "'", "''")+"'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+role) })
	return role
}

// TestPasswordsWithURLCharacters connects as roles whose passwords hold
// @ / : # ? % and spaces, given as ${env:…} in a url and as a password
// setting: pgx gets the password intact, the host and database stay
// those of the template, and connecting works.
func TestPasswordsWithURLCharacters(t *testing.T) {
	ctx := context.Background()
	base, err := pgconn.ParseConfig(servicetest.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, servicetest.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	hostPort := base.Host + ":" + strconv.Itoa(int(base.Port))
	for name, pw := range hostilePasswords {
		t.Run(name, func(t *testing.T) {
			role := createRole(t, admin, pw)
			opts := warehouse.Options{Env: func(k string) (string, bool) { return pw, k == "BIC_TEST_PG_SECRET" }}
			conns := map[string]compiler.Connection{
				"url": {Name: "pg", Type: "postgres",
					URL: "postgres://" + role + ":${env:BIC_TEST_PG_SECRET}@" + hostPort + "/" + base.Database + "?sslmode=disable"},
				"settings": {Name: "pg", Type: "postgres", Host: base.Host, Port: int(base.Port), Database: base.Database,
					User: role, Password: "${env:BIC_TEST_PG_SECRET}", SSLMode: "disable"},
			}
			for form, c := range conns {
				cfg, err := Config(c, opts)
				if err != nil {
					t.Fatalf("%s: %v", form, err)
				}
				cc := cfg.ConnConfig
				if cc.Password != pw || cc.User != role || cc.Host != base.Host || cc.Port != base.Port || cc.Database != base.Database {
					t.Errorf("%s: pgx config: user %q password %q host %q port %d database %q; want %q %q %q %d %q",
						form, cc.User, cc.Password, cc.Host, cc.Port, cc.Database, role, pw, base.Host, base.Port, base.Database)
				}
				conn, err := Open(ctx, c, opts)
				if err != nil {
					t.Fatalf("%s: %v", form, err)
				}
				var user, db string
				if err := conn.pool.QueryRow(ctx, "SELECT current_user, current_database()").Scan(&user, &db); err != nil {
					t.Fatal(err)
				}
				conn.Close()
				if user != role || db != base.Database {
					t.Errorf("%s: connected as %s to %s, want %s to %s", form, user, db, role, base.Database)
				}
			}

			// A failed connection names neither the password nor any part of it.
			c := conns["url"]
			c.URL = strings.Replace(c.URL, "/"+base.Database+"?", "/bic_no_such_database?", 1)
			_, err := Open(ctx, c, opts)
			if err == nil {
				t.Fatal("connected to a database that does not exist")
			}
			if msg := err.Error(); leaks(msg, pw) || !strings.Contains(msg, "bic_no_such_database") {
				t.Errorf("error = %q: shows the password, or not the database", msg)
			}
		})
	}
}

// TestUnencodedPasswordInURL gives a whole URL whose password holds an
// unencoded @ and /: pgx would look up the host "b", which is part of the
// password. It is refused before any lookup, without quoting the URL.
func TestUnencodedPasswordInURL(t *testing.T) {
	raw := "postgres://postgres:a@b/c@127.0.0.1:5432/test?sslmode=disable"
	opts := warehouse.Options{Env: func(k string) (string, bool) { return raw, k == "PG_URL" }}
	_, err := Config(compiler.Connection{Name: "pg", Type: "postgres", URL: "${env:PG_URL}"}, opts)
	if !errors.Is(err, warehouse.ErrConfig) || !errors.Is(err, compiler.ErrAmbiguousURL) || leaks(err.Error(), "a@b/c") {
		t.Fatalf("err = %v", err)
	}
	const want = "connection pg: url: an @ follows the host: percent-encode @ / ? # % and spaces in the user and password (@ is %40), or give the password as ${env:NAME}: invalid connection settings"
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
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
