package query

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/compiler/query/filterstate"
	"github.com/bic-dev/bic/compiler/query/timewindow"
)

func coerceAll(typ string, v any) (any, error) {
	if typ == "time" {
		return v, nil
	}
	if list, ok := v.([]any); ok {
		out := make([]any, len(list))
		for i, it := range list {
			c, err := filterstate.Coerce(typ, it)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return filterstate.Coerce(typ, v)
}

// ParseFilterArgs reads filter values written as NAME=VALUE, as on the
// command line: a list is comma-separated (multi_select), a date range is
// a named range or FROM..TO, a number range MIN..MAX with either side
// optional, and an empty value clears the filter's default.
func ParseFilterArgs(m *compiler.Manifest, dashboard string, args []string) (FilterState, error) {
	d, ok := m.Dashboard(dashboard)
	if !ok {
		return nil, fmt.Errorf("no dashboard %q", dashboard)
	}
	state := FilterState{}
	for _, arg := range args {
		name, value, ok := strings.Cut(arg, "=")
		if !ok {
			return nil, fmt.Errorf("filter %q: expected NAME=VALUE", arg)
		}
		var f *compiler.Filter
		var names []string
		for i := range d.Spec.Filters {
			names = append(names, d.Spec.Filters[i].Name)
			if d.Spec.Filters[i].Name == name {
				f = &d.Spec.Filters[i]
			}
		}
		if f == nil {
			return nil, fmt.Errorf("dashboard %s has no filter %q%s; its filters: %s", dashboard, name, compiler.DidYouMean(name, names), compiler.ListOr(names))
		}
		if value == "" {
			if f.Required {
				return nil, fmt.Errorf("filter %s is required: give it a value", name)
			}
			state[name] = nil
			continue
		}
		switch f.Type {
		case "multi_select":
			var list []any
			for _, v := range strings.Split(value, ",") {
				list = append(list, strings.TrimSpace(v))
			}
			state[name] = list
		case "number_range":
			lo, hi, ok := strings.Cut(value, "..")
			if !ok {
				return nil, fmt.Errorf("filter %s: expected MIN..MAX such as 10..100 (either side may be empty), found %q", name, value)
			}
			r := map[string]any{}
			for key, s := range map[string]string{"min": lo, "max": hi} {
				if s == "" {
					continue
				}
				n, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return nil, fmt.Errorf("filter %s: %s: expected a number, found %q", name, key, s)
				}
				r[key] = n
			}
			state[name] = r
		case "date_range":
			if _, err := timewindow.Parse(value); err != nil {
				return nil, fmt.Errorf("filter %s: %q: %v", name, value, err)
			}
			state[name] = value
		default:
			state[name] = value
		}
		// Typed on a command line, every value is a string: convert it to
		// the dimension's type, then check it as a default is checked.
		dimType := ""
		if ds, ok := m.Dataset(f.Dataset); ok {
			dimType = ds.Spec.Dimensions[f.Dimension].Type
		}
		if f.Type == "select" || f.Type == "multi_select" {
			converted, err := coerceAll(dimType, state[name])
			if err != nil {
				return nil, fmt.Errorf("filter %s: %v", name, err)
			}
			state[name] = converted
		}
		if msg := filterstate.Fits(f.Type, dimType, state[name], f.Values); msg != "" {
			return nil, fmt.Errorf("filter %s: the value %s", name, msg)
		}
	}
	return state, nil
}
