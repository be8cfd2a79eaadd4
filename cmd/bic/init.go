package main

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
	"golang.org/x/text/unicode/norm"
)

// scaffold is the small valid project that `bic init` writes.
//
//go:embed all:scaffold
var scaffold embed.FS

func newInitCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Create a small valid project (DuckDB sample data, one dataset, one dashboard, one alert)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if _, err := os.Stat(filepath.Join(dir, "bic.yaml")); err == nil && !force {
				return usageErrorf("%s already has a bic.yaml; use --force to overwrite the scaffold's files", dir)
			}
			name := projectName(dir)
			n := 0
			err := fs.WalkDir(scaffold, "scaffold", func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel := strings.TrimPrefix(p, "scaffold/")
				b, err := scaffold.ReadFile(p)
				if err != nil {
					return err
				}
				if rel == "bic.yaml" {
					b = []byte(strings.Replace(string(b), "name: my_project", "name: "+name, 1))
				}
				dst := filepath.Join(dir, filepath.FromSlash(rel))
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					return err
				}
				n++
				return os.WriteFile(dst, b, 0o644)
			})
			if err != nil {
				return &exitError{code: exitRuntime, err: fmt.Errorf("write project: %w", err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created project %q in %s (%d files); next: bic validate %s\n", name, dir, n, dir)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing project's scaffold files")
	return cmd
}

// projectName derives a valid project name from the folder name. Accented
// letters keep their base letter (Übersicht → ubersicht): a name made only
// of the ASCII letters left over would be a surprise.
func projectName(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "my_project"
	}
	var b strings.Builder
	for _, r := range foldToASCII(strings.ToLower(filepath.Base(abs))) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0:
			b.WriteByte('_')
		}
	}
	name := strings.Trim(b.String(), "_")
	for strings.Contains(name, "__") {
		name = strings.ReplaceAll(name, "__", "_")
	}
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		return "my_project"
	}
	return name
}

// letterFolds are the letters that decomposition does not reduce to ASCII.
var letterFolds = strings.NewReplacer("ß", "ss", "æ", "ae", "œ", "oe", "ø", "o", "đ", "d", "ł", "l", "þ", "th", "ð", "d")

// foldToASCII removes accents: it decomposes letters (NFD) and drops the
// combining marks, so é becomes e and ü becomes u.
func foldToASCII(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(letterFolds.Replace(s)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
