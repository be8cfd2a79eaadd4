package main

import (
	"context"
	"strings"
	"testing"
)

// TestRunEmbedded runs the command's core on the embedded path with 50
// jobs, so that it cannot rot. It checks counts, never times.
func TestRunEmbedded(t *testing.T) {
	const n = 50
	rep, err := run(context.Background(), config{n: n, skipReal: true, skipShop: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.baseEmbedded == nil || rep.baseEmbedded.n != n {
		t.Fatalf("baseline: %+v, want %d messages", rep.baseEmbedded, n)
	}
	j := rep.jobsEmbedded
	if j == nil {
		t.Fatal("no jobs result")
	}
	// 50 charts on one dashboard: 50 chart_data jobs, a thumbnail, a publish.
	if j.byKind["chart_data"] != n || j.byKind["thumbnail"] != 1 || j.byKind["publish"] != 1 || j.jobs != n+2 {
		t.Errorf("jobs = %d %v, want %d chart_data, 1 thumbnail, 1 publish", j.jobs, j.byKind, n)
	}
	if j.queries != n || j.hits != 0 {
		t.Errorf("%d warehouse queries and %d cache hits, want %d and 0: every chart has its own input key", j.queries, j.hits, n)
	}
	if rep.baseReal != nil || rep.jobsReal != nil || rep.shop != nil {
		t.Error("measured a skipped path")
	}
	var b strings.Builder
	rep.print(&b, config{n: n})
	if !strings.Contains(b.String(), "| **jobs/s** (jobs ÷ wall) |") {
		t.Errorf("the table lacks its jobs/s row:\n%s", b.String())
	}
}
