package superset

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
)

// Options tune an import.
type Options struct {
	// Project is the name of the bic project (default "superset").
	Project string
	// Limits bound what the export may hold (DefaultLimits when zero).
	Limits Limits
}

// Result is a translated export: the files of a bic project and what could
// not be translated.
type Result struct {
	// Files maps a slash-separated path in the project (bic.yaml,
	// datasets/NAME.yaml, dashboards/NAME.yaml) to its content.
	Files map[string][]byte
	// Warnings name each Superset object (file, position, name) that was
	// left out or changed on the way, in the order of the files.
	Warnings []Warning
	// Dashboards counts, per dashboard, the charts translated and those
	// left out with a warning.
	Dashboards []DashboardStats
}

// DashboardStats counts the charts of one imported dashboard.
type DashboardStats struct {
	Title      string // the Superset title
	Name       string // the bic name
	Charts     int    // chart components on the Superset dashboard (filter boxes included)
	Translated int    // charts in the bic dashboard
	Warned     int    // charts left out, each with a warning
	FilterBox  int    // legacy filter boxes, turned into filters
	Filters    int    // filters in the bic dashboard
}

// Warning is something of the export that bic could not translate, or
// translated only in part. The import goes on.
type Warning struct {
	File         string // the Superset file, relative to the export's root
	Line, Column int    // where in it, when known
	Object       string // such as `chart "Seasonality of Revenue"`
	Message      string
}

func (w Warning) String() string {
	var b strings.Builder
	b.WriteString(w.File)
	if w.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", w.Line, w.Column)
	}
	b.WriteString(": warning: ")
	if w.Object != "" {
		b.WriteString(w.Object)
		b.WriteString(": ")
	}
	b.WriteString(w.Message)
	return b.String()
}

// Error is an import failure in one file of the export (a YAML syntax
// error, a file that is not what its folder says).
type Error struct {
	File         string
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	if e.File != "" {
		return e.File + ": " + e.Msg
	}
	return e.Msg
}

// Import translates the Superset export in fsys (its unpacked folder, or a
// ZIP opened with OpenZip) into a bic project. It reads only through fsys,
// refuses symbolic links, and writes nothing: the caller decides where the
// files go.
func Import(ctx context.Context, fsys fs.FS, opts Options) (*Result, error) {
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits()
	}
	if opts.Project == "" {
		opts.Project = "superset"
	}
	if s := slug(opts.Project, "project"); s != opts.Project {
		return nil, fmt.Errorf("project name %q is not a bic name (lower case, digits and _, starting with a letter); try %q", opts.Project, s)
	}
	b, err := readBundle(ctx, fsys, opts.Limits)
	if err != nil {
		return nil, err
	}
	im := newImporter(b, opts)
	if err := im.run(ctx); err != nil {
		return nil, err
	}
	return im.result(), nil
}

// bundle is the export's files, parsed, by kind and UUID.
type bundle struct {
	root       string // the folder holding metadata.yaml, "." or one level down
	metadata   *doc
	databases  []*doc
	datasets   []*doc
	charts     []*doc
	dashboards []*doc
	warnings   []Warning
}

// exportKinds are the folders of an export and what each holds.
var exportKinds = []string{"databases", "datasets", "charts", "dashboards"}

func readBundle(ctx context.Context, fsys fs.FS, lim Limits) (*bundle, error) {
	var files, jsonFiles []string
	entries := 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		entries++
		if entries > lim.MaxEntries {
			return fmt.Errorf("%w: more than %d files and folders", ErrUnsafeArchive, lim.MaxEntries)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return &Error{File: p, Msg: "is a symbolic link; an export holds only files and folders"}
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return &Error{File: p, Msg: "is not a regular file"}
		}
		if ext := path.Ext(p); ext == ".yaml" || ext == ".yml" {
			files = append(files, p)
		} else if ext == ".json" {
			jsonFiles = append(jsonFiles, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read export: %w", err)
	}
	sort.Strings(files)
	b := &bundle{root: findRoot(files)}
	if b.root == "" && len(jsonFiles) > 0 {
		// Superset before 1.0 exported dashboards as one JSON file.
		if data, err := readLimited(fsys, jsonFiles[0], lim.MaxFileSize); err == nil && bytes.Contains(data, []byte("__Dashboard__")) {
			return nil, &Error{File: jsonFiles[0], Msg: "this is a dashboard export of Superset before 1.0 (one JSON file); export the dashboards again from Superset 1.0 or later, which writes metadata.yaml and one YAML file per object"}
		}
	}
	if b.root == "" {
		return nil, &Error{Msg: "no metadata.yaml found: this is not a Superset export (Superset 1.0 or later writes metadata.yaml, databases/, datasets/, charts/ and dashboards/)"}
	}
	var total int64
	for _, p := range files {
		rel := p
		if b.root != "." {
			var ok bool
			if rel, ok = strings.CutPrefix(p, b.root+"/"); !ok {
				continue
			}
		}
		kind, _, _ := strings.Cut(rel, "/")
		if rel != "metadata.yaml" && !slices.Contains(exportKinds, kind) {
			continue
		}
		data, err := readLimited(fsys, p, lim.MaxFileSize)
		if err != nil {
			return nil, &Error{File: rel, Msg: err.Error()}
		}
		total += int64(len(data))
		if total > lim.MaxTotalSize {
			return nil, fmt.Errorf("read export: %w: files add up to more than %d bytes", ErrUnsafeArchive, lim.MaxTotalSize)
		}
		d, err := parseDoc(rel, data)
		if err != nil {
			return nil, err
		}
		switch kind {
		case "databases":
			b.databases = append(b.databases, d)
		case "datasets":
			b.datasets = append(b.datasets, d)
		case "charts":
			b.charts = append(b.charts, d)
		case "dashboards":
			b.dashboards = append(b.dashboards, d)
		default:
			b.metadata = d
		}
	}
	if v := str(b.metadata.root, "version"); v != "" && !strings.HasPrefix(v, "1.") {
		b.warnings = append(b.warnings, Warning{File: "metadata.yaml", Message: fmt.Sprintf("export version %q is newer than the 1.x versions this importer knows; reading it as 1.0.0", v)})
	}
	return b, nil
}

// findRoot is the folder of the export's metadata.yaml: the top of the
// archive, or the one folder Superset's ZIP files put everything in
// (dashboard_export_20240101T000000/).
func findRoot(files []string) string {
	var roots []string
	for _, p := range files {
		if p == "metadata.yaml" {
			return "."
		}
		if dir, base := path.Split(p); base == "metadata.yaml" && strings.Count(dir, "/") == 1 {
			roots = append(roots, strings.TrimSuffix(dir, "/"))
		}
	}
	if len(roots) == 1 {
		return roots[0]
	}
	return ""
}
