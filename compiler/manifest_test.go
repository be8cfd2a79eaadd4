package compiler

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func shopManifest(t *testing.T) *Manifest {
	t.Helper()
	res := mustCompile(t, newTestCompiler(t), os.DirFS("../examples/shop"))
	if res.Manifest == nil {
		t.Fatalf("examples/shop does not compile: %v", res.Diagnostics)
	}
	return res.Manifest
}

func compileFixture(t *testing.T, archive string) *Manifest {
	t.Helper()
	res := mustCompile(t, newTestCompiler(t), fixtureFS(t, archive))
	if res.Manifest == nil {
		t.Fatalf("%s does not compile: %v", archive, res.Diagnostics)
	}
	return res.Manifest
}

// The golden manifest pins normalization (defaults, labels, layout widths,
// filter scopes) and the hashes: a change to either shows up in review.
func TestManifestGolden(t *testing.T) {
	m := compileFixture(t, "testdata/valid/yaml_project.txtar")
	b, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "testdata/manifest.golden.json", b)
}

// YAML and CUE are two spellings of one language: the same project gives
// the same objects and hashes whichever is used.
func TestYAMLAndCUEAgree(t *testing.T) {
	y := compileFixture(t, "testdata/valid/yaml_project.txtar")
	c := compileFixture(t, "testdata/valid/cue_project.txtar")
	ignoreSource := cmpopts.IgnoreFields(Meta{}, "Source")
	if diff := cmp.Diff(y, c, ignoreSource, cmpopts.IgnoreUnexported(Manifest{})); diff != "" {
		t.Errorf("YAML and CUE manifests differ (-yaml +cue):\n%s", diff)
	}
}

func TestCompileIsDeterministic(t *testing.T) {
	a := compileFixture(t, "testdata/valid/yaml_project.txtar")
	for range 5 {
		b := compileFixture(t, "testdata/valid/yaml_project.txtar")
		ja, _ := a.JSON()
		jb, _ := b.JSON()
		if string(ja) != string(jb) {
			t.Fatal("two compilations of the same project differ")
		}
	}
}

func hashes(m *Manifest) map[string]string {
	out := map[string]string{}
	for _, o := range m.Objects() {
		out[o.ID] = o.Hash
	}
	return out
}

// changedIDs lists the objects whose hash differs between two manifests.
func changedIDs(a, b *Manifest) []string {
	ha, hb := hashes(a), hashes(b)
	var out []string
	for _, id := range sortedKeys(hb) {
		if ha[id] != hb[id] {
			out = append(out, id)
		}
	}
	return out
}

// TestHashDependencies edits one file at a time and checks exactly which
// objects change hash: the edited one and everything that depends on it.
func TestHashDependencies(t *testing.T) {
	c := newTestCompiler(t)
	base := fixtureFS(t, "testdata/valid/yaml_project.txtar")
	baseManifest := mustCompile(t, c, base).Manifest
	tests := []struct {
		name string
		file string
		edit func(string) string
		want []string
	}{
		{
			name: "dataset metric changes charts, dashboards, alerts and reports on it",
			file: "datasets/orders.yaml",
			edit: func(s string) string { return replace(t, s, "sum(amount)", "sum(amount - discount)") },
			want: []string{
				"alert/revenue_drop",
				"chart/sales/by_country", "chart/sales/devices", "chart/sales/orders", "chart/sales/revenue", "chart/sales/trend",
				"dashboard/sales", "dataset/orders", "dataset/sessions", "report/weekly",
			},
		},
		{
			name: "dataset that only sessions reads through nothing else",
			file: "datasets/sessions.yaml",
			edit: func(s string) string { return replace(t, s, "refresh: \"0 * * * *\"", "refresh: \"30 * * * *\"") },
			want: []string{"chart/sales/devices", "dashboard/sales", "dataset/sessions", "report/weekly"},
		},
		{
			name: "chart title changes the chart, its dashboard and the report on it",
			file: "dashboards/sales.yaml",
			edit: func(s string) string {
				return replace(t, s, "name: by_country", "name: by_country\n    title: Top countries")
			},
			want: []string{"chart/sales/by_country", "dashboard/sales", "report/weekly"},
		},
		{
			name: "comments and formatting change nothing",
			file: "datasets/orders.yaml",
			edit: func(s string) string {
				return "# the orders table\n" + replace(t, s, "{type: string}", "\n    type: string")
			},
			want: nil,
		},
		{
			// Probe of issue 8: a filter's default is part of the SQL's
			// arguments and of the state the charts' jobs precompute.
			name: "filter default changes every chart of its dashboard and what depends on them",
			file: "dashboards/sales.yaml",
			edit: func(s string) string { return replace(t, s, "default: [DE, FR]", "default: [DE]") },
			want: []string{
				"alert/revenue_drop",
				"chart/sales/by_country", "chart/sales/devices", "chart/sales/orders", "chart/sales/revenue", "chart/sales/trend",
				"dashboard/sales", "report/weekly",
			},
		},
		{
			name: "filter label changes only the dashboard and the report on it",
			file: "dashboards/sales.yaml",
			edit: func(s string) string {
				return replace(t, s, "type: multi_select", "type: multi_select\n    label: Land")
			},
			want: []string{"dashboard/sales", "report/weekly"},
		},
		{
			// Probe of issue 8: the project's time zone is in the generated
			// SQL, so changing it is a change of the project and of every
			// chart and alert.
			name: "project time zone changes the project, every chart and alert and what depends on them",
			file: "bic.yaml",
			edit: func(s string) string { return replace(t, s, "timezone: Europe/Berlin", "timezone: America/New_York") },
			want: []string{
				"alert/revenue_drop",
				"chart/sales/by_country", "chart/sales/devices", "chart/sales/orders", "chart/sales/revenue", "chart/sales/trend",
				"dashboard/sales", "project/test", "report/weekly",
			},
		},
		{
			name: "project description changes only the project",
			file: "bic.yaml",
			edit: func(s string) string { return replace(t, s, "name: test", "name: test\ndescription: A test project.") },
			want: []string{"project/test"},
		},
		{
			name: "alert schedule changes only the alert",
			file: "alerts/revenue_drop.yaml",
			edit: func(s string) string { return replace(t, s, "0 8 * * 1", "0 9 * * 1") },
			want: []string{"alert/revenue_drop"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for k, v := range base {
				fsys[k] = v
			}
			fsys[tt.file] = &fstest.MapFile{Data: []byte(tt.edit(string(base[tt.file].Data)))}
			res := mustCompile(t, c, fsys)
			if res.Manifest == nil {
				t.Fatalf("edited project does not compile: %v", res.Diagnostics)
			}
			if diff := cmp.Diff(tt.want, changedIDs(baseManifest, res.Manifest)); diff != "" {
				t.Errorf("changed objects (-want +got):\n%s", diff)
			}
			if (len(tt.want) == 0) != (res.Manifest.Hash == baseManifest.Hash) {
				t.Errorf("manifest hash changed = %v, want %v", res.Manifest.Hash != baseManifest.Hash, len(tt.want) > 0)
			}
		})
	}
}

func replace(t *testing.T, s, old, new string) string {
	t.Helper()
	i := strings.Index(s, old)
	if i < 0 {
		t.Fatalf("%q not in fixture", old)
	}
	return s[:i] + new + s[i+len(old):]
}

// Secrets stay references: the manifest never holds their values.
func TestSecretsStayReferences(t *testing.T) {
	t.Setenv("SLACK_URL", "https://hooks.slack.com/services/T0/B0/verysecret")
	m := compileFixture(t, "testdata/valid/yaml_project.txtar")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "verysecret") {
		t.Fatal("the manifest contains a secret's value")
	}
	if !strings.Contains(string(b), "${env:SLACK_URL}") {
		t.Fatal("the manifest lost the secret reference")
	}
}
