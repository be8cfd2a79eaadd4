package compiler

import (
	"testing"
	"testing/fstest"
)

func scheduledProject(schedules string) fstest.MapFS {
	return fstest.MapFS{
		"bic.yaml": {Data: []byte("name: shop\nconnections:\n  pg: {type: postgres, host: db, database: shop}\n" + schedules)},
		"datasets/orders.yaml": {Data: []byte(`dataset: orders
table: orders
refresh: "0 * * * *"
catchup: skip
dimensions:
  ordered_at: {type: time}
metrics:
  revenue: {expr: sum(amount)}
`)},
		"alerts/drop.yaml": {Data: []byte(`alert: drop
dataset: orders
metric: revenue
condition: {change: drop, percent: 20}
schedule: "*/5 * * * *"
catchup: latest
notify:
  - {type: webhook, url: "${env:HOOK}"}
`)},
		"dashboards/sales.yaml": {Data: []byte("dashboard: sales\ntitle: Sales\ncharts:\n  - {name: revenue, type: big_number, dataset: orders, metrics: [revenue]}\n")},
		"reports/daily.yaml":    {Data: []byte("report: daily\ndashboard: sales\nschedule: \"0 8 * * *\"\ncatchup: skip\nnotify:\n  - {type: email, to: [team@example.com]}\n")},
	}
}

// The catch-up policies and schedules reach the manifest; schedules is
// part of the project's hash, so that changing it is a change to apply.
func TestSchedulePolicies(t *testing.T) {
	c := newTestCompiler(t)
	compile := func(schedules string) *Manifest {
		t.Helper()
		res := mustCompile(t, c, scheduledProject(schedules))
		if len(res.Diagnostics) > 0 || res.Manifest == nil {
			t.Fatalf("diagnostics: %v", res.Diagnostics)
		}
		return res.Manifest
	}
	def := compile("")
	if def.Project.Schedules != nil || !def.Project.RunsSchedules("prod") || def.Project.RunsSchedules("pr-1") || def.Project.RunsSchedules("staging") {
		t.Errorf("default schedules: %v", def.Project.Schedules)
	}
	m := compile("schedules: [prod, staging]\n")
	if !m.Project.RunsSchedules("staging") || !m.Project.RunsSchedules("prod") || m.Project.RunsSchedules("pr-1") {
		t.Errorf("schedules [prod, staging]: %v", m.Project.Schedules)
	}
	if m.Datasets[0].Spec.Catchup != CatchupSkip || m.Alerts[0].Spec.Catchup != CatchupLatest || m.Reports[0].Spec.Catchup != CatchupSkip {
		t.Errorf("catchup: dataset %q, alert %q, report %q", m.Datasets[0].Spec.Catchup, m.Alerts[0].Spec.Catchup, m.Reports[0].Spec.Catchup)
	}
	a, _, _ := def.projectObject()
	b, _, _ := m.projectObject()
	if a.Hash == b.Hash {
		t.Error("changing schedules does not change the project's hash")
	}
	only := compile("schedules: [staging]\n")
	if only.Project.RunsSchedules("prod") {
		t.Error("schedules [staging] still runs prod's")
	}
}
