package superset_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bic-dev/bic/compiler/superset"
)

type entry struct {
	name string
	data []byte
	mode fs.FileMode // 0: a regular file
}

func buildZip(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var metadata = entry{name: "export/metadata.yaml", data: []byte("version: 1.0.0\ntype: Dashboard\n")}

// TestHostileZip: entries that lead outside the archive, links, and
// archives over the limits are refused before anything is read.
func TestHostileZip(t *testing.T) {
	many := []entry{metadata}
	for i := 0; i < 30; i++ {
		many = append(many, entry{name: "export/charts/c" + strings.Repeat("x", i) + ".yaml", data: []byte("a: 1\n")})
	}
	small := superset.DefaultLimits()
	small.MaxEntries = 20
	for _, c := range []struct {
		name    string
		entries []entry
		limits  superset.Limits
		want    string
	}{
		{"dot dot", []entry{metadata, {name: "export/../../evil.yaml", data: []byte("a: 1\n")}}, superset.DefaultLimits(), `".." in the path`},
		{"dot dot at the top", []entry{metadata, {name: "../evil.yaml", data: []byte("a: 1\n")}}, superset.DefaultLimits(), `".." in the path`},
		{"absolute", []entry{metadata, {name: "/etc/evil.yaml", data: []byte("a: 1\n")}}, superset.DefaultLimits(), "absolute path"},
		{"backslash", []entry{metadata, {name: `export\..\evil.yaml`, data: []byte("a: 1\n")}}, superset.DefaultLimits(), "backslash"},
		{"drive letter", []entry{metadata, {name: "C:/evil.yaml", data: []byte("a: 1\n")}}, superset.DefaultLimits(), "drive letter"},
		{"symlink", []entry{metadata, {name: "export/charts/link.yaml", data: []byte("/etc/passwd"), mode: fs.ModeSymlink | 0o777}}, superset.DefaultLimits(), "symbolic link"},
		{"bomb: too large", []entry{metadata, {name: "export/charts/big.yaml", data: make([]byte, 17<<20)}}, superset.DefaultLimits(), "more than the limit"},
		{"bomb: ratio", []entry{metadata, {name: "export/charts/zeros.yaml", data: make([]byte, 4<<20)}}, superset.DefaultLimits(), "ratio above"},
		{"too many entries", many, small, "entries, more than the limit of 20"},
		{"twice", []entry{metadata, metadata}, superset.DefaultLimits(), "appears twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			z := buildZip(t, c.entries)
			_, err := superset.OpenZip(bytes.NewReader(z), int64(len(z)), c.limits)
			if err == nil {
				t.Fatal("the archive was accepted")
			}
			if !errors.Is(err, superset.ErrUnsafeArchive) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want ErrUnsafeArchive with %q", err, c.want)
			}
		})
	}
}

// TestHostileFolder: a symbolic link in an export folder is refused, and
// files over the size limit are not read.
func TestHostileFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "metadata.yaml"), []byte("version: 1.0.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "charts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "charts", "evil.yaml")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	_, err = superset.Import(context.Background(), root.FS(), superset.Options{})
	if err == nil || !strings.Contains(err.Error(), "charts/evil.yaml: is a symbolic link") {
		t.Fatalf("error %v, want the link refused", err)
	}

	big := fstest.MapFS{
		"metadata.yaml":     {Data: []byte("version: 1.0.0\n")},
		"charts/huge.yaml":  {Data: []byte("a: " + strings.Repeat("x", 2000) + "\n")},
		"charts/small.yaml": {Data: []byte("a: 1\n")},
	}
	lim := superset.DefaultLimits()
	lim.MaxFileSize = 1000
	_, err = superset.Import(context.Background(), big, superset.Options{Limits: lim})
	if err == nil || !strings.Contains(err.Error(), "charts/huge.yaml: larger than the limit of 1000 bytes") {
		t.Fatalf("error %v, want the file over the limit refused", err)
	}
}

// TestBadFiles: errors name the file and, for YAML, line:col.
func TestBadFiles(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"not an export", map[string]string{"charts/a.yaml": "a: 1\n"}, "no metadata.yaml found"},
		{"before 1.0", map[string]string{"dashboard_export.json": `{"dashboards": [{"__Dashboard__": {"dashboard_title": "x"}}]}`}, "dashboard_export.json: this is a dashboard export of Superset before 1.0"},
		{"syntax", map[string]string{"metadata.yaml": "version: 1.0.0\n", "charts/a.yaml": "slice_name: a\nparams: {x: [1, 2}\n"}, "charts/a.yaml:2:"},
		{"duplicate key", map[string]string{"metadata.yaml": "version: 1.0.0\n", "datasets/db/t.yaml": "table_name: a\ntable_name: b\n"}, `datasets/db/t.yaml:2:1: invalid YAML: mapping key "table_name" already defined`},
		{"a list", map[string]string{"metadata.yaml": "version: 1.0.0\n", "dashboards/d.yaml": "- a\n- b\n"}, "dashboards/d.yaml:1:1: expected a mapping, found a list"},
		{"alias bomb", map[string]string{"metadata.yaml": "version: 1.0.0\n", "charts/a.yaml": laughs()}, "values once its aliases are followed"},
		{"deep brackets", map[string]string{"metadata.yaml": "version: 1.0.0\n", "charts/a.yaml": "a: " + strings.Repeat("[", 1_000_000)}, "charts/a.yaml:1:204: invalid YAML: brackets nested deeper than 200 levels"},
		{"deep blocks", map[string]string{"metadata.yaml": "version: 1.0.0\n", "charts/a.yaml": deepBlocks(250)}, "invalid YAML: nested deeper than 200 levels"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for p, s := range c.files {
				fsys[p] = &fstest.MapFile{Data: []byte(s)}
			}
			_, err := superset.Import(context.Background(), fsys, superset.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

// laughs is a YAML file whose aliases expand to 10^9 values.
func laughs() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// deepBlocks is a YAML mapping nested n levels deep by indentation.
func deepBlocks(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(strings.Repeat(" ", i) + "a:\n")
	}
	b.WriteString(strings.Repeat(" ", n) + "b: 1\n")
	return b.String()
}
