package site

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"
)

// compileProject compiles the project in fsys, failing the test on any error.
func compileProject(t *testing.T, fsys fs.FS) *compiler.Manifest {
	t.Helper()
	s, err := compiler.NewSchema()
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.New(s).Compile(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest == nil {
		t.Fatalf("project does not compile:\n%v", res.Diagnostics)
	}
	return res.Manifest
}

func compileShop(t *testing.T) *compiler.Manifest {
	t.Helper()
	return compileProject(t, os.DirFS("../../examples/shop"))
}

// computedAt is when the fixture data was computed.
var computedAt = time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)

// fixtureData makes small, fixed data for every chart of a dashboard, in
// the shape runner/result writes: the chart's x, its dimensions, then its
// metrics (each followed by NAME_previous for a compared big number).
func fixtureData(t *testing.T, m *compiler.Manifest, dashboard string) map[string]ChartData {
	t.Helper()
	d, ok := m.Dashboard(dashboard)
	if !ok {
		t.Fatalf("no dashboard %s", dashboard)
	}
	out := map[string]ChartData{}
	for _, c := range d.Spec.Charts {
		ds, _ := m.Dataset(c.Dataset)
		out[c.Name] = ChartData{
			JSON:       fixtureJSON(t, c, ds.Spec),
			CSVURL:     "../csv/" + dashboard + "/" + c.Name,
			ComputedAt: computedAt,
		}
	}
	return out
}

type fixtureColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

func fixtureJSON(t *testing.T, c compiler.Chart, ds compiler.Dataset) []byte {
	t.Helper()
	var cols []fixtureColumn
	var group []string
	if c.X != "" {
		group = append(group, c.X)
	}
	group = append(group, c.Dimensions...)
	for _, g := range group {
		typ := ds.Dimensions[g].Type
		cols = append(cols, fixtureColumn{g, typ})
	}
	for _, mname := range c.Metrics {
		cols = append(cols, fixtureColumn{mname, "number"})
		if c.Compare != "" {
			cols = append(cols, fixtureColumn{mname + "_previous", "number"})
		}
	}
	n := 3
	if c.Type == typeBigNumber {
		n = 1
	}
	var rows [][]any
	// Every combination of n values per group-by column (at most 2 columns).
	combos := [][]int{{}}
	for range group {
		var next [][]int
		for _, cmb := range combos {
			for i := 0; i < n; i++ {
				next = append(next, append(append([]int(nil), cmb...), i))
			}
		}
		combos = next
	}
	for k, cmb := range combos {
		var row []any
		for gi, g := range group {
			row = append(row, fixtureValue(ds.Dimensions[g].Type, g, cmb[gi]))
		}
		for mi, mname := range c.Metrics {
			v := fixtureMetric(ds.Metrics[mname], k, mi)
			row = append(row, v)
			if c.Compare != "" {
				row = append(row, fixtureMetric(ds.Metrics[mname], k+1, mi))
			}
		}
		rows = append(rows, row)
	}
	b, err := json.Marshal(map[string]any{"columns": cols, "rows": rows})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixtureValue(typ, name string, i int) any {
	switch typ {
	case "time":
		return time.Date(2025, time.Month(10+i), 1, 0, 0, 0, 0, time.FixedZone("", 3600)).Format(time.RFC3339)
	case "number":
		return i + 1
	case "boolean":
		return i%2 == 0
	}
	return fmt.Sprintf("%s %d", name, i+1)
}

func fixtureMetric(m compiler.Metric, k, mi int) any {
	if strings.HasPrefix(m.Expr, "count(") {
		return 40*(k+1) + 7*mi
	}
	if m.Format == "percent" {
		return 0.05 + 0.0125*float64(k+mi)
	}
	return json.Number(fmt.Sprintf("%d.%02d", 1200*(k+1)+37*mi, (17*k)%100))
}
