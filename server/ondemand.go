package server

import (
	"context"

	"github.com/bic-dev/bic/compiler/query/filterstate"
	"github.com/bic-dev/bic/publish/release"
)

// OnDemand computes a chart's data for a filter state that its release
// did not precompute: the seam where the server asks the runners over
// NATS (issue 10, item 4). An implementation stores the result as blobs
// and returns their keys; it should share one computation among
// concurrent requests for the same state and honour ctx's deadline.
type OnDemand interface {
	Compute(ctx context.Context, req Request) (release.Data, error)
}

// Request names one chart and filter state to compute.
type Request struct {
	Env       string
	Release   string // the release's blob key
	Revision  int
	Dashboard string
	Chart     string // DASHBOARD/CHART
	State     filterstate.State
	StateKey  string
}
