package compiler

import (
	"fmt"
	"slices"

	"github.com/bic-dev/bic/compiler/query/filterstate"
)

// FilterDashboard describes a dashboard's filters as filterstate needs
// them, each with the type of the dimension it filters. It is what the
// server is given to normalise a viewer's state without the compiler.
func (m *Manifest) FilterDashboard(name string) (filterstate.Dashboard, bool) {
	d, ok := m.lookup().filterDashboards(m)[name]
	if !ok {
		return filterstate.Dashboard{}, false
	}
	// A copy: the description is shared by every plan of the manifest.
	d.Filters = slices.Clone(d.Filters)
	return d, true
}

// filterDashboard builds d's description; lookup keeps one per dashboard.
func (m *Manifest) filterDashboard(d DashboardObject) filterstate.Dashboard {
	name := d.Spec.Name
	out := filterstate.Dashboard{Name: name, Filters: make([]filterstate.Filter, len(d.Spec.Filters))}
	for i, f := range d.Spec.Filters {
		typ := ""
		if ds, ok := m.Dataset(f.Dataset); ok {
			typ = ds.Spec.Dimensions[f.Dimension].Type
		}
		out.Filters[i] = filterstate.Filter{Name: f.Name, Type: f.Type, ValueType: typ, Default: f.Default, Values: f.Values, Required: f.Required}
	}
	return out
}

// NormalizeState is filterstate.Normalize for a dashboard of the manifest:
// defaults applied, names and values checked, multi-select values sorted.
// A state that chooses nothing is the dashboard's default state, which the
// manifest index normalises once and every caller shares: a returned
// State is read, never modified.
func (m *Manifest) NormalizeState(dashboard string, state map[string]any) (filterstate.State, error) {
	x := m.lookup()
	dashboards := x.filterDashboards(m)
	if len(state) == 0 {
		if d, ok := x.defaults[dashboard]; ok {
			return d.state, d.err
		}
	}
	d, ok := dashboards[dashboard]
	if !ok {
		return nil, fmt.Errorf("no dashboard %q", dashboard)
	}
	return filterstate.Normalize(d, state)
}

// DefaultState is a dashboard's state when a viewer chose nothing: every
// filter at its default. Its chart_data jobs precompute it.
func (m *Manifest) DefaultState(dashboard string) (filterstate.State, error) {
	return m.NormalizeState(dashboard, nil)
}
