package compiler

import (
	"testing"
)

// The compiler describes a dashboard's filters to filterstate with each
// dimension's type, so a value typed as a string binds as a number.
func TestFilterDashboard(t *testing.T) {
	m := shopManifest(t)
	d, ok := m.FilterDashboard("sales")
	if !ok {
		t.Fatal("no dashboard sales")
	}
	types := map[string]string{}
	for _, f := range d.Filters {
		types[f.Name] = f.Type + "/" + f.ValueType
	}
	if types["order_value"] != "number_range/number" || types["status"] != "multi_select/string" || types["period"] != "date_range/time" {
		t.Errorf("filters: %v", types)
	}
	st, err := m.NormalizeState("sales", map[string]any{"order_value": map[string]any{"min": "10"}, "status": []any{"shipped", "pending"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(st.JSON()); got != `{"channel":null,"country":null,"order_value":{"min":10},"period":"all","status":["pending","shipped"]}` {
		t.Errorf("state %s", got)
	}
}
