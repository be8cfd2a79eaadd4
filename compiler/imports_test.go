package compiler

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules keeps the layout of DESIGN.md: imports follow the flow
// of data. The compiler is pure (no I/O packages, drivers or loggers),
// publish never reaches into runner or server, and runner never into server.
// Only production code counts; tests may wire anything.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "github.com/bic-dev/bic/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/bic-dev/bic/"
	rules := []struct {
		pkg       string // prefix of the packages the rule applies to
		forbidden []string
	}{
		{mod + "compiler", []string{"database/sql", "net/http", "os", "os/exec", "log", "log/slog",
			"github.com/jackc/", "github.com/duckdb/", "github.com/nats-io/", "github.com/minio/", "github.com/chromedp/",
			"github.com/snowflakedb/", "cloud.google.com/", mod + "runner", mod + "publish", mod + "server", mod + "cmd"}},
		{mod + "schema", []string{mod}},
		{mod + "publish", []string{mod + "runner", mod + "server", mod + "cmd"}},
		{mod + "runner", []string{mod + "server", mod + "cmd"}},
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, r := range rules {
			if pkg != r.pkg && !strings.HasPrefix(pkg, r.pkg+"/") {
				continue
			}
			checked++
			for _, imp := range imports {
				for _, f := range r.forbidden {
					if imp == f || strings.HasSuffix(f, "/") && strings.HasPrefix(imp, f) || strings.HasPrefix(f, mod) && (imp == f || strings.HasPrefix(imp, f+"/")) {
						t.Errorf("%s imports %s, which its layer must not", pkg, imp)
					}
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked only %d packages: the listing is wrong", checked)
	}
}
