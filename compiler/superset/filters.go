package superset

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// operators maps the operators of Superset's SIMPLE ad-hoc filters (and
// of the legacy filters list) to those of bic's where conditions.
var operators = map[string]string{
	"==": "=", "=": "=", "!=": "!=", "<>": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<=",
	"IN": "in", "NOT IN": "not_in", "IS NULL": "is_null", "IS NOT NULL": "not_null",
}

// chartFilters reads a chart's adhoc_filters (and the older filters, where
// and having) into where conditions and a time range.
func (im *importer) chartFilters(c *chart, params map[string]any, warn func(path, format string, args ...any)) {
	for i, f := range list(params, "adhoc_filters") {
		fm, ok := f.(map[string]any)
		if !ok {
			continue
		}
		path := fmt.Sprintf("params.adhoc_filters.%d", i)
		clause := strings.ToUpper(str(fm, "clause"))
		if clause == "" {
			clause = "WHERE"
		}
		if strings.ToUpper(str(fm, "expressionType")) == "SQL" || clause != "WHERE" {
			sql := str(fm, "sqlExpression")
			warn(path, "a %s filter written in SQL (%s) has no bic equivalent; left out", clause, excerpt(sql))
			continue
		}
		op := strings.ToUpper(strings.TrimSpace(str(fm, "operator")))
		subject := fm["subject"]
		if sm, ok := subject.(map[string]any); ok {
			subject = str(sm, "column_name")
		}
		if op == "TEMPORAL_RANGE" {
			s, _ := fm["comparator"].(string)
			bt, msg := timeRange(s)
			if msg != "" {
				warn(path, "%s", msg)
				continue
			}
			c.timeRange = bt
			continue
		}
		if msg := im.condition(c, subject, op, fm["comparator"]); msg != "" {
			warn(path, "%s", msg)
		}
	}
	// Superset before 0.35 kept simple filters in "filters" and SQL in
	// "where" and "having".
	for i, f := range list(params, "filters") {
		if fm, ok := f.(map[string]any); ok {
			if msg := im.condition(c, fm["col"], strings.ToUpper(str(fm, "op")), fm["val"]); msg != "" {
				warn(fmt.Sprintf("params.filters.%d", i), "%s", msg)
			}
		}
	}
	for _, k := range []string{"where", "having"} {
		if s := strings.TrimSpace(str(params, k)); s != "" {
			warn("params."+k, "a custom %s clause in SQL (%s) has no bic equivalent; left out", strings.ToUpper(k), excerpt(s))
		}
	}
}

// condition adds a where condition for one simple filter; msg says why it
// could not.
func (im *importer) condition(c *chart, subject any, op string, value any) (msg string) {
	col, _ := subject.(string)
	dm := c.ds.column(col)
	if dm == nil {
		return fmt.Sprintf("a filter on column %q, which dataset %q does not have; left out", col, c.ds.title)
	}
	var w node
	w.set("dimension", dm.name)
	switch op {
	case "IS TRUE", "IS FALSE":
		if dm.typ != "boolean" {
			return fmt.Sprintf("the filter %s needs a boolean column, and %q is a %s one; left out", op, col, dm.typ)
		}
		w.set("op", "=")
		w.set("value", op == "IS TRUE")
		c.where = append(c.where, w)
		return ""
	}
	bop, ok := operators[op]
	if !ok {
		return fmt.Sprintf("the filter operator %s (on %q) has no bic equivalent; left out", op, col)
	}
	w.set("op", bop)
	switch bop {
	case "is_null", "not_null":
	case "in", "not_in":
		vals := value
		if _, ok := vals.([]any); !ok {
			vals = []any{vals}
		}
		var out []any
		for _, v := range vals.([]any) {
			cv, ok := convertValue(dm.typ, v)
			if !ok {
				return fmt.Sprintf("filter value %v does not fit %s column %q; the filter is left out", v, dm.typ, col)
			}
			out = append(out, cv)
		}
		if len(out) == 0 {
			return fmt.Sprintf("a filter on %q with no values; left out", col)
		}
		w.set("value", flow{out})
	default:
		if l, ok := value.([]any); ok && len(l) == 1 {
			value = l[0]
		}
		cv, ok := convertValue(dm.typ, value)
		if !ok {
			return fmt.Sprintf("filter value %v does not fit %s column %q; the filter is left out", value, dm.typ, col)
		}
		w.set("value", cv)
	}
	c.where = append(c.where, w)
	return ""
}

// convertValue turns a value from the export into one that fits a
// dimension of type typ.
func convertValue(typ string, v any) (any, bool) {
	switch typ {
	case "number":
		f, ok := toNumber(v)
		if !ok {
			return nil, false
		}
		if f == float64(int(f)) && f < 1e15 && f > -1e15 {
			return int(f), true
		}
		return f, true
	case "boolean":
		switch v := v.(type) {
		case bool:
			return v, true
		case string:
			b, err := strconv.ParseBool(v)
			return b, err == nil
		}
		return nil, false
	case "time":
		s, ok := v.(string)
		if !ok || len(s) < 10 {
			return nil, false
		}
		if _, err := time.Parse("2006-01-02", s[:10]); err != nil {
			return nil, false
		}
		return s, true
	}
	switch v := v.(type) {
	case string:
		return v, true
	case nil:
		return nil, false
	case int64:
		return strconv.FormatInt(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return nil, false
}

// relativeRanges maps Superset's named time ranges to bic's. "Last week"
// is the 7 days before today in both; "Last month" (today minus a month)
// has no exact bic form and is read as the 30 days before today.
var relativeRanges = map[string]struct {
	bic    string
	approx bool
}{
	"last day":                  {"yesterday", false},
	"yesterday":                 {"yesterday", false},
	"today":                     {"today", false},
	"last week":                 {"last_7_days", false},
	"last month":                {"last_30_days", true},
	"last quarter":              {"last_90_days", true},
	"last year":                 {"last_365_days", true},
	"previous calendar week":    {"previous_week", false},
	"previous calendar month":   {"previous_month", false},
	"previous calendar quarter": {"previous_quarter", false},
	"previous calendar year":    {"previous_year", false},
	"current day":               {"today", false},
	"current week":              {"this_week", false},
	"current month":             {"this_month", false},
	"current quarter":           {"this_quarter", false},
	"current year":              {"this_year", false},
}

// dateAddRe reads the advanced range Superset writes for "the last N
// units": DATEADD(DATETIME("today"), -N, unit) : today.
var dateAddRe = regexp.MustCompile(`(?i)^DATEADD\(DATETIME\("(?:today|now)"\),\s*-(\d+),\s*(day|week|month|quarter|year)s?\)\s*:\s*(?:today|now)$`)

// timeRange translates a Superset time range into bic's; msg is set when
// it cannot be, or only approximately.
func timeRange(s string) (bic, msg string) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "No filter") {
		return "", ""
	}
	if r, ok := relativeRanges[strings.ToLower(s)]; ok {
		if r.approx {
			return r.bic, fmt.Sprintf("time range %q has no exact bic form; it is read as %s", s, r.bic)
		}
		return r.bic, ""
	}
	if m := dateAddRe.FindStringSubmatch(s); m != nil {
		return "last_" + m[1] + "_" + strings.ToLower(m[2]) + "s", ""
	}
	from, to, ok := strings.Cut(s, " :")
	if !ok {
		return "", fmt.Sprintf("time range %q has no bic equivalent; left out", s)
	}
	start, okFrom := parseBound(from, false)
	end, okTo := parseBound(to, true)
	switch {
	case okFrom && okTo && start != "" && end != "" && end >= start:
		return start + ".." + end, ""
	case okFrom && start != "" && (strings.TrimSpace(to) == "" || strings.EqualFold(strings.TrimSpace(to), "now")):
		return start + "..", ""
	}
	return "", fmt.Sprintf("time range %q has no bic equivalent; left out", s)
}

// parseBound reads one end of an absolute range. Superset's end is
// exclusive and bic's span includes its last day, so an end at midnight is
// the day before.
func parseBound(s string, end bool) (string, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00", "2006-01-02"} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if end && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
			t = t.AddDate(0, 0, -1)
		}
		return t.Format("2006-01-02"), true
	}
	return "", false
}
