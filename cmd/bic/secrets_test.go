package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bic-dev/bic/runner/servicetest"
)

// cliHostilePasswords hold every character that means something in a URL.
var cliHostilePasswords = map[string]string{
	"url characters": "p@ss/w:rd#x?y",
	"at and slash":   "a@b/c",
	"percent":        "50% off?&x=1#frag",
	"space":          "with space",
	"unicode":        "ünïcødé 密码 @/:#?%",
}

// secretRole creates a login role with password pw that may create
// schemas, and drops it and schemas when the test ends.
func secretRole(t *testing.T, admin *sql.DB, database, pw string, schemas ...string) string {
	t.Helper()
	role := fmt.Sprintf("bic_cli_pw_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE ROLE " + role + " LOGIN PASSWORD '" + strings.ReplaceAll(pw, "'", "''") + "'"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("GRANT CREATE ON DATABASE " + database + " TO " + role); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range schemas {
			admin.Exec("DROP SCHEMA IF EXISTS " + s + " CASCADE")
		}
		admin.Exec("REVOKE CREATE ON DATABASE " + database + " FROM " + role)
		admin.Exec("DROP ROLE IF EXISTS " + role)
	})
	return role
}

// TestSecretsWithURLCharacters: a password holding @ / : # ? % or a space,
// given as ${env:…} in the metadata URL (--metadata, $BIC_METADATA_URL and
// bic.yaml's metadata) and in a warehouse connection's url, connects as
// the right role to the right database, and no message shows it.
func TestSecretsWithURLCharacters(t *testing.T) {
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
	hostPort := base.Host + ":" + strconv.Itoa(int(base.Port))
	for name, pw := range cliHostilePasswords {
		t.Run(name, func(t *testing.T) {
			t.Setenv("BIC_TEST_CLI_SECRET", pw)
			t.Setenv("BIC_METADATA_URL", "")
			prefix := fmt.Sprintf("bic_cli_s%d", time.Now().UnixNano())
			forms := []string{"flag", "env", "yaml"}
			var schemas []string
			for _, f := range forms {
				schemas = append(schemas, prefix+"_"+f)
			}
			role := secretRole(t, admin, base.Database, pw, schemas...)
			metaURL := func(schema string) string {
				return "postgres://" + role + ":${env:BIC_TEST_CLI_SECRET}@" + hostPort + "/" + base.Database + "?sslmode=disable&search_path=" + schema
			}
			dir := newProject(t)
			bicYAML := filepath.Join(dir, "bic.yaml")
			scaffold, err := os.ReadFile(bicYAML)
			if err != nil {
				t.Fatal(err)
			}
			// The warehouse: a postgres connection whose query names the role it runs as.
			project := strings.Replace(string(scaffold), "connections:\n", `connections:
  pg:
    type: postgres
    url: postgres://`+role+`:${env:BIC_TEST_CLI_SECRET}@`+hostPort+`/`+base.Database+`?sslmode=disable
`, 1)
			writeFile(t, filepath.Join(dir, "datasets", "whoami.yaml"), "dataset: whoami\nconnection: pg\nsql: SELECT current_user AS who, current_database() AS db\ndimensions:\n  who: {type: string}\n  db: {type: string}\nmetrics:\n  n: {expr: count(*)}\n")
			writeFile(t, filepath.Join(dir, "dashboards", "whoami.yaml"), "dashboard: whoami\ntitle: Who am I\ncharts:\n  - {name: who, type: table, dataset: whoami, dimensions: [who, db], metrics: [n]}\n")

			for i, form := range forms {
				schema := schemas[i]
				args := []string{"-p", dir}
				writeFile(t, bicYAML, project)
				switch form {
				case "flag":
					args = append(args, "--metadata", metaURL(schema))
				case "env":
					t.Setenv("BIC_METADATA_URL", metaURL(schema))
				case "yaml":
					t.Setenv("BIC_METADATA_URL", "")
					writeFile(t, bicYAML, project+"metadata: "+metaURL(schema)+"\n")
				}
				wantRun(t, 0, "migration(s)", "", append([]string{"migrate"}, args...)...)
				wantRun(t, 0, "Applied revision 1 to prod", "", append([]string{"apply", "--auto-approve"}, args...)...)
				var owner string
				if err := admin.QueryRow(`SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'revisions'`, schema).Scan(&owner); err != nil || owner != role {
					t.Errorf("%s: revisions in %s owned by %q (%v), want %s", form, schema, owner, err, role)
				}
				// The database does not exist: the message shows no part of the password.
				code, out, errOut := runBic(t, "plan", "-p", dir, "--metadata", strings.Replace(metaURL(schema), "/"+base.Database+"?", "/bic_no_such_db?", 1))
				if code != exitRuntime || !strings.Contains(errOut, "connect to metadata database postgres://xxxxx@"+hostPort+"/bic_no_such_db?") || cliLeaks(out+errOut, pw) {
					t.Errorf("%s: bic plan on a missing database: exit %d, stderr %q", form, code, errOut)
				}
			}

			code, out, errOut := runBic(t, "query", "whoami/who", "-p", dir, "--format", "csv")
			if want := "who,db,n\r\n" + role + "," + base.Database + ",1\r\n"; code != 0 || out != want {
				t.Errorf("bic query on the connection: exit %d, stdout %q, stderr %q; want %q", code, out, errOut, want)
			}
			writeFile(t, bicYAML, strings.Replace(project, "/"+base.Database+"?sslmode", "/bic_no_such_db?sslmode", 1))
			code, out, errOut = runBic(t, "query", "whoami/who", "-p", dir)
			if code == 0 || !strings.Contains(errOut, "bic_no_such_db") || cliLeaks(out+errOut, pw) {
				t.Errorf("bic query on a missing database: exit %d, stderr %q", code, errOut)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cliLeaks reports whether msg holds secret, encoded or not, or a piece of
// it between URL separators (such as "w:rd#x" of "p@ss/w:rd#x?y").
func cliLeaks(msg, secret string) bool {
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
