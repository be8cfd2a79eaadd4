package filterstate

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bic-dev/bic/compiler/query/timewindow"
)

// Filter types.
const (
	Select      = "select"
	MultiSelect = "multi_select"
	DateRange   = "date_range"
	NumberRange = "number_range"
)

var (
	// ErrUnknownFilter is returned for a state that names a filter the
	// dashboard does not have.
	ErrUnknownFilter = errors.New("unknown filter")
	// ErrInvalidValue is returned for a value that its filter cannot take.
	ErrInvalidValue = errors.New("invalid filter value")
)

// Dashboard is what Normalize needs to know of a dashboard: its filters.
type Dashboard struct {
	Name    string   `json:"name"`
	Filters []Filter `json:"filters"`
}

// Filter is one filter of a dashboard.
type Filter struct {
	Name string `json:"name"`
	Type string `json:"type"` // select, multi_select, date_range or number_range
	// ValueType is the type of the dimension it filters: string, number,
	// boolean or time.
	ValueType string `json:"value_type"`
	Default   any    `json:"default,omitempty"`
	// Values, when set, are the only values it takes.
	Values   []any `json:"values,omitempty"`
	Required bool  `json:"required,omitempty"`
}

// State is a normalised filter state: every filter of its dashboard by
// name, with its canonical value, or nil where it restricts nothing. A
// select holds one value of the dimension's type; a multi_select a sorted
// list without duplicates; a date_range a range string or {from, to}; a
// number_range {min, max} (either may be left out).
type State map[string]any

// Normalize checks what a viewer chose against the dashboard's filters and
// returns its canonical form: a filter left out takes its default, one set
// to nil restricts nothing (unless it is required). A name the dashboard
// has no filter for is refused (ErrUnknownFilter), and so is a value its
// filter cannot take (ErrInvalidValue).
func Normalize(d Dashboard, chosen map[string]any) (State, error) {
	known := make(map[string]bool, len(d.Filters))
	for _, f := range d.Filters {
		known[f.Name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(chosen)) {
		if !known[name] {
			names := make([]string, len(d.Filters))
			for i, f := range d.Filters {
				names[i] = f.Name
			}
			list := "none"
			if len(names) > 0 {
				list = strings.Join(names, ", ")
			}
			return nil, fmt.Errorf("dashboard %s has no filter %q (its filters: %s): %w", d.Name, name, list, ErrUnknownFilter)
		}
	}
	out := make(State, len(d.Filters))
	for _, f := range d.Filters {
		v, set := chosen[f.Name]
		if !set {
			v = f.Default
		}
		if v == nil {
			if f.Required {
				return nil, fmt.Errorf("filter %s is required: give it a value: %w", f.Name, ErrInvalidValue)
			}
			out[f.Name] = nil
			continue
		}
		cv, err := canonical(f, v)
		if err != nil {
			return nil, fmt.Errorf("filter %s: %w: %w", f.Name, err, ErrInvalidValue)
		}
		out[f.Name] = cv
	}
	return out, nil
}

// canonical converts a filter's value to the dimension's type, checks it
// and writes it in one form.
func canonical(f Filter, v any) (any, error) {
	switch f.Type {
	case Select:
		if list, ok := v.([]any); ok && len(list) == 1 {
			v = list[0]
		}
		if _, ok := v.([]any); ok {
			return nil, errors.New("the value of a select filter is one value; use multi_select for several")
		}
		if _, ok := v.(map[string]any); ok {
			return nil, errors.New("the value of a select filter is one value, not a mapping")
		}
		cv, err := Coerce(f.ValueType, v)
		if err != nil {
			return nil, err
		}
		if msg := inChoices(cv, f.Values); msg != "" {
			return nil, fmt.Errorf("the value %s", msg)
		}
		return cv, nil
	case MultiSelect:
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		vals := make([]any, 0, len(list))
		for _, it := range list {
			cv, err := Coerce(f.ValueType, it)
			if err != nil {
				return nil, err
			}
			if msg := inChoices(cv, f.Values); msg != "" {
				return nil, fmt.Errorf("the value %s", msg)
			}
			vals = append(vals, cv)
		}
		if len(vals) == 0 {
			return nil, nil // nothing chosen: no restriction
		}
		slices.SortFunc(vals, compareValues)
		return slices.CompactFunc(vals, func(a, b any) bool { return compareValues(a, b) == 0 }), nil
	case DateRange:
		if s, ok := v.(string); ok {
			r, err := timewindow.Parse(s)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", s, err)
			}
			if r.Form != "span" {
				return s, nil
			}
			// A span is written as its bounds, so that 2024-01-01..2024-12-31
			// and {from: 2024-01-01, to: 2024-12-31} are one state, with one key.
			v = map[string]any{"from": r.From}
			if r.To != "" {
				v.(map[string]any)["to"] = r.To
			}
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errors.New("the value of a date_range filter is a range such as last_30_days or {from: 2024-01-01, to: 2024-12-31}")
		}
		return bounds(m, "from", "to", func(key string, b any) (any, error) {
			s, ok := b.(string)
			if !ok || !timewindow.IsDateLike(s) {
				return nil, fmt.Errorf("%s: expected a date such as 2024-01-31, found %s", key, Describe(b))
			}
			return strings.Replace(s, "T", " ", 1), nil
		}, func(lo, hi any) bool { return lo.(string) > hi.(string) })
	case NumberRange:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errors.New("the value of a number_range filter is {min: 0, max: 100}")
		}
		return bounds(m, "min", "max", func(key string, b any) (any, error) {
			n, err := Coerce("number", b)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			return toFloat(n), nil
		}, func(lo, hi any) bool { return lo.(float64) > hi.(float64) })
	}
	return nil, fmt.Errorf("unknown filter type %q", f.Type)
}

// bounds reads a range {lo, hi} in which either bound may be missing or
// nil; a range with neither restricts nothing.
func bounds(m map[string]any, loKey, hiKey string, conv func(string, any) (any, error), after func(lo, hi any) bool) (any, error) {
	out := map[string]any{}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		if key != loKey && key != hiKey {
			return nil, fmt.Errorf("a range has %s and %s, found %q", loKey, hiKey, key)
		}
		if m[key] == nil {
			continue
		}
		cv, err := conv(key, m[key])
		if err != nil {
			return nil, err
		}
		out[key] = cv
	}
	if len(out) == 0 {
		return nil, nil
	}
	lo, okLo := out[loKey]
	hi, okHi := out[hiKey]
	if okLo && okHi && after(lo, hi) {
		return nil, fmt.Errorf("the range ends at %v, before it starts at %v", hi, lo)
	}
	return out, nil
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return v.(float64)
}

// compareValues orders coerced values of one dimension type: numbers by
// value, false before true, strings (and times) by their bytes.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case float64, int, int64:
		if y, ok := b.(float64); ok || isInt(b) {
			if !ok {
				y = toFloat(b)
			}
			return cmp.Compare(toFloat(x), y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	}
	return strings.Compare(fmt.Sprintf("%T", a), fmt.Sprintf("%T", b))
}

func isInt(v any) bool {
	switch v.(type) {
	case int, int64:
		return true
	}
	return false
}

// JSON is the state as canonical JSON: keys sorted, no space.
func (s State) JSON() json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any(s)); err != nil {
		// A normalised state holds strings, numbers, booleans, lists and maps.
		panic(fmt.Sprintf("filterstate: encode state: %v", err))
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// Key is the state's key: the sha256 (hex) of its canonical JSON. Two
// states give the same key exactly when they restrict the same way.
func (s State) Key() string {
	sum := sha256.Sum256(s.JSON())
	return hex.EncodeToString(sum[:])
}
