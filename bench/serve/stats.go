package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
)

// spread is a series' nearest-rank quantiles: median, p90, and its ends.
type spread struct{ min, median, p90, max time.Duration }

// quantiles are the nearest-rank median and p90 of ds (for an even
// number, the median is the lower middle one) and its least and greatest.
func quantiles(ds []time.Duration) spread {
	if len(ds) == 0 {
		return spread{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(q float64) time.Duration {
		i := int(q*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return spread{min: s[0], median: rank(0.5), p90: rank(0.9), max: s[len(s)-1]}
}

// msSpread is a series of milliseconds of a page's clock.
type msSpread struct{ median, max float64 }

func (m msSpread) String() string { return fmt.Sprintf("%s / %s", ms(m.median), ms(m.max)) }

// series is the median and max of one figure of the loads.
func (l browserLoads) series(f func(pageLoad) float64) msSpread {
	ds := make([]time.Duration, len(l.loads))
	for i, p := range l.loads {
		ds[i] = time.Duration(f(p) * float64(time.Millisecond))
	}
	q := quantiles(ds)
	return msSpread{median: float64(q.median) / float64(time.Millisecond), max: float64(q.max) / float64(time.Millisecond)}
}

// requests says what the loads asked for and how it was answered, as a
// range where the runs differ.
func (l browserLoads) requests() string {
	span := func(f func(pageLoad) int) string {
		lo, hi := f(l.loads[0]), f(l.loads[0])
		for _, p := range l.loads {
			lo, hi = min(lo, f(p)), max(hi, f(p))
		}
		if lo == hi {
			return fmt.Sprint(lo)
		}
		return fmt.Sprintf("%d–%d", lo, hi)
	}
	parts := []string{
		span(func(p pageLoad) int { return p.requests }) + " requests",
		span(func(p pageLoad) int { return p.fromCache }) + " from the browser's cache",
		span(func(p pageLoad) int { return p.notMod }) + " answered 304",
	}
	if l.loads[0].server != nil {
		var seen []string
		for _, p := range l.loads {
			if c := codeCounts(p.server); !slices.Contains(seen, c) {
				seen = append(seen, c)
			}
		}
		parts = append(parts, "bic serve answered "+strings.Join(seen, " or "))
	}
	parts = append(parts, "charts with an error: "+span(func(p pageLoad) int { return p.errors }))
	if t := l.loads[0].navType; t != "" {
		parts = append(parts, "navigation type "+t)
	}
	return strings.Join(parts, ", ")
}

// ms prints milliseconds of a page's clock as a duration.
func ms(v float64) string { return benchkit.Dur(time.Duration(v * float64(time.Millisecond))) }

// codeCounts prints responses by status code and route, such as
// "1×304 page".
func codeCounts(codes map[string]int) string {
	if len(codes) == 0 {
		return "nothing"
	}
	keys := slices.Sorted(maps.Keys(codes))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d×%s", codes[k], k)
	}
	return strings.Join(parts, " + ")
}
