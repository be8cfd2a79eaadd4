package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/compiler/superset"
)

func newImportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Bring dashboards from another tool into a bic project",
	}
	cmd.AddCommand(newImportSupersetCmd())
	return cmd
}

func newImportSupersetCmd() *cobra.Command {
	var (
		out     string
		strict  bool
		force   bool
		project string
	)
	cmd := &cobra.Command{
		Use:   "superset [--out DIR] [--strict] [--force] EXPORT",
		Short: "Turn a Superset export (ZIP or folder) into a bic project that validates",
		Long: `Import reads a Superset asset export — the ZIP that Superset's Export (or
superset export-dashboards) writes, or its unpacked folder with metadata.yaml,
databases/, datasets/, charts/ and dashboards/ — and writes a bic project to
--out (default: the current folder): bic.yaml with one connection per database,
one file per dataset under datasets/ and one per dashboard under dashboards/.

Passwords are never written: each becomes an ${env:NAME} reference. What bic
cannot translate (a viz type it does not draw, Jinja SQL, a filter or metric
form it has no equivalent for, a database it does not support) is reported as
a warning naming the Superset file and object, and the rest is imported; with
--strict a warning fails the import and nothing is written.

The ZIP is checked before anything is read: entries with ".." or absolute
paths, symbolic links, too many entries, entries or totals over the size
limits and entries that compress too well (ZIP bombs) are refused. Nothing is
read or written outside EXPORT and --out. --out must be empty or missing;
--force writes into a folder that has files, replacing the imported files of
the same names and leaving the others.

The project is validated once written. Exit status: 0 when it was imported and
validates, 1 when the export cannot be read, the project does not validate or
(with --strict) there are warnings, 2 for usage errors, 3 when writing fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !compiler.ValidName(project) {
				return usageErrorf("--project %q is not a bic name: lower-case letters, digits and _, starting with a letter", project)
			}
			if err := checkOutDir(out, force); err != nil {
				return err
			}
			fsys, closeExport, err := openExport(args[0])
			if err != nil {
				return err
			}
			defer closeExport()
			res, err := superset.Import(cmd.Context(), fsys, superset.Options{Project: project})
			if err != nil {
				if cmd.Context().Err() != nil {
					return err
				}
				return &exitError{code: exitInvalid, err: fmt.Errorf("import %s: %w", args[0], err)}
			}
			stderr := cmd.ErrOrStderr()
			for _, w := range res.Warnings {
				fmt.Fprintln(stderr, w.String())
			}
			if strict && len(res.Warnings) > 0 {
				return &exitError{code: exitInvalid, err: fmt.Errorf("%d warning(s) and --strict: nothing written", len(res.Warnings))}
			}
			if err := writeImported(out, res.Files); err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			stdout := cmd.OutOrStdout()
			for _, s := range res.Dashboards {
				fmt.Fprintf(stdout, "%s: dashboards/%s.yaml, %d of %d charts translated, %d warned",
					s.Title, s.Name, s.Translated, s.Charts-s.FilterBox, s.Warned)
				if s.Filters > 0 || s.FilterBox > 0 {
					fmt.Fprintf(stdout, ", %d filters", s.Filters)
				}
				fmt.Fprintln(stdout)
			}
			fmt.Fprintf(stdout, "wrote %d files to %s (%d warnings)\n", len(res.Files), out, len(res.Warnings))
			// The written project must validate: report it as bic validate does.
			limits, err := projectLimits(cmd)
			if err != nil {
				return err
			}
			vres, err := compileDir(cmd.Context(), out, limits)
			if err != nil {
				return err
			}
			if err := writeDiagnostics(stdout, stderr, "text", vres); err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			if vres.Diagnostics.HasErrors(false) {
				return &exitError{code: exitInvalid, err: errors.New("the imported project does not validate; please report this with the export")}
			}
			next := "review it"
			if vars := compiler.EnvRefs(string(res.Files["bic.yaml"])); len(vars) > 0 {
				next += ", set " + strings.Join(vars, ", ")
			}
			fmt.Fprintf(stdout, "%s is valid; next: %s, and run bic validate %s\n", out, next, out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", ".", "the folder to write the project to: missing or empty, unless --force")
	cmd.Flags().BoolVar(&strict, "strict", false, "fail on any warning, writing nothing")
	cmd.Flags().BoolVar(&force, "force", false, "write into a folder that already has files (replacing those of the same names)")
	cmd.Flags().StringVar(&project, "project", "superset", "the name of the bic project")
	return cmd
}

// openExport opens a Superset export: a folder, read through an os.Root so
// nothing outside it is reached, or a ZIP file, whose entries are checked
// first.
func openExport(p string) (fs.FS, func(), error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, nil, usageErrorf("export: %w", err)
	}
	if info.IsDir() {
		root, err := os.OpenRoot(p)
		if err != nil {
			return nil, nil, usageErrorf("export: %w", err)
		}
		return root.FS(), func() { root.Close() }, nil
	}
	if !info.Mode().IsRegular() {
		return nil, nil, usageErrorf("export: %s is neither a folder nor a ZIP file", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, usageErrorf("export: %w", err)
	}
	zfs, err := superset.OpenZip(f, info.Size(), superset.DefaultLimits())
	if err != nil {
		f.Close()
		return nil, nil, &exitError{code: exitInvalid, err: fmt.Errorf("export %s: %w", p, err)}
	}
	return zfs, func() { f.Close() }, nil
}

// checkOutDir refuses to write into a folder that has files, unless force.
func checkOutDir(dir string, force bool) error {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return usageErrorf("--out: %w", err)
	}
	if !info.IsDir() {
		return usageErrorf("--out: %s is not a folder", dir)
	}
	f, err := os.Open(dir)
	if err != nil {
		return usageErrorf("--out: %w", err)
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err == nil && !force {
		return usageErrorf("--out: %s is not empty; import into a new folder, or use --force to write into it", dir)
	} else if err != nil && err != io.EOF {
		return usageErrorf("--out: %w", err)
	}
	return nil
}

// writeImported writes files under dir through an os.Root, so no name (and
// no symbolic link already in dir) can lead outside it.
func writeImported(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer root.Close()
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		if !fs.ValidPath(p) {
			return fmt.Errorf("write %s: not a path inside the project", p)
		}
		if d := path.Dir(p); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("create %s: %w", filepath.Join(dir, d), err)
			}
		}
		if err := root.WriteFile(p, files[p], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, p), err)
		}
	}
	return nil
}
