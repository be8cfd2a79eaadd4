package main

import (
	"fmt"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
)

// means are the mean phases of a job kind, from bic_job_phase_seconds of
// the runners' /metrics pages. A phase that did not happen is not
// observed, so each mean is over the jobs of the kind that finished (the
// total phase's count), as the job rows' means are.
func means(s benchkit.Scrape, kind string) phases {
	jobs := s[fmt.Sprintf(`bic_job_phase_seconds_count{kind=%q,phase="total"}`, kind)]
	if jobs == 0 {
		return phases{}
	}
	mean := func(phase string) time.Duration {
		sum := s[fmt.Sprintf(`bic_job_phase_seconds_sum{kind=%q,phase=%q}`, kind, phase)]
		return time.Duration(sum / jobs * float64(time.Second))
	}
	return phases{mean("queue"), mean("warehouse"), mean("encode"), mean("upload"), mean("total")}
}
