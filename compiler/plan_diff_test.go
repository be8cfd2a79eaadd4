package compiler

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiffJSON(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     []FieldDiff
	}{
		{"changed scalar", `{"a":1,"b":2}`, `{"a":1,"b":3}`, []FieldDiff{{Path: "b", Old: 2.0, New: 3.0}}},
		{"added key", `{"a":1}`, `{"a":1,"b":"x"}`, []FieldDiff{{Path: "b", New: "x"}}},
		{"one chart added shows that chart only",
			`{"charts":[{"name":"a","type":"bar"},{"name":"b","type":"line"}]}`,
			`{"charts":[{"name":"a","type":"bar"},{"name":"c","type":"pie"},{"name":"b","type":"line"}]}`,
			[]FieldDiff{{Path: "charts[c]", New: map[string]any{"name": "c", "type": "pie"}}}},
		{"named elements matched by name, not position",
			`{"charts":[{"name":"a","type":"bar"},{"name":"b","type":"line"}]}`,
			`{"charts":[{"name":"b","type":"area"},{"name":"a","type":"bar"}]}`,
			[]FieldDiff{{Path: "charts[b].type", Old: "line", New: "area"}}},
		{"removed chart",
			`{"charts":[{"name":"a"},{"name":"b"}]}`, `{"charts":[{"name":"a"}]}`,
			[]FieldDiff{{Path: "charts[b]", Old: map[string]any{"name": "b"}}}},
		{"value inserted in a plain list", `{"m":["x","y"]}`, `{"m":["x","new","y"]}`, []FieldDiff{{Path: "m[1]", New: "new"}}},
		{"value removed from a plain list", `{"m":["x","y","z"]}`, `{"m":["x","z"]}`, []FieldDiff{{Path: "m[1]", Old: "y"}}},
		{"values replaced in a plain list", `{"m":["x","y","z"]}`, `{"m":["x","p","q","z"]}`,
			[]FieldDiff{{Path: "m[1:2]", Old: []any{"y"}, New: []any{"p", "q"}}}},
		{"same length changes by position", `{"m":[1,2,3]}`, `{"m":[1,5,3]}`, []FieldDiff{{Path: "m[1]", Old: 2.0, New: 5.0}}},
		{"layout row gains a cell",
			`{"layout":[[{"chart":"a","width":6},{"chart":"b","width":6}]]}`,
			`{"layout":[[{"chart":"a","width":6},{"chart":"b","width":6}],[{"chart":"c","width":12}]]}`,
			[]FieldDiff{{Path: "layout[1]", New: []any{map[string]any{"chart": "c", "width": 12.0}}}}},
		{"equal", `{"a":[1]}`, `{"a":[1]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diffJSON(json.RawMessage(tt.old), json.RawMessage(tt.new))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("diffJSON (-want +got):\n%s", diff)
			}
		})
	}
}
