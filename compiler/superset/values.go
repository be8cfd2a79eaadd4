package superset

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Accessors for the loosely typed values of an export: Superset writes the
// same setting as a string in one version and a list or a number in another,
// and keeps some mappings as JSON text (params, json_metadata, extra).

func str(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// mapping is m[key] as a mapping, decoding JSON text when it holds some.
func mapping(m map[string]any, key string) map[string]any {
	switch v := m[key].(type) {
	case map[string]any:
		return v
	case string:
		var out map[string]any
		if json.Unmarshal([]byte(v), &out) == nil {
			return out
		}
	}
	return nil
}

// list is m[key] as a list: a single value becomes a list of one, JSON text
// holding a list is decoded.
func list(m map[string]any, key string) []any {
	switch v := m[key].(type) {
	case []any:
		return v
	case nil:
		return nil
	case string:
		if v == "" {
			return nil
		}
		if strings.HasPrefix(strings.TrimSpace(v), "[") {
			var out []any
			if json.Unmarshal([]byte(v), &out) == nil {
				return out
			}
		}
		return []any{v}
	default:
		return []any{v}
	}
}

// stringList is m[key] as a list of strings, dropping what is not a string.
func stringList(m map[string]any, key string) []string {
	var out []string
	for _, v := range list(m, key) {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// number is m[key] as a number; ok is false when it is missing or not one.
func number(m map[string]any, key string) (float64, bool) {
	return toNumber(m[key])
}

func toNumber(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

// truthy reads Superset's booleans, which are sometimes strings ("Stack",
// "true") or numbers.
func truthy(m map[string]any, key string) bool {
	switch v := m[key].(type) {
	case bool:
		return v
	case string:
		switch strings.ToLower(v) {
		case "", "false", "no", "0", "null", "none":
			return false
		}
		return true
	case int64:
		return v != 0
	case float64:
		return v != 0
	}
	return false
}
