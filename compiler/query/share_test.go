package query

import (
	"fmt"
	"sync"
	"testing"
)

// TestPlansShareNothingOfTheManifest: plans made at once from one manifest
// (a runner computes several filter states of a chart in parallel) leave
// it as it was: a where condition's list of values is copied before its
// values are coerced, not coerced in the manifest's own list, which the
// race detector saw written by one plan while another read it.
func TestPlansShareNothingOfTheManifest(t *testing.T) {
	m := shopManifest(t)
	var where fmt.Stringer
	for _, a := range m.Alerts {
		if a.Spec.Name == "revenue_drop" && len(a.Spec.Where) > 0 {
			where = stringer{a.Spec.Where[0].Value}
		}
	}
	if where == nil {
		t.Fatal("examples/shop's alert revenue_drop has no where condition")
	}
	before := where.String()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q, err := PlanAlert(m, "revenue_drop", goldenNow)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := q.SQL(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if after := where.String(); after != before {
		t.Errorf("planning changed the manifest's where values: %s → %s", before, after)
	}
}

type stringer struct{ v any }

func (s stringer) String() string { return fmt.Sprintf("%#v", s.v) }
