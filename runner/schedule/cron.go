package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/bic-dev/bic/compiler"
)

// parser reads what the compiler's checkCron accepts: five fields, or a
// descriptor (@hourly, @daily, @weekly, @monthly, @yearly, @every 5m).
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// starBit marks a robfig/cron field written as "*".
const starBit = 1 << 63

// allHours has the bit of every hour of the day.
const allHours = 1<<24 - 1

// Schedule is a cron expression in a time zone. Its ticks are wall-clock
// times of the zone, with daylight-saving time handled like Vixie cron
// does (robfig/cron alone does neither, see below):
//
//   - A schedule with a fixed hour (the hour field is not *, e.g. "30 2 * *
//     *") whose tick falls in the hour that spring-forward skips runs once
//     at the first instant after the gap: 02:30 on the last Sunday of March
//     in Europe/Berlin runs at 03:00 CEST (robfig/cron alone would skip that
//     day). Several ticks in the gap ("*/15 2 * * *") are that one tick.
//   - Its tick in the hour that fall-back repeats runs once, at the first
//     occurrence: 02:30 on the last Sunday of October in Europe/Berlin runs
//     at 02:30 CEST, not again at 02:30 CET (robfig/cron alone runs it
//     twice).
//   - A schedule whose hour is * ("*/15 * * * *", @hourly) runs by elapsed
//     time: nothing in the skipped hour, every tick of the repeated hour
//     (both 02:15 CEST and 02:15 CET).
//
// "@every D" ticks at the multiples of D since the Unix epoch, so that
// every runner computes the same ticks.
type Schedule struct {
	spec  *cron.SpecSchedule // nil for @every
	every time.Duration
	loc   *time.Location
	// fixedHour: the hour field names hours, so DST gaps and repeats are
	// handled as described above.
	fixedHour bool
}

// Parse reads a five-field cron expression or a descriptor, in the IANA
// time zone tz ("" is UTC). The zone belongs in tz, not in the
// expression (CRON_TZ= is refused, as the compiler does).
func Parse(spec, tz string) (Schedule, error) {
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return Schedule{}, fmt.Errorf("schedule: %q: the time zone belongs in the object's timezone, not in the expression", spec)
	}
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return Schedule{}, fmt.Errorf("schedule: time zone %q: %w", tz, err)
	}
	parsed, err := parser.Parse(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf("schedule: %q: %w", spec, err)
	}
	s := Schedule{loc: loc}
	switch p := parsed.(type) {
	case *cron.SpecSchedule:
		s.spec = p
		s.fixedHour = p.Hour&starBit == 0 && p.Hour&allHours != allHours
	case cron.ConstantDelaySchedule:
		s.every = p.Delay
	default:
		return Schedule{}, fmt.Errorf("schedule: %q: unsupported schedule %T", spec, parsed)
	}
	return s, nil
}

// Location is the schedule's time zone.
func (s Schedule) Location() *time.Location { return s.loc }

// Next is the first tick after after, in the schedule's zone; zero when
// there is none within five years (such as 30 February).
func (s Schedule) Next(after time.Time) time.Time {
	if s.every > 0 {
		d := int64(s.every / time.Second)
		u := after.Unix()
		k := u/d + 1
		if u < 0 && u%d != 0 {
			k--
		}
		return time.Unix(k*d, 0).In(s.loc)
	}
	t := after.In(s.loc)
	for range 10 {
		n := s.spec.Next(t)
		if n.IsZero() || !s.fixedHour {
			return n
		}
		if g, ok := s.gapTick(t, n); ok {
			return g
		}
		if !s.repeated(n) {
			return n
		}
		t = n
	}
	return time.Time{}
}

// gapTick finds a spring-forward gap strictly between t and n in which
// the schedule has a wall-clock tick; the tick is then the gap's end.
func (s Schedule) gapTick(t, n time.Time) (time.Time, bool) {
	for x := t; ; {
		_, end := x.ZoneBounds()
		if end.IsZero() || !end.Before(n) {
			return time.Time{}, false
		}
		_, before := end.Add(-time.Nanosecond).Zone()
		_, after := end.Zone()
		if after > before {
			from := wall(end.Add(-time.Nanosecond)).Add(time.Nanosecond)
			to := wall(end)
			if m := s.spec.Next(from.Add(-time.Second)); !m.IsZero() && m.Before(to) {
				return end, true
			}
		}
		x = end
	}
}

// repeated reports whether n's wall-clock time happened before, in the
// hour that fall-back repeats.
func (s Schedule) repeated(n time.Time) bool {
	start, _ := n.ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, prev := start.Add(-time.Nanosecond).Zone()
	_, cur := n.Zone()
	d := time.Duration(prev-cur) * time.Second
	return d > 0 && n.Before(start.Add(d))
}

// wall is t's wall-clock time in its zone, as the same fields in UTC.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// lookBack are the windows Latest searches before t, narrowest first: a
// frequent schedule is found in a small one, a rare one needs a wide one.
var lookBack = []time.Duration{2 * time.Minute, time.Hour, 25 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 367 * 24 * time.Hour}

// Latest is the last tick at or before t; zero when there is none in the
// five years before t.
func (s Schedule) Latest(t time.Time) time.Time {
	if s.every > 0 {
		return s.Next(t.Add(-s.every))
	}
	for _, w := range lookBack {
		var last time.Time
		for n := s.Next(t.Add(-w)); !n.IsZero() && !n.After(t); n = s.Next(n) {
			last = n
		}
		if !last.IsZero() {
			return last
		}
	}
	return time.Time{}
}

// Lateness is how late a tick may be seen and still run when it is not
// caught up: a first run, or any run under catchup skip. It is four times
// the scheduler's default interval.
const Lateness = time.Minute

// Due is the one tick to run at now, given the latest tick run before
// (lastRun, zero when none ever ran):
//
//   - catchup latest ("" too): the latest tick in (lastRun, now], however
//     many were missed: after a downtime the latest missed tick runs once.
//   - catchup skip: that tick only when it is at most Lateness before now;
//     after a downtime nothing runs until the next tick.
//   - never run (lastRun zero): the latest tick at or before now, only
//     when it is at most Lateness old, whatever the policy: a fresh deploy
//     at 15:00 does not send the 08:00 report.
func Due(s Schedule, lastRun, now time.Time, catchup string) (tick time.Time, ok bool) {
	latest := s.Latest(now)
	if latest.IsZero() || (!lastRun.IsZero() && !latest.After(lastRun)) {
		return time.Time{}, false
	}
	if (lastRun.IsZero() || catchup == compiler.CatchupSkip) && now.Sub(latest) > Lateness {
		return time.Time{}, false
	}
	return latest, true
}
