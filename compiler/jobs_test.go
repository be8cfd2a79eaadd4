package compiler

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// shopFS is examples/shop as a MapFS that a test may edit.
func shopFS(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	root := os.DirFS("../examples/shop")
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		out[p] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// snapshotOf is what an environment holds after m was applied to it.
func snapshotOf(m *Manifest) Snapshot {
	snap := Snapshot{Env: "prod", Revision: 1, Objects: map[string]SnapshotObject{}}
	for id, o := range m.ObjectSpecs() {
		snap.Objects[id] = SnapshotObject{Hash: o.Hash, Spec: o.JSON()}
	}
	return snap
}

func compileEdited(t *testing.T, fsys fstest.MapFS, file string, edit func(string) string) *Manifest {
	t.Helper()
	edited := fstest.MapFS{}
	for k, v := range fsys {
		edited[k] = v
	}
	edited[file] = &fstest.MapFile{Data: []byte(edit(string(fsys[file].Data)))}
	res := mustCompile(t, newTestCompiler(t), edited)
	if res.Manifest == nil {
		t.Fatalf("edited project does not compile: %v", res.Diagnostics)
	}
	return res.Manifest
}

// jobsByKind counts a plan's jobs by kind and the objects of each kind.
func jobsByKind(p *Plan) map[JobKind]int {
	out := map[JobKind]int{}
	for _, j := range p.Jobs {
		out[j.Kind]++
	}
	return out
}

// The two probes of issue 8, as plans against the example shop: each edit
// changes the SQL of charts, so each must imply their chart_data jobs.
func TestPlanOfEditsThatChangeTheSQL(t *testing.T) {
	fsys := shopFS(t)
	base := mustCompile(t, newTestCompiler(t), fsys).Manifest
	snap := snapshotOf(base)
	if p := Diff(base, snap); p.HasChanges() || len(p.Jobs) != 0 {
		t.Fatalf("the unchanged project plans %d changes and %d jobs", len(p.Changes), len(p.Jobs))
	}
	// Each changed chart computes every precomputed state of its dashboard.
	stateJobs := func(dashboard string) int {
		n := 0
		for _, c := range base.Charts {
			if dashboard == "" || c.Dashboard == dashboard {
				sts, err := base.PrecomputedStates(c.Dashboard)
				if err != nil {
					t.Fatal(err)
				}
				n += len(sts)
			}
		}
		return n
	}
	tests := []struct {
		name  string
		file  string
		edit  func(string) string
		jobs  map[JobKind]int
		check func(t *testing.T, p *Plan)
	}{
		{
			name: "status filter default",
			file: "dashboards/sales.yaml",
			edit: func(s string) string {
				return replace(t, s, "default: [pending, shipped, completed]", "default: [shipped, completed]")
			},
			// Every chart of sales, its thumbnail, and the reports on it.
			jobs: map[JobKind]int{JobChartData: stateJobs("sales"), JobThumbnail: 1},
		},
		{
			name: "project time zone",
			file: "bic.yaml",
			edit: func(s string) string { return replace(t, s, "timezone: Europe/Berlin", "timezone: UTC") },
			jobs: map[JobKind]int{JobChartData: stateJobs(""), JobThumbnail: len(base.Dashboards)},
			check: func(t *testing.T, p *Plan) {
				var because []string
				for _, c := range p.Changes {
					if c.ID == "chart/sales/revenue" {
						because = c.Because
					}
				}
				if diff := cmp.Diff([]string{"project/shop"}, because); diff != "" {
					t.Errorf("chart/sales/revenue changes because (-want +got):\n%s", diff)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := compileEdited(t, fsys, tt.file, tt.edit)
			p := Diff(m, snap)
			if !p.HasChanges() {
				t.Fatal("the plan is empty")
			}
			got := jobsByKind(p)
			delete(got, JobSchedule) // alerts and reports on the charts, as their hashes say
			if diff := cmp.Diff(tt.jobs, got); diff != "" {
				t.Errorf("jobs by kind (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

// A chart's first chart_data job computes its dashboard's default state:
// it carries the state and its key, and its key names the chart, its hash
// and the state.
func TestChartDataJobsCarryTheDefaultState(t *testing.T) {
	m := shopManifest(t)
	p := Diff(m, Snapshot{Env: "prod"})
	want, err := m.DefaultState("sales")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, j := range p.Jobs {
		if found && j.ObjectID == "chart/sales/revenue" {
			continue // the other precomputed states: TestPrecomputedStates
		}
		if j.Kind != JobChartData {
			if j.StateKey != "" || j.State != nil {
				t.Errorf("%s job %s carries a filter state", j.Kind, j.Key)
			}
			continue
		}
		if j.StateKey == "" || j.State == nil {
			t.Errorf("%s carries no filter state", j.Key)
		}
		if j.ObjectID != "chart/sales/revenue" {
			continue
		}
		found = true
		c, _ := m.Chart("sales/revenue")
		if j.StateKey != want.Key() || string(j.State) != string(want.JSON()) {
			t.Errorf("state %s (key %s), want %s (key %s)", j.State, j.StateKey, want.JSON(), want.Key())
		}
		if wantKey := "chart_data:chart/sales/revenue@" + c.Hash[:16] + "/" + want.Key()[:16]; j.Key != wantKey {
			t.Errorf("key %s, want %s", j.Key, wantKey)
		}
		if !strings.Contains(string(j.State), `"status":["completed","pending","shipped"]`) {
			t.Errorf("the state's status is not the sorted default: %s", j.State)
		}
	}
	if !found {
		t.Fatal("no chart_data job for sales/revenue")
	}
}

// A thumbnail waits for exactly its own dashboard's chart_data jobs of
// the plan: those of its charts that changed, not those of another
// dashboard, not those of unchanged charts.
func TestThumbnailDependsOnItsChangedChartData(t *testing.T) {
	fsys := fixtureFS(t, "testdata/valid/yaml_project.txtar")
	fsys["dashboards/ops.yaml"] = &fstest.MapFile{Data: []byte(`dashboard: ops
title: Ops
charts:
  - {name: orders, type: big_number, dataset: orders, metrics: [orders]}
  - {name: revenue, type: big_number, dataset: orders, metrics: [revenue]}
`)}
	res := mustCompile(t, newTestCompiler(t), fsys)
	if res.Manifest == nil || len(res.Diagnostics) > 0 {
		t.Fatalf("the fixture does not compile cleanly: %v", res.Diagnostics)
	}
	base := res.Manifest
	// One chart of each dashboard changes.
	both := fstest.MapFS{}
	for k, v := range fsys {
		both[k] = v
	}
	both["dashboards/sales.yaml"] = &fstest.MapFile{Data: []byte(replace(t, string(fsys["dashboards/sales.yaml"].Data), "name: by_country", "name: by_country\n    title: Top countries"))}
	both["dashboards/ops.yaml"] = &fstest.MapFile{Data: []byte(replace(t, string(fsys["dashboards/ops.yaml"].Data), "metrics: [orders]}", "metrics: [orders], title: Order count}"))}
	edited := mustCompile(t, newTestCompiler(t), both).Manifest
	p := Diff(edited, snapshotOf(base))
	keys := map[string]string{} // object → job key
	deps := map[string][]string{}
	for _, j := range p.Jobs {
		keys[j.ObjectID] = j.Key
		if j.Kind == JobThumbnail {
			deps[j.ObjectID] = j.DependsOn
		}
	}
	want := map[string][]string{
		"dashboard/sales": {keys["chart/sales/by_country"]},
		"dashboard/ops":   {keys["chart/ops/orders"]},
	}
	if diff := cmp.Diff(want, deps); diff != "" {
		t.Errorf("thumbnails depend on (-want +got):\n%s", diff)
	}
	for _, id := range []string{"chart/sales/by_country", "chart/ops/orders"} {
		if keys[id] == "" {
			t.Errorf("no chart_data job for %s", id)
		}
	}
}

// The states a dashboard precomputes: its default, then each static value
// of its select and multi_select filters, up to its precompute bound; each
// changed chart has one chart_data job per state, and the plan counts them.
func TestPrecomputedStates(t *testing.T) {
	fsys := shopFS(t)
	tests := []struct {
		name string
		edit func(string) string
		want []string // filter=value, "" for the default
	}{
		{
			name: "default bound",
			edit: func(s string) string { return s },
			want: []string{"", "status=pending", "status=shipped", "status=completed", "status=returned", "status=cancelled",
				"channel=web", "channel=app", "channel=marketplace"},
		},
		{
			name: "bound of two",
			edit: func(s string) string {
				return replace(t, s, "tags: [sales, weekly]", "tags: [sales, weekly]\nprecompute: 2")
			},
			want: []string{"", "status=pending", "status=shipped"},
		},
		{
			name: "none",
			edit: func(s string) string {
				return replace(t, s, "tags: [sales, weekly]", "tags: [sales, weekly]\nprecompute: 0")
			},
			want: []string{""},
		},
		{
			name: "a select's default value is the default state, listed once",
			edit: func(s string) string {
				return replace(t, s, "values: [web, app, marketplace]", "values: [web, app, marketplace]\n    default: app")
			},
			want: []string{"", "status=pending", "status=shipped", "status=completed", "status=returned", "status=cancelled",
				"channel=web", "channel=marketplace"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := compileEdited(t, fsys, "dashboards/sales.yaml", tt.edit)
			sts, err := m.PrecomputedStates("sales")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			keys := map[string]bool{}
			for i, st := range sts {
				if st.IsDefault() != (i == 0) {
					t.Errorf("state %d: IsDefault %v", i, st.IsDefault())
				}
				if st.IsDefault() {
					got = append(got, "")
				} else {
					got = append(got, st.Filter+"="+st.ValueText())
				}
				keys[st.State.Key()] = true
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("states (-want +got):\n%s", diff)
			}
			p := Diff(m, Snapshot{Env: "prod"})
			jobs := 0
			for _, j := range p.Jobs {
				if j.ObjectID == "chart/sales/revenue" && j.Kind == JobChartData {
					jobs++
					if !keys[j.StateKey] {
						t.Errorf("job %s computes a state that is not precomputed", j.Key)
					}
				}
			}
			if jobs != len(tt.want) {
				t.Errorf("%d chart_data jobs for sales/revenue, want %d", jobs, len(tt.want))
			}
			if p.Precomputed["sales"] != len(tt.want) {
				t.Errorf("the plan counts %d precomputed states of sales, want %d", p.Precomputed["sales"], len(tt.want))
			}
			var b strings.Builder
			if err := WritePlanText(&b, p); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("sales %d", len(tt.want)); !strings.Contains(b.String(), "Filter states precomputed: ") || !strings.Contains(b.String(), want) {
				t.Errorf("the plan text does not say %q:\n%s", want, b.String())
			}
		})
	}
}
