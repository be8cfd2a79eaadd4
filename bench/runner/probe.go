package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
	"github.com/bic-dev/bic/publish/metadata"
)

// probe is JobByID's time on a revision of probeN charts that is applied
// but not run: what each job's first read costs at the size the goals are
// set for, when the job paths ran fewer jobs.
type probe struct {
	n              int
	sqlite, postgr time.Duration // 0: not measured
}

// probeLarge applies a project of n charts to SQLite and, unless
// skipReal, to a PostgreSQL schema of its own, and times JobByID there.
func probeLarge(ctx context.Context, c config, n int) (*probe, error) {
	dir, err := os.MkdirTemp("", "bic-bench-probe-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p, err := writeProject(dir, n)
	if err != nil {
		return nil, err
	}
	out := &probe{n: n}
	time1 := func(st *metadata.Store) (time.Duration, error) {
		if _, _, err := applyProject(ctx, st, p); err != nil {
			return 0, err
		}
		return probeJobByID(ctx, st)
	}
	st, err := metadata.Open(ctx, "sqlite://bic.db", dir)
	if err != nil {
		return nil, err
	}
	out.sqlite, err = time1(st)
	st.Close()
	if err != nil {
		return nil, err
	}
	if c.skipReal {
		return out, nil
	}
	st, _, drop, err := benchkit.ScratchSchema(ctx, c.postgres, fmt.Sprintf("bic_bench_probe_%d", time.Now().UnixNano()))
	if err != nil {
		return nil, err
	}
	defer drop()
	if out.postgr, err = time1(st); err != nil {
		return nil, err
	}
	return out, nil
}
