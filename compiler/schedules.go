package compiler

import (
	"fmt"
	"slices"
)

// defaultSchedules are the environments that run schedules when the
// project's schedules leaves them out.
func defaultSchedules() []string { return []string{"prod"} }

// RunsSchedules reports whether env's alerts and reports notify for real
// and its datasets refresh on their schedules: env is in the project's
// schedules (by default [prod]). Any other environment, such as a
// preview, evaluates its alerts and reports in a dry run and refreshes
// nothing (it shares the schedule environments' caches).
func (p Project) RunsSchedules(env string) bool {
	envs := p.Schedules
	if len(envs) == 0 {
		envs = defaultSchedules()
	}
	return slices.Contains(envs, env)
}

// checkCatchup reports a dataset's catchup without a refresh schedule to
// apply to. (Alerts and reports always have a schedule.)
func (r *resolver) checkCatchup(n *Node, dataset, catchup, refresh string) {
	if catchup != "" && refresh == "" {
		r.sink.errorf(n.PosAt("catchup"), CodeInvalid, "%s: catchup applies to a refresh schedule; add refresh or remove catchup", fmt.Sprintf("dataset %q", dataset))
	}
}

// checkSchedules reports an empty schedules list: left out, it means
// [prod]; a list must name at least one environment.
func (r *resolver) checkSchedules(n *Node) {
	if r.project.Schedules != nil && len(r.project.Schedules) == 0 {
		r.sink.errorf(n.PosAt("schedules"), CodeInvalid, "schedules lists no environment; name the environments whose alerts, reports and refreshes run, or leave schedules out for [prod]")
	}
}
