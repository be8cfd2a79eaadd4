package filterstate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bic-dev/bic/compiler/query/timewindow"
)

// Coerce converts a filter value to the dimension's type (time, string,
// number or boolean), so that "42" typed on a command line compares as a
// number and a date binds as a wall-clock timestamp.
func Coerce(typ string, v any) (any, error) {
	switch typ {
	case "number":
		switch v := v.(type) {
		case float64, int64, int:
			return v, nil
		case string:
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f, nil
			}
		}
		return nil, fmt.Errorf("expected a number, found %v", Describe(v))
	case "boolean":
		switch v := v.(type) {
		case bool:
			return v, nil
		case string:
			if b, err := strconv.ParseBool(v); err == nil {
				return b, nil
			}
		}
		return nil, fmt.Errorf("expected true or false, found %v", Describe(v))
	case "time":
		s, ok := v.(string)
		if !ok || !timewindow.IsDateLike(s) {
			return nil, fmt.Errorf("expected a date such as 2024-01-31, found %v", Describe(v))
		}
		if len(s) == 10 {
			s += " 00:00:00"
		}
		return strings.Replace(s, "T", " ", 1), nil
	default:
		switch v := v.(type) {
		case string:
			return v, nil
		case float64, int64, bool:
			return fmt.Sprint(v), nil
		}
		return nil, fmt.Errorf("expected a string, found %v", v)
	}
}

// ValueFits says why a literal cannot be compared with a dimension of the
// given type, or returns "".
func ValueFits(dimType string, v any) string {
	switch dimType {
	case "number":
		switch v.(type) {
		case float64, int64:
			return ""
		}
		return fmt.Sprintf("expected a number for a number dimension, found %v", Describe(v))
	case "boolean":
		if _, ok := v.(bool); ok {
			return ""
		}
		return fmt.Sprintf("expected true or false for a boolean dimension, found %v", Describe(v))
	case "time":
		if s, ok := v.(string); ok && timewindow.IsDateLike(s) {
			return ""
		}
		return fmt.Sprintf("expected a date such as 2024-01-31 for a time dimension, found %v", Describe(v))
	}
	return ""
}

// Fits says why v is not a value of a filter of the given type on a
// dimension of type dimType, limited to choices when there are any; it
// returns "" for a value that fits. The message follows "the value".
func Fits(filterType, dimType string, v any, choices []any) string {
	switch filterType {
	case "select":
		if _, isList := v.([]any); isList {
			return "of a select filter is one value; use multi_select for several"
		}
		if _, isMap := v.(map[string]any); isMap {
			return "of a select filter is one value, not a mapping"
		}
		if msg := ValueFits(dimType, v); msg != "" {
			return msg
		}
		return inChoices(v, choices)
	case "multi_select":
		list, isList := v.([]any)
		if !isList {
			return "of a multi_select filter is a list, such as [a, b]"
		}
		for _, it := range list {
			if msg := ValueFits(dimType, it); msg != "" {
				return msg
			}
			if msg := inChoices(it, choices); msg != "" {
				return msg
			}
		}
	case "date_range":
		switch v := v.(type) {
		case string:
			if _, err := timewindow.Parse(v); err != nil {
				return fmt.Sprintf("%q: %v", v, err)
			}
		case map[string]any:
			if _, ok := v["min"]; ok {
				return "of a date_range filter uses from and to, not min and max"
			}
			for _, k := range []string{"from", "to"} {
				if s, ok := v[k].(string); ok && !timewindow.IsDateLike(s) {
					return fmt.Sprintf("%s: expected a date such as 2024-01-31, found %q", k, s)
				}
			}
			if from, ok := v["from"].(string); ok {
				if to, ok := v["to"].(string); ok && to < from {
					return fmt.Sprintf("ends on %s, before it starts on %s", to, from)
				}
			}
		default:
			return "of a date_range filter is a range such as last_30_days or {from: 2024-01-01, to: 2024-12-31}"
		}
	case "number_range":
		m, ok := v.(map[string]any)
		if !ok {
			return "of a number_range filter is {min: 0, max: 100}"
		}
		if _, ok := m["from"]; ok {
			return "of a number_range filter uses min and max, not from and to"
		}
		lo, okLo := m["min"].(float64)
		hi, okHi := m["max"].(float64)
		if okLo && okHi && lo > hi {
			return fmt.Sprintf("has min %v above max %v", lo, hi)
		}
	}
	return ""
}

func inChoices(v any, choices []any) string {
	if len(choices) == 0 {
		return ""
	}
	for _, c := range choices {
		if fmt.Sprint(c) == fmt.Sprint(v) {
			return ""
		}
	}
	return fmt.Sprintf("%s is not one of the filter's values", Describe(v))
}

// Describe writes a value for a message: strings quoted.
func Describe(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}
