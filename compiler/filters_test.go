package compiler

import (
	"errors"
	"testing"

	"github.com/bic-dev/bic/compiler/filterstate"
)

// Outside the CLI too, a state that names a filter the dashboard does not
// have is refused rather than ignored.
func TestPlanChartRefusesUnknownFilters(t *testing.T) {
	m := shopManifest(t)
	_, err := m.PlanChart("sales/revenue_by_month", FilterState{"colour": "red"}, goldenNow)
	if !errors.Is(err, filterstate.ErrUnknownFilter) {
		t.Errorf("err = %v, want ErrUnknownFilter", err)
	}
}

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
	st, err := m.NormalizeState("sales", FilterState{"order_value": map[string]any{"min": "10"}, "status": []any{"shipped", "pending"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(st.JSON()); got != `{"channel":null,"country":null,"order_value":{"min":10},"period":"all","status":["pending","shipped"]}` {
		t.Errorf("state %s", got)
	}
}
