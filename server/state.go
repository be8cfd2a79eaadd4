package server

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/bic-dev/bic/compiler/query/filterstate"
)

// stateFromQuery reads a viewer's filter state from a URL's query, by each
// filter's type:
//
//	select        region=EU                 (empty: restricts nothing)
//	multi_select  country=FR&country=DE     or country=FR,DE
//	number_range  price=10..100             either bound may be left out: price=10..
//	date_range    period=last_30_days       a named range
//	              period=2024-01-01..2024-12-31   from..to, either left out
//
// A parameter that names no filter is kept as it is, for Normalize to
// refuse with the dashboard's list of filters.
func stateFromQuery(d filterstate.Dashboard, q url.Values) (map[string]any, error) {
	byName := make(map[string]filterstate.Filter, len(d.Filters))
	for _, f := range d.Filters {
		byName[f.Name] = f
	}
	chosen := make(map[string]any, len(q))
	for name, vals := range q {
		f, ok := byName[name]
		if !ok {
			chosen[name] = vals[len(vals)-1]
			continue
		}
		v, err := queryValue(f, vals)
		if err != nil {
			return nil, fmt.Errorf("filter %s: %w: %w", name, err, filterstate.ErrInvalidValue)
		}
		chosen[name] = v
	}
	return chosen, nil
}

// queryValue is one filter's value from its query parameters, in the form
// filterstate.Normalize takes.
func queryValue(f filterstate.Filter, vals []string) (any, error) {
	switch f.Type {
	case filterstate.MultiSelect:
		var list []any
		for _, v := range vals {
			for part := range strings.SplitSeq(v, ",") {
				if part != "" {
					list = append(list, part)
				}
			}
		}
		if len(list) == 0 {
			return nil, nil
		}
		return list, nil
	}
	if len(vals) > 1 {
		return nil, fmt.Errorf("given %d times; a %s filter takes one value", len(vals), f.Type)
	}
	v := vals[0]
	if v == "" {
		return nil, nil
	}
	switch f.Type {
	case filterstate.NumberRange:
		lo, hi, ok := strings.Cut(v, "..")
		if !ok {
			return nil, fmt.Errorf("%q is not a range MIN..MAX (either may be left out: 10.. or ..100)", v)
		}
		return bounds("min", lo, "max", hi), nil
	case filterstate.DateRange:
		if from, to, ok := strings.Cut(v, ".."); ok {
			return bounds("from", from, "to", to), nil
		}
		return v, nil
	}
	return v, nil
}

// bounds is a range {lo, hi} without the bounds left empty.
func bounds(loKey, lo, hiKey, hi string) map[string]any {
	m := map[string]any{}
	if lo != "" {
		m[loKey] = lo
	}
	if hi != "" {
		m[hiKey] = hi
	}
	return m
}
