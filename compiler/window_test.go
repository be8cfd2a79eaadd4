package compiler

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// TestLargeListsAreCheckedInWindows: a list or mapping longer than
// cueWindow is unified a window at a time; every error is still found, at
// its own position and index, in lists inside lists and in mappings.
func TestLargeListsAreCheckedInWindows(t *testing.T) {
	var dash strings.Builder
	dash.WriteString("dashboard: big\ntitle: Big\ncharts:\n")
	var want []string
	for i := range 1000 {
		typ, metrics := "line", "[revenue]"
		if i == 0 || i == 300 || i == 999 {
			typ = "nope"
		}
		if i == 700 {
			m := make([]string, 600)
			for j := range m {
				m[j] = "revenue"
			}
			m[555] = "Bad-Name"
			metrics = "[" + strings.Join(m, ", ") + "]"
		}
		line := fmt.Sprintf("  - {name: c%d, dataset: orders, x: ordered_at, type: %s, metrics: %s}", i, typ, metrics)
		if typ == "nope" {
			want = append(want, fmt.Sprintf("dashboards/big.yaml:%d:%d: charts[%d].type of dashboard \"big\"", 4+i, strings.Index(line, "nope")+1, i))
		}
		if i == 700 {
			want = append(want, fmt.Sprintf("dashboards/big.yaml:%d:%d: charts[700].metrics[555] of dashboard \"big\"", 4+i, strings.Index(line, "Bad-Name")+1))
		}
		dash.WriteString(line + "\n")
	}
	var ds strings.Builder
	ds.WriteString("dataset: wide\ntable: wide\nmetrics:\n  n: {expr: count(*)}\ndimensions:\n")
	for i := range 600 {
		typ := "string"
		if i == 400 {
			typ = "nope"
		}
		line := fmt.Sprintf("  d%03d: {type: %s}", i, typ)
		if typ == "nope" {
			want = append(want, fmt.Sprintf("datasets/wide.yaml:%d:%d: dimensions.d400.type of dataset \"wide\"", 6+i, strings.Index(line, "nope")+1))
		}
		ds.WriteString(line + "\n")
	}
	fsys := baseFS(t)
	fsys["dashboards/big.yaml"] = &fstest.MapFile{Data: []byte(dash.String())}
	fsys["datasets/wide.yaml"] = &fstest.MapFile{Data: []byte(ds.String())}
	res := mustCompile(t, newTestCompiler(t), fsys)
	var got []string
	for _, d := range res.Diagnostics {
		if d.Severity == SeverityError {
			path, _, _ := strings.Cut(d.Message, ":")
			got = append(got, d.Pos.String()+": "+path)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
