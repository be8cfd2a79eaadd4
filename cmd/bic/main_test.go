package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	// The compile cache's signing key goes to a folder of the tests' own,
	// not the user's cache folder (the subprocesses inherit it).
	if os.Getenv("BIC_CACHE_KEY_DIR") == "" {
		dir, err := os.MkdirTemp("", "bic-test-cache-key-*")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Setenv("BIC_CACHE_KEY_DIR", dir)
	}
	testscript.Main(m, map[string]func(){
		"bic": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI scenarios in testdata/script: each is a txtar
// archive of project files plus the commands a user types and what they see.
//
// Scripts marked [postgres] use the real PostgreSQL of BIC_TEST_POSTGRES_URL
// as the metadata database, in a fresh schema: $BIC_TEST_METADATA_URL.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			url := os.Getenv("BIC_TEST_POSTGRES_URL")
			if url == "" {
				return nil
			}
			schema := fmt.Sprintf("bic_script_%d", time.Now().UnixNano())
			sep := "?"
			if strings.Contains(url, "?") {
				sep = "&"
			}
			env.Setenv("BIC_TEST_METADATA_URL", url+sep+"search_path="+schema)
			env.Defer(func() {
				if db, err := sql.Open("pgx", url); err == nil {
					db.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
					db.Close()
				}
			})
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond != "postgres" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			if os.Getenv("BIC_TEST_POSTGRES_URL") != "" {
				return true, nil
			}
			if os.Getenv("CI") == "true" {
				return false, fmt.Errorf("BIC_TEST_POSTGRES_URL is not set: CI must provide PostgreSQL")
			}
			return false, nil
		},
	})
}
