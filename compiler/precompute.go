package compiler

import (
	"fmt"

	"github.com/bic-dev/bic/compiler/query/filterstate"
)

// DefaultPrecompute is how many filter states beyond the default a
// dashboard precomputes when it does not say: enough for the static
// choices of a few select filters, few enough that an apply stays quick.
const DefaultPrecompute = 20

// PrecomputedState is a filter state that apply computes: the dashboard's
// default, or one filter set to one of its static values with every other
// filter at its default.
type PrecomputedState struct {
	// Filter and Value are what differs from the default; both are empty
	// for the default state.
	Filter string
	Value  any
	State  filterstate.State
	chosen any // Value, or [Value] for a multi_select
}

// IsDefault reports whether s is the dashboard's default state.
func (s PrecomputedState) IsDefault() bool { return s.Filter == "" }

// ValueText is s's value as a page's filter control writes it.
func (s PrecomputedState) ValueText() string {
	if s.IsDefault() {
		return ""
	}
	return fmt.Sprint(s.Value)
}

// Chosen is what a viewer chooses to reach s: nothing for the default,
// else its one filter's value (a multi_select's as a list of one).
func (s PrecomputedState) Chosen() map[string]any {
	if s.IsDefault() {
		return nil
	}
	return map[string]any{s.Filter: s.chosen}
}

// PrecomputedStates lists the states of a dashboard that apply computes,
// the default first: then, for each select and multi_select filter in the
// order written and each of its static values in order, the state with
// that value chosen (a multi_select's value alone) and the other filters
// at their defaults, until the dashboard's precompute bound. A state equal
// to one listed before (a filter's default value) is left out. Filters
// whose values come from the data are not known when a plan is made, so
// their states are computed when a viewer asks.
func (m *Manifest) PrecomputedStates(dashboard string) ([]PrecomputedState, error) {
	d, ok := m.Dashboard(dashboard)
	if !ok {
		return nil, fmt.Errorf("no dashboard %q", dashboard)
	}
	def, err := m.DefaultState(dashboard)
	if err != nil {
		return nil, err
	}
	out := []PrecomputedState{{State: def}}
	limit := DefaultPrecompute
	if d.Spec.Precompute != nil {
		limit = *d.Spec.Precompute
	}
	seen := map[string]bool{def.Key(): true}
	for _, f := range d.Spec.Filters {
		if f.Type != filterstate.Select && f.Type != filterstate.MultiSelect {
			continue
		}
		for _, v := range f.Values {
			if len(out) > limit {
				return out, nil
			}
			var chosen any = v
			if f.Type == filterstate.MultiSelect {
				chosen = []any{v}
			}
			st, err := m.NormalizeState(dashboard, map[string]any{f.Name: chosen})
			if err != nil {
				continue // the compiler reported a value that does not fit
			}
			if k := st.Key(); !seen[k] {
				seen[k] = true
				out = append(out, PrecomputedState{Filter: f.Name, Value: v, State: st, chosen: chosen})
			}
		}
	}
	return out, nil
}
