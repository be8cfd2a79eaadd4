package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// scrape adds up the samples of one or more runners' /metrics pages, by
// metric name and label set ("name{labels}" as the page writes them).
type scrape map[string]float64

// add reads one page of the Prometheus text format.
func (s *scrape) add(page string) {
	if *s == nil {
		*s = scrape{}
	}
	for _, line := range strings.Split(page, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		(*s)[line[:i]] += v
	}
}

// get fetches a runner's page.
func (s *scrape) get(ctx context.Context, addr string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/metrics", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("scrape %s: %w", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("scrape %s: %w", addr, err)
	}
	s.add(string(body))
	return nil
}

// value is the sum of a metric over every label set.
func (s scrape) value(name string) float64 {
	var sum float64
	for k, v := range s {
		if k == name || strings.HasPrefix(k, name+"{") {
			sum += v
		}
	}
	return sum
}

// means are the mean phases of a job kind, from bic_job_phase_seconds. A
// phase that did not happen is not observed, so each mean is over the
// jobs of the kind that finished (the total phase's count), as the job
// rows' means are.
func (s scrape) means(kind string) phases {
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
