package compiler

import (
	"os/exec"
	"strings"
	"testing"
)

const modPath = "github.com/bic-dev/bic/"

// importLayer lists what the packages under pkg may import; anything else is an
// error, so a new dependency of a layer is a decision written here.
type importLayer struct {
	pkg string // the layer's packages: pkg and everything under it
	// stdlib admits the standard library, except the packages of noStd.
	stdlib bool
	noStd  []string
	// allowed are import paths; one ending in "/..." admits everything
	// under it as well as itself.
	allowed []string
	any     bool // a layer that wires everything (the CLI, support code)
}

// ioStdlib is the standard library that does I/O, logs or talks to a
// network, which the compiler must not import (DESIGN.md: it reads
// files only through an fs.FS).
var ioStdlib = []string{"os/...", "net", "net/http/...", "net/rpc/...", "net/smtp", "net/mail", "database/...",
	"log/...", "syscall", "plugin", "io/ioutil", "testing/...", "unsafe"}

// importLayers is DESIGN.md's import rules as allow-lists, taken from what each
// layer imports today and the libraries DESIGN.md names for its parts.
// The most specific layer of a package applies.
var importLayers = []importLayer{
	{pkg: modPath + "schema", allowed: []string{"embed"}},
	{pkg: modPath + "compiler", stdlib: true, noStd: ioStdlib, allowed: []string{
		modPath + "schema", modPath + "compiler/...",
		"cuelang.org/go/...", "github.com/goccy/go-yaml/...", "github.com/robfig/cron/v3",
	}},
	// The leaves of query planning: the server imports filterstate and
	// timewindow without the compiler, and dialect writes SQL fragments.
	{pkg: modPath + "compiler/query/filterstate", stdlib: true, noStd: ioStdlib, allowed: []string{modPath + "compiler/query/timewindow"}},
	{pkg: modPath + "compiler/query/timewindow", stdlib: true, noStd: ioStdlib},
	{pkg: modPath + "compiler/query/dialect", stdlib: true, noStd: ioStdlib},
	{pkg: modPath + "publish", stdlib: true, allowed: []string{
		modPath + "compiler/...", modPath + "publish/...",
		"github.com/jackc/pgx/v5/...", "modernc.org/sqlite", // the metadata DB
		"github.com/minio/minio-go/v7/...",        // object storage
		"github.com/go-echarts/go-echarts/v2/...", // pages and chart options
	}},
	// Access control is a leaf that the server imports: tokens, the
	// allow-list in storage and signed links.
	{pkg: modPath + "publish/access", stdlib: true, allowed: []string{modPath + "publish/storage"}},
	{pkg: modPath + "runner", stdlib: true, allowed: []string{
		modPath + "compiler/...", modPath + "publish/...", modPath + "runner/...",
		// warehouse drivers
		"github.com/jackc/pgx/v5/...", "github.com/duckdb/duckdb-go/v2/...", "github.com/snowflakedb/gosnowflake/...",
		"cloud.google.com/go/bigquery/...", "cloud.google.com/go/civil", "google.golang.org/api/...",
		// the work queue, rendering and schedules
		"github.com/nats-io/nats.go/...", "github.com/nats-io/nats-server/v2/...", // the embedded server
		"github.com/chromedp/...", "github.com/robfig/cron/v3",
		"github.com/wneessen/go-mail/...",         // email notifications (runner/notify)
		"github.com/prometheus/client_golang/...", // runner metrics
	}},
	{pkg: modPath + "server", stdlib: true, allowed: []string{
		modPath + "server/...", modPath + "publish/storage/...", modPath + "publish/release", modPath + "publish/access", modPath + "compiler/query/filterstate", modPath + "compiler/query/timewindow",
		"github.com/nats-io/nats.go/...",
		"github.com/prometheus/client_golang/...", "golang.org/x/sync/...", // server metrics; one read per pointer or blob
		"github.com/andybalholm/brotli",      // a content coding
		"github.com/hashicorp/golang-lru/v2", // the on-demand answers kept
	}},
	{pkg: modPath + "compiler/internal/fixture", any: true}, // test support: txtar fixtures, golden files
	{pkg: modPath + "cmd", any: true},
	{pkg: modPath + "bench", any: true},
	{pkg: modPath + "examples", any: true},
}

// importLayerOf is the most specific layer of pkg.
func importLayerOf(pkg string) (importLayer, bool) {
	var best importLayer
	found := false
	for _, l := range importLayers {
		if (pkg == l.pkg || strings.HasPrefix(pkg, l.pkg+"/")) && len(l.pkg) > len(best.pkg) {
			best, found = l, true
		}
	}
	return best, found
}

// matchesPath reports whether imp is one of paths.
func matchesPath(imp string, paths []string) bool {
	for _, p := range paths {
		if base, ok := strings.CutSuffix(p, "/..."); ok {
			if imp == base || strings.HasPrefix(imp, base+"/") {
				return true
			}
		} else if imp == p {
			return true
		}
	}
	return false
}

// allows reports whether the layer may import imp.
func (l importLayer) allows(imp string) bool {
	if l.any {
		return true
	}
	if first, _, _ := strings.Cut(imp, "/"); !strings.Contains(first, ".") {
		return l.stdlib && !matchesPath(imp, l.noStd) || matchesPath(imp, l.allowed)
	}
	return matchesPath(imp, l.allowed)
}

// TestImportRules keeps the layout of DESIGN.md: imports follow the flow
// of data. The compiler is pure (no I/O packages, drivers or loggers),
// publish never reaches into runner or server, runner never into server,
// and every package belongs to a layer. Only production code counts;
// tests may wire anything.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "github.com/bic-dev/bic/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		l, ok := importLayerOf(pkg)
		if !ok {
			t.Errorf("%s belongs to no layer of DESIGN.md: add it to importLayers in compiler/imports_test.go", pkg)
			continue
		}
		checked++
		for _, imp := range imports {
			if !l.allows(imp) {
				t.Errorf("%s imports %s, which is not on the list of what its layer (%s) may import", pkg, imp, strings.TrimPrefix(l.pkg, modPath))
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d packages: the listing is wrong", checked)
	}
}

// TestImportRulesRejectUnlisted: the lists admit what they name and
// nothing else.
func TestImportRulesRejectUnlisted(t *testing.T) {
	for _, c := range []struct {
		pkg, imp string
		ok       bool
	}{
		{modPath + "compiler", "strings", true},
		{modPath + "compiler", "net/url", true},
		{modPath + "compiler", "cuelang.org/go/cue", true},
		{modPath + "compiler", "github.com/goccy/go-yaml/ast", true},
		{modPath + "compiler", modPath + "schema", true},
		{modPath + "compiler/query", modPath + "compiler", true},
		{modPath + "compiler/query/filterstate", modPath + "compiler/query/timewindow", true},
		{modPath + "compiler/query/filterstate", modPath + "compiler", false},
		{modPath + "compiler/query/filterstate", "github.com/goccy/go-yaml", false},
		{modPath + "compiler/query/timewindow", modPath + "compiler/query/filterstate", false},
		{modPath + "compiler/query/dialect", modPath + "compiler", false},
		{modPath + "server", modPath + "compiler/query/filterstate", true},
		{modPath + "server", modPath + "compiler/query", false},
		{modPath + "compiler", "os", false},
		{modPath + "compiler", "os/exec", false},
		{modPath + "compiler", "net", false},
		{modPath + "compiler", "net/http", false},
		{modPath + "compiler", "database/sql", false},
		{modPath + "compiler", "log/slog", false},
		{modPath + "compiler", "github.com/jackc/pgx/v5", false},
		{modPath + "compiler", "github.com/goccy/go-yamlx", false},
		{modPath + "compiler", modPath + "runner", false},
		{modPath + "compiler", modPath + "publish", false},
		{modPath + "compiler", "github.com/newly/added", false},
		{modPath + "schema", "strings", false},
		{modPath + "publish", modPath + "publish/metadata", true},
		{modPath + "publish/metadata", "modernc.org/sqlite", true},
		{modPath + "publish", modPath + "runner", false},
		{modPath + "publish", modPath + "server", false},
		{modPath + "publish", "github.com/duckdb/duckdb-go/v2", false},
		{modPath + "runner", modPath + "publish/metadata", true},
		{modPath + "runner/warehouse/duckdb", "github.com/duckdb/duckdb-go/v2", true},
		{modPath + "runner", modPath + "server", false},
		{modPath + "runner", modPath + "cmd/bic", false},
		{modPath + "runner", "github.com/spf13/cobra", false},
		{modPath + "server", modPath + "publish/storage", true},
		{modPath + "server", modPath + "publish/access", true},
		{modPath + "server", modPath + "publish/metadata", false},
		{modPath + "publish/access", modPath + "publish/storage", true},
		{modPath + "publish/access", modPath + "publish/metadata", false},
		{modPath + "publish/access", "github.com/minio/minio-go/v7", false},
		{modPath + "server", modPath + "compiler", false},
		{modPath + "server", modPath + "runner/warehouse", false},
		{modPath + "cmd/bic", "github.com/anything/at/all", true},
	} {
		l, ok := importLayerOf(c.pkg)
		if !ok {
			t.Errorf("%s: no layer", c.pkg)
			continue
		}
		if got := l.allows(c.imp); got != c.ok {
			t.Errorf("%s importing %s: allowed = %v, want %v", c.pkg, c.imp, got, c.ok)
		}
	}
	if _, ok := importLayerOf(modPath + "newtoplevel"); ok {
		t.Error("a package outside every importLayer has a importLayer")
	}
}
