package compiler

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestObjectNamesOfFilesThatDidNotLoad(t *testing.T) {
	tests := []struct {
		name string
		got  []objKey
		want []objKey
	}{
		{
			name: "yaml with a syntax error further down",
			got:  yamlObjectNames([]byte("dataset: orders\ntable: [orders\n")),
			want: []objKey{{KindDataset, "orders"}},
		},
		{
			name: "yaml documents, quoted names and comments",
			got:  yamlObjectNames([]byte("dashboard: \"sales\" # the main one\n---\ndataset: 'orders'\n...\n")),
			want: []objKey{{KindDashboard, "sales"}, {KindDataset, "orders"}},
		},
		{
			name: "an alert's dataset key names no dataset",
			got:  yamlObjectNames([]byte("alert: low\ndataset: orders\nmetric: revenue\n")),
			want: []objKey{{KindAlert, "low"}},
		},
		{
			name: "nested and misspelt naming keys are not read",
			got:  yamlObjectNames([]byte("datset: orders\ncharts:\n  - dataset: orders\n")),
			want: nil,
		},
		{
			name: "cue shorthand, blocks and optional labels",
			got: cueObjectNames([]byte(`package shop
datasets: orders: #Base & {table: "orders"}
datasets: {
	customers: {table: "customers", dimensions: country: type: "string"}
	"sessions"?: {table: "sessions"}
}
dashboards: sales: charts: [{name: "x", dataset: "ignored"}]
`)),
			want: []objKey{{KindDataset, "orders"}, {KindDataset, "customers"}, {KindDataset, "sessions"}, {KindDashboard, "sales"}},
		},
		{
			name: "cue with a syntax error, definitions and lists",
			got:  cueObjectNames([]byte("#T: datasets: nope: {}\nx: [datasets, {datasets: nope: 1}]\nalerts: low: {dataset: \"orders\" metric: \"m\"}\n")),
			want: []objKey{{KindAlert, "low"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got, cmp.AllowUnexported(objKey{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for file, want := range map[string]objKey{
		"datasets/orders.yaml":     {KindDataset, "orders"},
		"dashboards/ops/sales.cue": {KindDashboard, "sales"},
		"reports/weekly.yml":       {KindReport, "weekly"},
	} {
		if got, ok := objectFromPath(file); !ok || got != want {
			t.Errorf("objectFromPath(%q) = %v, %v; want %v", file, got, ok, want)
		}
	}
	for _, file := range []string{"bic.yaml", "data/orders.yaml", "datasets/Orders-2.yaml"} {
		if got, ok := objectFromPath(file); ok {
			t.Errorf("objectFromPath(%q) = %v; want none", file, got)
		}
	}
}

// unreadableFS fails to open one file, as a file without read permission does.
type unreadableFS struct {
	fs.FS
	file string
}

func (u unreadableFS) Open(name string) (fs.File, error) {
	if name == u.file {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return u.FS.Open(name)
}

// TestUnreadableFileHidesItsReferences: a dataset file that cannot be read
// is one error and one note, not an unknown dataset at every reference.
func TestUnreadableFileHidesItsReferences(t *testing.T) {
	fsys := fixtureFS(t, "testdata/errors/cascade_dataset_duplicate_key.txtar")
	res := compileFS(t, unreadableFS{FS: fsys, file: "datasets/orders.yaml"})
	var got []string
	for _, d := range res.Diagnostics {
		got = append(got, d.String())
	}
	want := []string{
		"datasets/orders.yaml: error: cannot read: open datasets/orders.yaml: permission denied",
		`datasets/orders.yaml: warning: dataset "orders" did not load, so 3 references to it were not checked (in alerts/low_revenue.yaml and dashboards/sales.yaml)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := res.Diagnostics[1]; n.Code != CodeNotChecked {
		t.Errorf("the note has code %q, want %q", n.Code, CodeNotChecked)
	}
}

func TestSortPutsCausesFirst(t *testing.T) {
	at := func(file string, line int, sev Severity, code, msg string) Diagnostic {
		return Diagnostic{Pos: Pos{File: file, Line: line, Col: 1}, Severity: sev, Code: code, Message: msg}
	}
	in := Diagnostics{
		at("alerts/a.yaml", 2, SeverityError, CodeUnknownRef, "alert"),
		at("reports/r.yaml", 1, SeverityError, CodeUnknownRef, "report"),
		at("dashboards/d.yaml", 9, SeverityError, CodeUnknownRef, "dashboard late"),
		at("dashboards/d.yaml", 3, SeverityWarning, CodeLayout, "dashboard warning"),
		at("dashboards/d.yaml", 5, SeverityError, CodeUnknownRef, "dashboard early"),
		at("datasets/z.yaml", 0, SeverityWarning, CodeNotChecked, "note"),
		at("datasets/z.yaml", 4, SeverityError, CodeSyntax, "syntax"),
		at("datasets/b.yaml", 1, SeverityError, CodeInvalid, "dataset"),
		at("bic.yaml", 7, SeverityError, CodeUnknownKey, "project"),
		at("alerts/a.yaml", 2, SeverityError, CodeUnknownRef, "alert"),
		at("zz/other.yaml", 1, SeverityError, CodeInvalid, "other"),
	}
	var got []string
	for _, d := range in.Sort() {
		got = append(got, d.Message)
	}
	want := []string{"syntax", "note", "project", "dataset", "dashboard early", "dashboard late", "dashboard warning", "alert", "report", "other"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// TestNoteFollowsTheFailedObject: an object that fails its schema check
// gets the note about its references, after its own errors.
func TestNoteFollowsTheFailedObject(t *testing.T) {
	res := compileFS(t, fixtureFS(t, "testdata/errors/cascade_dataset_schema_error.txtar"))
	if len(res.Diagnostics) != 2 {
		t.Fatalf("got %d diagnostics, want the schema error and the note:\n%v", len(res.Diagnostics), res.Diagnostics)
	}
	if d := res.Diagnostics[0]; d.Severity != SeverityError || d.Pos.File != "datasets/orders.yaml" {
		t.Errorf("first is %s, want the dataset's own error", d)
	}
	note := res.Diagnostics[1]
	if note.Code != CodeNotChecked || !strings.Contains(note.Message, "4 references") {
		t.Errorf("second is %s, want the note about 4 references", note)
	}
}

func compileFS(t *testing.T, fsys fs.FS) Result {
	t.Helper()
	res, err := newTestCompiler(t).Compile(t.Context(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
