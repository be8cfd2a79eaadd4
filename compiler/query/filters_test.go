package query

import (
	"errors"
	"strings"
	"testing"

	"github.com/bic-dev/bic/compiler/query/filterstate"
)

// Outside the CLI too, a state that names a filter the dashboard does not
// have is refused rather than ignored.
func TestPlanChartRefusesUnknownFilters(t *testing.T) {
	m := shopManifest(t)
	_, err := PlanChart(m, "sales/revenue_by_month", FilterState{"colour": "red"}, goldenNow)
	if !errors.Is(err, filterstate.ErrUnknownFilter) {
		t.Errorf("err = %v, want ErrUnknownFilter", err)
	}
}

// bic query --filter period=last_100000_years is refused before anything
// runs, with one message that names the bound.
func TestFilterArgBeyondWarehouseTimes(t *testing.T) {
	m := compileFixture(t, "valid/compare.txtar")
	_, err := ParseFilterArgs(m, "kpis", []string{"period=last_100000_years"})
	want := `filter period: "last_100000_years": the count of years must be from 1 to 2000 (at most 2000 years back: warehouses support times from 0001-01-01 on)`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	// A {from, to} value is checked when the chart is planned.
	_, err = PlanChart(m, "kpis/q4", FilterState{"period": map[string]any{"from": "0000-06-01"}}, goldenNow)
	if err == nil || !strings.Contains(err.Error(), "filter period: the time range starts in the year 0, before 0001-01-01") {
		t.Errorf("from 0000-06-01: err = %v", err)
	}
}
