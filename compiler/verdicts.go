package compiler

import (
	"sort"
	"strings"
)

// CheckOnly returns a copy of the compiler for checking alone: Compile
// reports the same diagnostics and counts the same objects, but returns
// no manifest. With a cache it then skips the dashboards that cannot have
// a problem: one whose document is unchanged since a compile found no
// problem in it, in the same context (the project, its connections and
// the datasets it reads, by their hashes), is counted without being resolved, and
// its tree is never read. That is what `bic validate` needs after a
// one-file edit. A dashboard an alert or report names is resolved all the
// same, since their checks read it.
func (c *Compiler) CheckOnly() *Compiler {
	cp := *c
	cp.checkOnly = true
	return &cp
}

// Counts are the objects of a compiled project.
type Counts struct {
	Datasets, Dashboards, Charts, Alerts, Reports int
}

// reuseVerdicts returns the dashboards of objs to resolve: all but those
// whose clean verdict the cache holds for this context (see CheckOnly),
// which it counts instead. A verdict is used only for a document that
// loaded and passed the schema without a diagnostic, and for a dashboard
// no referrer names: any string in an alert's or report's tree that is a
// dashboard's name, or starts with it and a slash, keeps that dashboard.
func (r *resolver) reuseVerdicts(objs, referrers []object) []object {
	if len(r.pack) == 0 {
		return objs
	}
	named := map[string]bool{}
	for i := range referrers {
		collectNames(referrers[i].tree(), named, 0)
	}
	keep := objs[:0:0]
	for _, o := range objs {
		if m, ok := r.pack[o.key]; ok && !named[o.name] && r.reusable(o, m) {
			r.reused = append(r.reused, m)
			r.reusedNames = append(r.reusedNames, o.name)
			continue
		}
		keep = append(keep, o)
	}
	return keep
}

// reusable reports whether m, the memo of o's document in this context,
// stands for resolving o.
func (r *resolver) reusable(o object, m dashboardMemo) bool {
	return m.clean && // resolving it found nothing
		m.id == string(DashboardID(o.name)) &&
		// Nor did loading and checking it, which the memo does not cover.
		o.cleanFile && o.cached != nil && len(o.cached.diags) == 0 &&
		// And it would read the same datasets again.
		m.readSame(r.datasets)
}

// collectNames adds every string of n's tree to names, and the part of
// each before its first slash (DASHBOARD/CHART).
func collectNames(n *Node, names map[string]bool, depth int) {
	if n == nil || depth > maxDepth+2 {
		return
	}
	switch n.Kind {
	case KindString:
		names[n.Str] = true
		if dash, _, ok := strings.Cut(n.Str, "/"); ok {
			names[dash] = true
		}
	case KindMap:
		for _, v := range n.Values {
			collectNames(v, names, depth+1)
		}
	case KindList:
		for _, v := range n.Items {
			collectNames(v, names, depth+1)
		}
	}
}

// dashboardNames lists every dashboard's name, reused ones too, for the
// suggestions of messages about unknown ones.
func (r *resolver) dashboardNames() []string {
	names := sortedKeys(r.dashboards)
	if len(r.reusedNames) == 0 {
		return names
	}
	names = append(names, r.reusedNames...)
	sort.Strings(names)
	return names
}

// counts are the objects resolved and reused.
func (r *resolver) counts() Counts {
	c := Counts{
		Datasets:   len(r.m.Datasets),
		Dashboards: len(r.m.Dashboards) + len(r.reused),
		Charts:     len(r.m.Charts),
		Alerts:     len(r.m.Alerts),
		Reports:    len(r.m.Reports),
	}
	for _, m := range r.reused {
		c.Charts += len(m.charts) / 2
	}
	return c
}
