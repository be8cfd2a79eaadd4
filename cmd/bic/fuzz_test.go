//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// treeNames are the paths a fuzzed tree puts files, links and pipes at:
// object files, CUE files, the project file, a hidden folder, and a name
// with an escape sequence in it.
var treeNames = []string{
	"datasets/a.yaml", "datasets/b.yml", "dashboards/c.yaml", "alerts/d.yaml", "reports/e.yaml",
	"x.cue", "dashboards/f.cue", "bic.yaml", "bic.yml", "datasets/sub/g.yaml",
	"datasets/.hidden/h.yaml", "datasets/\x1b[31mred.yaml", "dashboards/\x1b]0;title\a.yaml",
}

// treeTargets are where a fuzzed symbolic link points: inside the project,
// at the secret outside it ($SECRET is its absolute path), at devices, at
// nothing, and at folders.
var treeTargets = []string{
	"orders.yaml", "../datasets/orders.yaml", "../secret.yaml", "../../secret.yaml", "$SECRET",
	"/dev/zero", "/dev/urandom", "/proc/self/environ", "missing.yaml", ".", "..", "/", "a.yaml",
}

// folderTargets are where a fuzzed link in place of an object folder points.
var folderTargets = []string{"more", "../", "/", "/etc", "datasets", "."}

// hostileProject builds a project in a new folder from fuzz bytes, read as
// a list of operations, over a valid base project. Beside the folder
// (outside it) is a file holding secret. The tree is written through an
// os.Root, and links in place of folders are made last, so that nothing is
// written through a link out of the folder.
func hostileProject(t *testing.T, data []byte, secret string) string {
	t.Helper()
	top := t.TempDir()
	secretPath := filepath.Join(top, "secret.yaml")
	if err := os.WriteFile(secretPath, []byte("dataset: "+secret+"\n"+secret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(top, "proj")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	writeIn := func(name string, content []byte) {
		t.Helper()
		must(root.MkdirAll(path.Dir(name), 0o755))
		must(root.WriteFile(name, content, 0o644))
	}
	writeIn("bic.yaml", []byte("name: fuzz\nconnections:\n  local: {type: duckdb}\n"))
	writeIn("datasets/orders.yaml", []byte("dataset: orders\ntable: orders\ndimensions:\n  country: {type: string}\nmetrics:\n  revenue: {expr: sum(amount)}\n"))
	writeIn("more/m.yaml", []byte("dashboard: m\ntitle: M\ncharts:\n  - {name: r, type: big_number, dataset: orders, metrics: [revenue]}\n"))
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := int(data[0])
		data = data[1:]
		return b
	}
	used := map[string]bool{}
	folderLinks := map[string]string{}
	for ops := 0; len(data) > 0 && ops < 12; ops++ {
		op, name := next()%5, treeNames[next()%len(treeNames)]
		if op == 4 { // an object folder that is a link, made last
			folderLinks[[]string{"datasets", "dashboards", "alerts", "reports"}[next()%4]] = folderTargets[next()%len(folderTargets)]
			continue
		}
		if used[name] {
			continue
		}
		used[name] = true
		must(root.MkdirAll(path.Dir(name), 0o755))
		must(root.RemoveAll(name))
		switch op {
		case 0: // a file of fuzzed content
			n := min(next()<<4|next()>>4, len(data))
			writeIn(name, data[:n])
			data = data[n:]
		case 1: // a symbolic link
			must(root.Symlink(strings.ReplaceAll(treeTargets[next()%len(treeTargets)], "$SECRET", secretPath), name))
		case 2: // a named pipe; its folder was made through the root
			must(syscall.Mkfifo(filepath.Join(dir, filepath.FromSlash(name)), 0o644))
		case 3: // a huge one-line value of one fuzzed byte
			value := bytes.Repeat([]byte{byte(next())}, 64<<10+next()<<10)
			writeIn(name, append(append([]byte("dashboard: huge\ntitle: "), value...), "\ncharts: []\n"...))
		}
	}
	for folder, target := range folderLinks {
		must(root.RemoveAll(folder))
		must(root.Symlink(target, folder))
	}
	return dir
}

var diagnosticLine = regexp.MustCompile(`(?m)^\S.*: (error|warning): `)

// checkHostileRun runs validate on dir and checks what a hostile tree must
// not be able to do: panic, hang, flood the output, show the secret, or
// write control characters to the terminal.
func checkHostileRun(t *testing.T, dir, secret string, format string) {
	t.Helper()
	// The fuzzer counts an input that runs 10 s as a hang; CUE cannot be
	// interrupted, so its steps are bounded below that.
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"validate", "--format", format, "--step-timeout", "2s", dir}, &stdout, &stderr)
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("validate took %s", took)
	}
	out := stdout.String() + stderr.String()
	if code != exitOK && code != exitInvalid && code != exitInterrupted {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if strings.Contains(out, secret) {
		t.Fatalf("the output shows the secret file outside the project:\n%s", out)
	}
	for i, r := range out {
		invalid := r == utf8.RuneError && !strings.HasPrefix(out[i:], "\ufffd")
		if invalid || r != '\n' && (r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0) {
			t.Fatalf("control character or invalid UTF-8 at byte %d of the output:\n%q", i, out)
		}
	}
	// However large the files, each diagnostic prints a few bounded lines.
	n := len(diagnosticLine.FindAllString(out, -1)) + strings.Count(out, `"severity"`) + strings.Count(out, "::error") + strings.Count(out, "::warning")
	if len(out) > 3<<10*(n+2) {
		t.Errorf("%d bytes of output for %d diagnostics", len(out), n)
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 4<<10 {
			t.Fatalf("an output line of %d bytes: %.200q…", len(line), line)
		}
	}
}

// TestValidateHostileTree: links out of the project (to a secret file, to
// /etc/passwd, /proc/self/environ, /dev/zero), named pipes, names with
// escape sequences and huge values are refused or quoted shortly.
func TestValidateHostileTree(t *testing.T) {
	secret := "SECRET-" + fmt.Sprint(rand.Uint64())
	tree := []byte{
		1, 0, 4, // datasets/a.yaml → the secret's absolute path
		1, 1, 5, // datasets/b.yml → /dev/zero
		1, 3, 7, // alerts/d.yaml → /proc/self/environ
		1, 4, 2, // reports/e.yaml → ../secret.yaml
		1, 6, 3, // dashboards/f.cue → ../../secret.yaml
		1, 5, 11, // x.cue → /
		2, 2, // dashboards/c.yaml is a named pipe
		3, 9, 27, 200, // datasets/sub/g.yaml holds 264 KiB of ESC
		0, 11, 1, 0, 'a', ':', ' ', '1', '\n', // a name with an escape sequence
	}
	dir := hostileProject(t, tree, secret)
	for _, format := range []string{"text", "json", "github"} {
		checkHostileRun(t, dir, secret, format)
	}
}

func FuzzValidateTree(f *testing.F) {
	f.Add([]byte{1, 0, 2})                // a link to the secret's absolute path
	f.Add([]byte{1, 0, 4, 1, 2, 5})       // links outside and to /dev/zero
	f.Add([]byte{2, 0, 1, 1, 7})          // a pipe, a link to /proc/self/environ
	f.Add([]byte{3, 2, 27, 10})           // a huge value of ESC
	f.Add([]byte{4, 0, 1, 4, 1, 3})       // object folders linked out
	f.Add([]byte{0, 11, 0, 12, 'a', ':'}) // a name with an escape sequence
	f.Add(append([]byte{0, 5, 0, 60}, "package p\ndashboards: x: {title: \"\\u001b[2J\", charts: []}\n"...))
	f.Add(append([]byte{0, 2, 1, 0}, "dashboard: x\ntitle: \x1b[31m\x00\xff\ncharts: [{name: a, type: \x1b]0;t\a}]\n"...))
	f.Fuzz(func(t *testing.T, data []byte) {
		secret := "SECRET-" + fmt.Sprint(rand.Uint64())
		dir := hostileProject(t, data, secret)
		format := []string{"text", "json", "github"}[len(data)%3]
		checkHostileRun(t, dir, secret, format)
	})
}
