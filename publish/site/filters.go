package site

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"

	"github.com/bic-dev/bic/compiler"
)

// namedRanges are the time ranges a date_range control offers
// (docs/language.md, 4.5); a filter whose value is another range gets it
// added.
var namedRanges = []string{
	"all", "today", "yesterday", "this_week", "this_month", "this_quarter", "this_year", "year_to_date",
	"previous_week", "previous_month", "previous_quarter", "previous_year",
	"last_7_days", "last_30_days", "last_90_days", "last_12_months",
}

// searchableAt is the number of choices above which a select gets a
// search field.
const searchableAt = 12

type filterView struct {
	Name, Label, Type string
	Required          bool
	// select and multi_select
	Choices []choiceView
	Size    int // rows a multi_select list shows
	// Searchable is set when there are so many choices that the control
	// gets a search field.
	Searchable bool
	Text       string // the value of a select without choices, as text
	// date_range: the named range chosen ("" for from/to), and the dates
	Range, From, To string
	Ranges          []choiceView
	// number_range
	Min, Max string
}

type choiceView struct {
	Value, Label string
	Selected     bool
}

// filterConfig is what bic.js needs of a filter to write the state into
// the URL.
type filterConfig struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// pageConfig is the page's own settings for bic.js.
type pageConfig struct {
	Dashboard string         `json:"dashboard"`
	Timezone  string         `json:"timezone"` // the project's, for times bic.js writes
	Filters   []filterConfig `json:"filters"`
	Pages     []pageRef      `json:"pages,omitempty"`
	StatePage bool           `json:"state_page,omitempty"`
}

// pageRef is a precomputed state's page: the text of every filter's
// controls in the order of Filters, as bic.js reads them, and its file.
type pageRef struct {
	Values []string `json:"values"`
	File   string   `json:"file"`
}

// filtersOf builds the filter controls, showing the viewer's state (or
// the defaults), and the page's configuration for bic.js.
func filtersOf(m *compiler.Manifest, dashboard string, d compiler.Dashboard, o Options) ([]filterView, template.JS, error) {
	tz := m.Project.Defaults.Timezone
	if tz == "" {
		tz = "UTC"
	}
	cfg := pageConfig{Dashboard: dashboard, Timezone: tz, Filters: []filterConfig{}, StatePage: o.StatePage}
	for _, f := range d.Filters {
		cfg.Filters = append(cfg.Filters, filterConfig{Name: f.Name, Type: f.Type})
	}
	views, err := filterViews(d, o, o.State)
	if err != nil {
		return nil, "", err
	}
	for _, p := range o.Pages {
		pv, err := filterViews(d, o, p.Chosen)
		if err != nil {
			return nil, "", err
		}
		ref := pageRef{Values: make([]string, len(pv)), File: p.File}
		for i, fv := range pv {
			ref.Values[i] = fv.controlText()
		}
		cfg.Pages = append(cfg.Pages, ref)
	}
	js, err := scriptJSON(cfg)
	return views, js, err
}

// controlText is what bic.js's readState reads from the filter's
// controls as filterViews fills them: both must change together.
func (fv filterView) controlText() string {
	switch fv.Type {
	case "select", "multi_select":
		if len(fv.Choices) == 0 {
			var parts []string
			for p := range strings.SplitSeq(fv.Text, ",") {
				if p = strings.TrimSpace(p); p != "" {
					parts = append(parts, p)
				}
			}
			return strings.Join(parts, ",")
		}
		var sel []string
		for _, c := range fv.Choices {
			if c.Selected {
				sel = append(sel, c.Value)
				if fv.Type == "select" {
					break
				}
			}
		}
		return strings.Join(sel, ",")
	case "date_range":
		if fv.Range != "" {
			return fv.Range
		}
		if fv.From != "" || fv.To != "" {
			return cmp.Or(fv.From, "0001-01-01") + ".." + fv.To
		}
	case "number_range":
		if fv.Min != "" || fv.Max != "" {
			return fv.Min + ".." + fv.Max
		}
	}
	return ""
}

// filterViews builds the controls of d's filters showing state (nil: the
// defaults).
func filterViews(d compiler.Dashboard, o Options, state map[string]any) ([]filterView, error) {
	var views []filterView
	for _, f := range d.Filters {
		cur := f.Default
		if state != nil {
			if v, ok := state[f.Name]; ok {
				cur = v
			}
		}
		label := f.Label
		if label == "" {
			label = f.Name
		}
		fv := filterView{Name: f.Name, Label: label, Type: f.Type, Required: f.Required}
		switch f.Type {
		case "select", "multi_select":
			choices := f.Values
			if len(choices) == 0 {
				choices = o.FilterValues[f.Name]
			}
			chosen := asList(cur)
			if len(choices) == 0 {
				// No choices known: a text field (comma-separated for a multi_select).
				texts := make([]string, len(chosen))
				for i, v := range chosen {
					texts[i] = valueText(v)
				}
				fv.Text = strings.Join(texts, ",")
				break
			}
			selected := map[string]bool{}
			for _, v := range chosen {
				selected[valueText(v)] = true
			}
			seen := map[string]bool{}
			for _, v := range choices {
				t := valueText(v)
				seen[t] = true
				fv.Choices = append(fv.Choices, choiceView{Value: t, Label: t, Selected: selected[t]})
			}
			// A chosen value that is not among the choices is still shown.
			for _, v := range chosen {
				if t := valueText(v); !seen[t] {
					seen[t] = true
					fv.Choices = append(fv.Choices, choiceView{Value: t, Label: t, Selected: true})
				}
			}
			fv.Size = min(len(fv.Choices), 6)
			fv.Searchable = len(fv.Choices) > searchableAt
		case "date_range":
			fv.Range, fv.From, fv.To = dateRangeOf(cur)
			ranges := namedRanges
			if fv.Range != "" && !slices.Contains(ranges, fv.Range) {
				ranges = append(slices.Clone(ranges), fv.Range)
			}
			for _, r := range ranges {
				fv.Ranges = append(fv.Ranges, choiceView{Value: r, Label: strings.ReplaceAll(r, "_", " "), Selected: r == fv.Range})
			}
			fv.Ranges = append(fv.Ranges, choiceView{Value: "", Label: "from … to …", Selected: fv.Range == ""})
		case "number_range":
			if r, ok := cur.(map[string]any); ok {
				if v, ok := r["min"]; ok && v != nil {
					fv.Min = valueText(v)
				}
				if v, ok := r["max"]; ok && v != nil {
					fv.Max = valueText(v)
				}
			}
		default:
			return nil, fmt.Errorf("filter %s: unknown filter type %q", f.Name, f.Type)
		}
		views = append(views, fv)
	}
	return views, nil
}

// dateRangeOf splits a date_range value into a named range, or the dates
// of a span ("" for the range).
func dateRangeOf(v any) (named, from, to string) {
	switch x := v.(type) {
	case nil:
		return "all", "", ""
	case string:
		if lo, hi, ok := strings.Cut(x, ".."); ok {
			return "", dateOnly(lo), dateOnly(hi)
		}
		return x, "", ""
	case map[string]any:
		if s, ok := x["from"].(string); ok {
			from = dateOnly(s)
		}
		if s, ok := x["to"].(string); ok {
			to = dateOnly(s)
		}
		return "", from, to
	}
	return "all", "", ""
}

func dateOnly(s string) string {
	if len(s) >= 10 {
		return s[:10]
	}
	return s
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return []any{v}
}

// valueText writes a filter value as the controls and the URL hold it.
func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}
