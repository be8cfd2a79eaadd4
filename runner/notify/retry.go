package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Retry bounds how hard a notifier tries: at most Attempts tries, waiting
// Initial, then twice as long after each failure (with jitter, at most
// Max), all within Total. Zero fields take the defaults: 5 attempts, 1s,
// 20s, 1m, and 10s for one attempt.
type Retry struct {
	Attempts   int           // tries in all, the first included
	Initial    time.Duration // the wait after the first failure
	Max        time.Duration // the longest wait, Retry-After included
	Total      time.Duration // the whole delivery, waits included
	PerAttempt time.Duration // the timeout of one try
}

// The defaults of Retry.
const (
	DefaultAttempts   = 5
	DefaultInitial    = time.Second
	DefaultMax        = 20 * time.Second
	DefaultTotal      = time.Minute
	DefaultPerAttempt = 10 * time.Second
)

// Validate rejects negative bounds.
func (r Retry) Validate() error {
	if r.Attempts < 0 || r.Initial < 0 || r.Max < 0 || r.Total < 0 || r.PerAttempt < 0 {
		return errors.New("notify: retry bounds must not be negative")
	}
	return nil
}

func (r Retry) withDefaults() Retry {
	if r.Attempts == 0 {
		r.Attempts = DefaultAttempts
	}
	if r.Initial == 0 {
		r.Initial = DefaultInitial
	}
	if r.Max == 0 {
		r.Max = DefaultMax
	}
	if r.Total == 0 {
		r.Total = DefaultTotal
	}
	if r.PerAttempt == 0 {
		r.PerAttempt = DefaultPerAttempt
	}
	return r
}

// backoff is the wait after the n-th failed try: Initial·2^(n-1), at most
// Max, of which a random half is taken off so that runners that failed
// together do not retry together.
func (r Retry) backoff(n int) time.Duration {
	d := r.Initial
	for i := 1; i < n && d < r.Max; i++ {
		d *= 2
	}
	d = min(d, r.Max)
	if half := d / 2; half > 0 {
		d = half + rand.N(half+1)
	}
	return d
}

// result is the outcome of one try.
type result struct {
	status     int           // the HTTP status or SMTP code, 0 when there was none
	retryable  bool          // a network error, a 5xx, a 429, a temporary SMTP error
	retryAfter time.Duration // what the receiver asked for (429, 503)
	err        error         // nil when delivered; already redacted
}

// run calls try until it delivers, fails for good, or the bounds are
// reached, and returns how many tries were made and the last result.
func (r Retry) run(ctx context.Context, try func(ctx context.Context) result) (int, result) {
	r = r.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, r.Total)
	defer cancel()
	deadline, _ := ctx.Deadline()
	for n := 1; ; n++ {
		actx, acancel := context.WithTimeout(ctx, r.PerAttempt)
		res := try(actx)
		acancel()
		if res.err == nil || !res.retryable {
			return n, res
		}
		if n >= r.Attempts {
			return n, res
		}
		wait := r.backoff(n)
		if res.retryAfter > r.Max {
			res.err = fmt.Errorf("%w (the receiver asked to retry after %s, more than the limit of %s)", res.err, res.retryAfter, r.Max)
			return n, res
		}
		wait = max(wait, res.retryAfter)
		if time.Until(deadline) < wait {
			res.err = fmt.Errorf("%w (no time left for another attempt within %s)", res.err, r.Total)
			return n, res
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			res.err = fmt.Errorf("%w (%w)", res.err, context.Cause(ctx))
			return n, res
		case <-t.C:
		}
	}
}
