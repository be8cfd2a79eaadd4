package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkResult is one wrk run's figures.
type wrkResult struct {
	rps      float64
	p50, p99 time.Duration
	requests int64
	errors   string // non-2xx responses and socket errors, if any
}

// wrkVersion checks that wrk is installed and names its version.
func wrkVersion(ctx context.Context) (string, error) {
	if _, err := exec.LookPath("wrk"); err != nil {
		return "", fmt.Errorf("wrk is not installed (apt-get install -y wrk): %w", err)
	}
	out, _ := exec.CommandContext(ctx, "wrk", "-v").CombinedOutput() // exits 1 after printing it
	first, _, _ := strings.Cut(string(out), "\n")
	if f := strings.Fields(first); len(f) >= 2 {
		return f[0] + " " + f[1], nil
	}
	return "wrk", nil
}

// wrkArgs are the settings of every run, for the table.
func wrkArgs(c config, d time.Duration) []string {
	return []string{fmt.Sprintf("-t%d", c.threads), fmt.Sprintf("-c%d", c.connections), "-d" + wrkDuration(d), "--latency"}
}

func wrkDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", int(d/time.Second))
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// runWrk loads url for d with c's settings and the given extra headers.
func runWrk(ctx context.Context, c config, d time.Duration, url string, headers ...string) (*wrkResult, error) {
	args := wrkArgs(c, d)
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	args = append(args, url)
	out, err := exec.CommandContext(ctx, "wrk", args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wrk %s: %w\n%s", strings.Join(args, " "), err, tail(out))
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return nil, fmt.Errorf("wrk %s: %w\n%s", strings.Join(args, " "), err, tail(out))
	}
	return r, nil
}

var (
	rpsRe      = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	pctRe      = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s|m)\s*$`)
	requestsRe = regexp.MustCompile(`(\d+) requests in`)
	non2xxRe   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	socketRe   = regexp.MustCompile(`Socket errors: ([^\n]+)`)
)

// parseWrk reads wrk's report (with --latency).
func parseWrk(out string) (*wrkResult, error) {
	r := &wrkResult{}
	m := rpsRe.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("no Requests/sec in wrk's output")
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, p := range pctRe.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(p[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}[p[3]]
		d := time.Duration(v * float64(unit))
		if p[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if r.p99 == 0 {
		return nil, fmt.Errorf("no 99%% latency in wrk's output (run with --latency)")
	}
	if m := requestsRe.FindStringSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	var errs []string
	if m := non2xxRe.FindStringSubmatch(out); m != nil {
		errs = append(errs, m[1]+" non-2xx responses")
	}
	if m := socketRe.FindStringSubmatch(out); m != nil {
		errs = append(errs, "socket errors: "+strings.TrimSpace(m[1]))
	}
	r.errors = strings.Join(errs, "; ")
	return r, nil
}
