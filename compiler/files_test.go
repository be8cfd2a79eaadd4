package compiler

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

const secret = "root:x:0:0:SECRET-6b1f3c:/root:/bin/bash"

// baseFS is the project of testdata/base.
func baseFS(t *testing.T) fstest.MapFS {
	t.Helper()
	archive := filepath.Join(t.TempDir(), "base.txtar")
	if err := os.WriteFile(archive, []byte("The base project.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return fixtureFS(t, archive)
}

// hostileTree writes the base project and files into a fresh folder, with
// a secret file beside it (outside the project), and makes the symbolic
// links; $SECRET in a target is the secret file's path. It returns the
// project folder.
func hostileTree(t *testing.T, files map[string]string, links map[string]string) string {
	t.Helper()
	top := t.TempDir()
	if err := os.WriteFile(filepath.Join(top, "secret.yaml"), []byte(secret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(top, "project")
	for name, f := range baseFS(t) {
		writeFile(t, filepath.Join(dir, name), f.Data)
	}
	for name, data := range files {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(name)), []byte(data))
	}
	for name, target := range links {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		target = strings.ReplaceAll(target, "$SECRET", filepath.Join(top, "secret.yaml"))
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// compileRoot compiles dir as cmd/bic does: through an os.Root.
func compileRoot(t *testing.T, c *Compiler, dir string) Result {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	return mustCompile(t, c, root.FS())
}

// diagnosticsOf prints the diagnostics of files under prefix.
func diagnosticsOf(res Result, prefix string) []string {
	var out []string
	for _, d := range res.Diagnostics {
		if strings.HasPrefix(d.Pos.File, prefix) {
			out = append(out, d.String())
		}
	}
	return out
}

// TestSymlinksLeavingTheProjectAreRefused: a symbolic link in the project
// is followed only inside it. The content of a file outside (a link to
// /etc/passwd echoed it in "found …") is never read.
func TestSymlinksLeavingTheProjectAreRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	dataset := func(name string) string {
		return "dataset: " + name + "\ntable: orders\ndimensions:\n  country: {type: string}\nmetrics:\n  revenue: {expr: sum(amount)}\n"
	}
	dir := hostileTree(t, map[string]string{
		"more/a.yaml":  dataset("linked_file"),
		"more2/b.yaml": dataset("linked_folder"),
	}, map[string]string{
		"datasets/absolute.yaml": "$SECRET",
		"datasets/environ.yaml":  "/proc/self/environ",
		"datasets/up.yaml":       "../../secret.yaml",
		"datasets/hop.yaml":      "up.yaml", // inside, to a link that leaves
		"datasets/zero.yaml":     "/dev/zero",
		"datasets/dangling.yaml": "nothing.yaml",
		"datasets/same.yaml":     "../more/a.yaml", // inside: read
		"reports":                "more2",          // a folder inside: walked
		"alerts":                 "../..",          // a folder outside
	})
	res := compileRoot(t, newTestCompiler(t), dir)
	got := append(diagnosticsOf(res, "datasets/"), diagnosticsOf(res, "alerts")...)
	want := []string{
		`datasets/absolute.yaml: error: cannot read: a symbolic link to "` + filepath.Join(filepath.Dir(dir), "secret.yaml") + `", outside the project folder; bic reads only files inside it`,
		`datasets/dangling.yaml: error: cannot read: a symbolic link that cannot be followed inside the project folder: no such file or directory`,
		`datasets/environ.yaml: error: cannot read: a symbolic link to "/proc/self/environ", outside the project folder; bic reads only files inside it`,
		`datasets/hop.yaml: error: cannot read: a symbolic link that cannot be followed inside the project folder: path escapes from parent`,
		`datasets/up.yaml: error: cannot read: a symbolic link to "../../secret.yaml", outside the project folder; bic reads only files inside it`,
		`datasets/zero.yaml: error: cannot read: a symbolic link to "/dev/zero", outside the project folder; bic reads only files inside it`,
		`alerts: error: cannot read: a symbolic link to "../..", outside the project folder; bic reads only files inside it`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if got := append(diagnosticsOf(res, "reports/"), diagnosticsOf(res, "datasets/same")...); len(got) > 0 {
		t.Errorf("links inside the project are not read: %v", got)
	}
	for _, file := range []string{"datasets/same.yaml", "reports/b.yaml"} {
		if res.Sources[file] == nil {
			t.Errorf("%s, a link inside the project, was not read", file)
		}
	}
	checkNoSecret(t, res)
}

func checkNoSecret(t *testing.T, res Result) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteText(&buf, res.Diagnostics, res.Sources); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "SECRET-6b1f3c") {
		t.Errorf("the output shows the secret file:\n%s", buf.String())
	}
	for name, src := range res.Sources {
		if bytes.Contains(src, []byte("SECRET-6b1f3c")) {
			t.Errorf("the secret file was read as %s", name)
		}
	}
}

// TestDevicesAndSocketsAreRefused: a device (a link to /dev/zero grew to
// 9.5 GB in 12 s) or a socket is refused by its type, before it is opened,
// whatever file system shows one.
func TestDevicesAndSocketsAreRefused(t *testing.T) {
	fsys := baseFS(t)
	fsys["datasets/zero.yaml"] = &fstest.MapFile{Mode: os.ModeDevice | os.ModeCharDevice}
	fsys["datasets/socket.yaml"] = &fstest.MapFile{Mode: os.ModeSocket}
	fsys["datasets/pipe.yaml"] = &fstest.MapFile{Mode: os.ModeNamedPipe}
	res := mustCompile(t, newTestCompiler(t), fsys)
	want := []string{
		`datasets/pipe.yaml: error: cannot read: a named pipe (FIFO), not a regular file; bic reads only regular files`,
		`datasets/socket.yaml: error: cannot read: a socket, not a regular file; bic reads only regular files`,
		`datasets/zero.yaml: error: cannot read: a character device, not a regular file; bic reads only regular files`,
	}
	var got []string
	for _, name := range []string{"pipe", "socket", "zero"} {
		got = append(got, diagnosticsOf(res, "datasets/"+name)...)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

// TestSymlinkTargetsAreCheckedOnAnyFileSystem: the loader refuses a link
// that leaves the folder as written, whatever file system it is given.
func TestSymlinkTargetsAreCheckedOnAnyFileSystem(t *testing.T) {
	fsys := baseFS(t)
	fsys["datasets/pw.yaml"] = &fstest.MapFile{Mode: os.ModeSymlink, Data: []byte("/etc/passwd")}
	fsys["datasets/up.yaml"] = &fstest.MapFile{Mode: os.ModeSymlink, Data: []byte("../../x.yaml")}
	res := mustCompile(t, newTestCompiler(t), fsys)
	want := []string{
		`datasets/pw.yaml: error: cannot read: a symbolic link to "/etc/passwd", outside the project folder; bic reads only files inside it`,
		`datasets/up.yaml: error: cannot read: a symbolic link to "../../x.yaml", outside the project folder; bic reads only files inside it`,
	}
	if diff := cmp.Diff(want, append(diagnosticsOf(res, "datasets/pw"), diagnosticsOf(res, "datasets/up")...)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

// TestFileSizeLimits: a file larger than MaxFileSize, and the files past
// MaxTotalSize, are refused without being read.
func TestFileSizeLimits(t *testing.T) {
	c, err := newTestCompiler(t).WithLimits(Limits{MaxFileSize: 1 << 10, MaxTotalSize: 3 << 10, StepTimeout: DefaultLimits().StepTimeout})
	if err != nil {
		t.Fatal(err)
	}
	fsys := baseFS(t)
	big := []byte("dashboard: big\ntitle: " + strings.Repeat("x", 2000) + "\n")
	fsys["dashboards/big.yaml"] = &fstest.MapFile{Data: big}
	for _, name := range []string{"a", "b", "c", "d"} {
		fsys["dashboards/"+name+".yaml"] = &fstest.MapFile{Data: []byte("dashboard: " + name + "\ntitle: " + strings.Repeat("y", 800) + "\ncharts: []\n")}
	}
	res := mustCompile(t, c, fsys)
	got := diagnosticsOf(res, "dashboards/")
	want := []string{
		`dashboards/big.yaml: error: cannot read: the file is 2 KiB, more than the limit of 1 KiB for one project file`,
		`dashboards/d.yaml: error: cannot read: the project's files come to more than the limit of 3 KiB for all of them together`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if _, err := newTestCompiler(t).WithLimits(Limits{MaxFileSize: 10, MaxTotalSize: 5}); err == nil {
		t.Error("limits with a total below the file limit and no CUE timeout were accepted")
	}
	if DefaultLimits().MaxFileSize < 20<<20 {
		t.Error("the default file limit refuses a 20 MB file")
	}
}

// TestBinaryFileIsQuotedShortly: a file of random bytes puts a short,
// escaped excerpt in its message, not kilobytes of escaped bytes, and
// nothing of it reaches the output unescaped.
func TestBinaryFileIsQuotedShortly(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		data := make([]byte, 4096)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		fsys := baseFS(t)
		fsys["dashboards/x.yaml"] = &fstest.MapFile{Data: data}
		res := mustCompile(t, newTestCompiler(t), fsys)
		var buf bytes.Buffer
		if err := WriteText(&buf, res.Diagnostics, res.Sources); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if len(out) > 2000*len(res.Diagnostics) {
			t.Errorf("file %d: %d bytes of output for %d diagnostics:\n%s", i, len(out), len(res.Diagnostics), out)
		}
		checkPrintable(t, out)
	}
}

// checkPrintable fails on a control character other than a newline, or
// invalid UTF-8: what a terminal could take for an escape sequence.
func checkPrintable(t *testing.T, out string) {
	t.Helper()
	for i, r := range out {
		invalid := r == utf8.RuneError && !strings.HasPrefix(out[i:], "\ufffd")
		if invalid || r != '\n' && (r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0) {
			t.Fatalf("control character or invalid UTF-8 at byte %d in:\n%q", i, out)
		}
	}
}

// TestHugeValueIsBounded: a 100 KB one-line scalar made 200 KB of output
// (the value in the message, then the source line).
func TestHugeValueIsBounded(t *testing.T) {
	fsys := baseFS(t)
	fsys["dashboards/x.yaml"] = &fstest.MapFile{Data: []byte("dashboard: x\ntitle: X\ncharts:\n  - {name: a, dataset: orders, metrics: [revenue], type: " + strings.Repeat("\x1b[2J", 25_000) + "}\n")}
	res := mustCompile(t, newTestCompiler(t), fsys)
	var buf bytes.Buffer
	if err := WriteText(&buf, res.Diagnostics, res.Sources); err != nil {
		t.Fatal(err)
	}
	if len(res.Diagnostics) != 1 || buf.Len() > 1500 {
		t.Errorf("%d diagnostics, %d bytes of output:\n%s", len(res.Diagnostics), buf.Len(), buf.String())
	}
	checkPrintable(t, buf.String())
}

// TestCUEErrorFloodIsCut: CUE's parser takes time that grows with the
// square of a file's syntax errors, so a line of stray bytes (40,000 took
// 8 s, 300 KB minutes) is reported once and not parsed.
func TestCUEErrorFloodIsCut(t *testing.T) {
	for name, flood := range map[string]string{"invalid UTF-8": "\xb8", "ESC": "\x1b", "quotes": `"`} {
		fsys := baseFS(t)
		fsys["dashboards/f.cue"] = &fstest.MapFile{Data: []byte("package p\n\ndashboards: f: {title: " + strings.Repeat(flood, 300_000) + "}\n")}
		start := time.Now()
		res := mustCompile(t, newTestCompiler(t), fsys)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: compiling took %s", name, took)
		}
		got := diagnosticsOf(res, "dashboards/f.cue")
		if len(got) != 1 || !strings.Contains(got[0], "error: invalid CUE: ") || !strings.HasSuffix(got[0], "; the file has more than 10 such errors and is not read further") {
			t.Errorf("%s: diagnostics %q", name, got)
		}
	}
}

// TestDiagnosticsPerFileAreCapped: a file with 200,000 unknown keys made
// 60 MB of output; a file shows its first maxFileDiagnostics problems and
// says how many more there are.
func TestDiagnosticsPerFileAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("{dashboard: keys, title: Keys, charts: []")
	for i := range 3000 {
		fmt.Fprintf(&b, ", k%d: 1", i)
	}
	b.WriteString("}\n")
	fsys := baseFS(t)
	fsys["dashboards/keys.yaml"] = &fstest.MapFile{Data: []byte(b.String())}
	res := mustCompile(t, newTestCompiler(t), fsys)
	got := diagnosticsOf(res, "dashboards/keys.yaml")
	if len(got) != maxFileDiagnostics+1 || got[len(got)-1] != "dashboards/keys.yaml: error: 2000 more problems in this file are not shown" {
		t.Errorf("%d diagnostics, the last %q", len(got), got[len(got)-1])
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, res.Diagnostics, res.Sources); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 1000*(maxFileDiagnostics+10) {
		t.Errorf("%d bytes of output", buf.Len())
	}
}
