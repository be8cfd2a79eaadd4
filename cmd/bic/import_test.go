package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const supersetExamples = "../../compiler/superset/testdata/export"

func runImport(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// zipFolder writes dir as a ZIP file at dst, under one top folder as
// Superset does; extra entries are added as they are.
func zipFolder(t *testing.T, dir, dst string, extra ...string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create("dashboard_export_20240101T000000/" + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range extra {
		if _, err := zw.Create(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestImportSuperset(t *testing.T) {
	if _, err := os.Stat(filepath.Join(supersetExamples, "metadata.yaml")); err != nil {
		t.Fatalf("the Superset examples are missing: %v", err)
	}
	tmp := t.TempDir()
	zipPath := filepath.Join(tmp, "export.zip")
	zipFolder(t, supersetExamples, zipPath)
	evilZip := filepath.Join(tmp, "evil.zip")
	zipFolder(t, supersetExamples, evilZip, "dashboard_export_20240101T000000/../../outside.yaml")

	for _, c := range []struct {
		name     string
		args     []string // {out} is replaced by the case's output folder
		prepare  func(out string)
		code     int
		stdout   string
		stderr   string
		written  bool
		validate bool
	}{
		{name: "folder", args: []string{"--out", "{out}", supersetExamples}, code: 0,
			stdout: "Sales Dashboard: dashboards/sales_dashboard.yaml, 9 of 10 charts translated, 1 warned", stderr: `viz_type "horizon"`, written: true, validate: true},
		{name: "zip", args: []string{"--out", "{out}", zipPath}, code: 0,
			stdout: "Slack Dashboard: dashboards/slack_dashboard.yaml, 7 of 9 charts translated, 2 warned", stderr: `viz_type "chord"`, written: true, validate: true},
		{name: "strict", args: []string{"--strict", "--out", "{out}", supersetExamples}, code: exitInvalid,
			stderr: "8 warning(s) and --strict: nothing written"},
		{name: "not empty", args: []string{"--out", "{out}", supersetExamples}, prepare: func(out string) {
			os.MkdirAll(out, 0o755)
			os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644)
		}, code: exitUsage, stderr: "is not empty; import into a new folder, or use --force"},
		{name: "force", args: []string{"--force", "--out", "{out}", supersetExamples}, prepare: func(out string) {
			os.MkdirAll(out, 0o755)
			os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644)
		}, code: 0, written: true, validate: true},
		{name: "unsafe zip", args: []string{"--out", "{out}", evilZip}, code: exitInvalid, stderr: `unsafe archive: entry "dashboard_export_20240101T000000/../../outside.yaml": ".." in the path`},
		{name: "project name", args: []string{"--project", "My Shop", "--out", "{out}", supersetExamples}, code: exitUsage, stderr: `--project "My Shop" is not a bic name`},
		{name: "project", args: []string{"--project", "shop", "--out", "{out}", supersetExamples}, code: 0, stdout: "is valid; next: review it, and run bic validate", written: true, validate: true},
		{name: "missing export", args: []string{"--out", "{out}", filepath.Join(tmp, "nope.zip")}, code: exitUsage, stderr: "export:"},
		{name: "not an export", args: []string{"--out", "{out}", t.TempDir()}, code: exitInvalid, stderr: "no metadata.yaml found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "project")
			if c.prepare != nil {
				c.prepare(out)
			}
			args := []string{"import", "superset"}
			for _, a := range c.args {
				args = append(args, strings.ReplaceAll(a, "{out}", out))
			}
			code, stdout, stderr := runImport(t, args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout, stderr)
			}
			if !strings.Contains(stdout, c.stdout) || !strings.Contains(stderr, c.stderr) {
				t.Errorf("stdout:\n%s\nstderr:\n%s\nwant %q on stdout and %q on stderr", stdout, stderr, c.stdout, c.stderr)
			}
			_, err := os.Stat(filepath.Join(out, "bic.yaml"))
			if written := err == nil; written != c.written {
				t.Errorf("bic.yaml written = %v, want %v", written, c.written)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(out), "outside.yaml")); err == nil {
				t.Error("a file was written outside --out")
			}
			if c.validate {
				if code, _, stderr := runImport(t, "validate", "--strict", out); code != 0 {
					t.Errorf("bic validate --strict %s: exit %d\n%s", out, code, stderr)
				}
			}
		})
	}
}
