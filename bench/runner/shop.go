package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
)

// shopResult is examples/shop's first apply and its re-apply, on the
// embedded defaults.
type shopResult struct {
	first, again time.Duration
	jobs         string // the jobs the first apply enqueued
	againOut     string // what the re-apply printed
	noChanges    bool   // the re-apply found nothing to do (so asked no warehouse)
}

var enqueued = regexp.MustCompile(`(\d+) jobs enqueued`)

// shopApply copies examples/shop (without any .bic folder) to a temporary
// folder and times `bic apply --wait` there twice.
func shopApply(ctx context.Context, bic, src string) (*shopResult, error) {
	dir, err := os.MkdirTemp("", "bic-bench-shop-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := benchkit.CopyProject(src, dir); err != nil {
		return nil, err
	}
	apply := func() (time.Duration, string, error) {
		cmd := exec.CommandContext(ctx, bic, "apply", "-p", dir, "--auto-approve", "--wait")
		cmd.Env = benchkit.EmbeddedEnv()
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, "", fmt.Errorf("bic apply --wait on examples/shop: %w\n%s", err, out)
		}
		return time.Since(start), string(out), nil
	}
	r := &shopResult{}
	var out string
	if r.first, out, err = apply(); err != nil {
		return nil, err
	}
	if m := enqueued.FindStringSubmatch(out); m != nil {
		r.jobs = m[1]
	}
	if r.again, out, err = apply(); err != nil {
		return nil, err
	}
	r.againOut = strings.TrimSpace(out)
	r.noChanges = strings.Contains(out, "No changes")
	return r, nil
}
