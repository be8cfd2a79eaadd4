package filterstate

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var sales = Dashboard{Name: "sales", Filters: []Filter{
	{Name: "period", Type: DateRange, ValueType: "time", Default: "all"},
	{Name: "status", Type: MultiSelect, ValueType: "string", Values: []any{"pending", "shipped", "completed"}, Default: []any{"pending", "shipped"}},
	{Name: "country", Type: MultiSelect, ValueType: "string"},
	{Name: "channel", Type: Select, ValueType: "string", Values: []any{"web", "app"}},
	{Name: "order_value", Type: NumberRange, ValueType: "number"},
	{Name: "quantity", Type: Select, ValueType: "number"},
}}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name   string
		chosen map[string]any
		want   State
	}{
		{
			name:   "nothing chosen: every filter at its default",
			chosen: nil,
			want:   State{"period": "all", "status": []any{"pending", "shipped"}, "country": nil, "channel": nil, "order_value": nil, "quantity": nil},
		},
		{
			name:   "multi-select values sorted and without duplicates; a scalar is a list of one",
			chosen: map[string]any{"status": []any{"shipped", "pending", "shipped"}, "country": "DE"},
			want:   State{"period": "all", "status": []any{"pending", "shipped"}, "country": []any{"DE"}, "channel": nil, "order_value": nil, "quantity": nil},
		},
		{
			name:   "nil clears a default; an empty list restricts nothing",
			chosen: map[string]any{"period": nil, "status": []any{}},
			want:   State{"period": nil, "status": nil, "country": nil, "channel": nil, "order_value": nil, "quantity": nil},
		},
		{
			name:   "values typed on a command line take the dimension's type",
			chosen: map[string]any{"quantity": "42", "order_value": map[string]any{"min": "10", "max": nil}, "channel": []any{"web"}},
			want:   State{"period": "all", "status": []any{"pending", "shipped"}, "country": nil, "channel": "web", "order_value": map[string]any{"min": 10.0}, "quantity": 42.0},
		},
		{
			name:   "date ranges: a named range, or from and to",
			chosen: map[string]any{"period": map[string]any{"from": "2025-01-01", "to": "2025-01-31T00:00:00"}},
			want:   State{"period": map[string]any{"from": "2025-01-01", "to": "2025-01-31 00:00:00"}, "status": []any{"pending", "shipped"}, "country": nil, "channel": nil, "order_value": nil, "quantity": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(sales, tt.chosen)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeRefuses(t *testing.T) {
	required := Dashboard{Name: "d", Filters: []Filter{{Name: "region", Type: Select, ValueType: "string", Default: "EU", Required: true}}}
	tests := []struct {
		name   string
		d      Dashboard
		chosen map[string]any
		want   error
	}{
		{"unknown filter", sales, map[string]any{"colour": "red"}, ErrUnknownFilter},
		{"a value not among the filter's values", sales, map[string]any{"channel": "fax"}, ErrInvalidValue},
		{"a multi-select value not among the filter's values", sales, map[string]any{"status": []any{"pending", "lost"}}, ErrInvalidValue},
		{"several values for a select", sales, map[string]any{"channel": []any{"web", "app"}}, ErrInvalidValue},
		{"not a number", sales, map[string]any{"quantity": "many"}, ErrInvalidValue},
		{"an unknown time range", sales, map[string]any{"period": "last_fortnight"}, ErrInvalidValue},
		{"a date range that ends before it starts", sales, map[string]any{"period": map[string]any{"from": "2025-02-01", "to": "2025-01-01"}}, ErrInvalidValue},
		{"min above max", sales, map[string]any{"order_value": map[string]any{"min": 10.0, "max": 1.0}}, ErrInvalidValue},
		{"a number range with from", sales, map[string]any{"order_value": map[string]any{"from": 1.0}}, ErrInvalidValue},
		{"a required filter cleared", required, map[string]any{"region": nil}, ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Normalize(tt.d, tt.chosen)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestStateKey(t *testing.T) {
	key := func(chosen map[string]any) string {
		t.Helper()
		s, err := Normalize(sales, chosen)
		if err != nil {
			t.Fatal(err)
		}
		return s.Key()
	}
	defaults := key(nil)
	if got := key(map[string]any{"status": []any{"shipped", "pending"}}); got != defaults {
		t.Error("the defaults chosen in another order give another key")
	}
	if got := key(map[string]any{"status": []any{"pending", "shipped"}, "period": "all"}); got != defaults {
		t.Error("choosing the defaults gives another key than choosing nothing")
	}
	if got := key(map[string]any{"country": []any{"FR", "DE"}}); got != key(map[string]any{"country": []any{"DE", "FR", "DE"}}) {
		t.Error("a reordered multi-select gives another key")
	}
	if key(map[string]any{"status": []any{"pending"}}) == defaults {
		t.Error("another status gives the same key")
	}
	if key(map[string]any{"quantity": "42"}) != key(map[string]any{"quantity": 42.0}) {
		t.Error("42 typed and 42 as a number give different keys")
	}
	// The server reads FROM..TO from a URL as {from, to}; a default or a
	// CLI value may be written as the span: one state either way.
	for span, bounds := range map[string]map[string]any{
		"2024-01-01..2024-12-31": {"from": "2024-01-01", "to": "2024-12-31"},
		"2024-01-01..":           {"from": "2024-01-01"},
	} {
		if key(map[string]any{"period": span}) != key(map[string]any{"period": bounds}) {
			t.Errorf("the span %s and its bounds %v give different keys", span, bounds)
		}
	}
	s, _ := Normalize(sales, nil)
	if got, want := string(s.JSON()), `{"channel":null,"country":null,"order_value":null,"period":"all","quantity":null,"status":["pending","shipped"]}`; got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
}
