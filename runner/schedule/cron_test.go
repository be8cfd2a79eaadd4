package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// ticks lists the ticks of spec in tz from from (exclusive) to to, as
// local times with their zone abbreviation.
func ticks(t *testing.T, spec, tz string, from, to time.Time) []string {
	t.Helper()
	s, err := Parse(spec, tz)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	prev := time.Time{}
	for n := s.Next(from); !n.IsZero() && n.Before(to); n = s.Next(n) {
		out = append(out, n.Format("01-02 15:04 MST"))
		// Latest agrees with Next: each tick is its own latest, and the
		// instant before it has the previous tick as latest.
		if l := s.Latest(n); !l.Equal(n) {
			t.Errorf("Latest(%v) = %v", n, l)
		}
		if !prev.IsZero() {
			if l := s.Latest(n.Add(-time.Second)); !l.Equal(prev) {
				t.Errorf("Latest(%v - 1s) = %v, want %v", n, l, prev)
			}
		}
		prev = n
	}
	return out
}

func TestDaylightSavingTime(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	spring := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, berlin) }
	autumn := func(d, h int) time.Time { return time.Date(2026, 10, d, h, 0, 0, 0, berlin) }
	for _, c := range []struct {
		name, spec string
		from, to   time.Time
		want       string
	}{
		// 29 March 2026: 02:00 CET jumps to 03:00 CEST. The 02:30 tick runs
		// at the end of the gap.
		{"daily in the skipped hour", "30 2 * * *", spring(27, 0), spring(31, 12),
			"03-27 02:30 CET,03-28 02:30 CET,03-29 03:00 CEST,03-30 02:30 CEST,03-31 02:30 CEST"},
		{"several ticks in the skipped hour are one", "*/20 2 * * *", spring(28, 12), spring(30, 12),
			"03-29 03:00 CEST,03-30 02:00 CEST,03-30 02:20 CEST,03-30 02:40 CEST"},
		{"daily after the gap is untouched", "0 3 * * *", spring(28, 12), spring(30, 12), "03-29 03:00 CEST,03-30 03:00 CEST"},
		{"daily in the morning keeps its local time", "0 8 * * *", spring(28, 0), spring(30, 0), "03-28 08:00 CET,03-29 08:00 CEST"},
		{"wildcard hour runs by elapsed time", "*/30 * * * *", spring(29, 1), spring(29, 4),
			"03-29 01:30 CET,03-29 03:00 CEST,03-29 03:30 CEST"},
		// 25 October 2026: 03:00 CEST falls back to 02:00 CET. The 02:30
		// tick runs once, at its first occurrence.
		{"daily in the repeated hour runs once", "30 2 * * *", autumn(23, 12), autumn(27, 12),
			"10-24 02:30 CEST,10-25 02:30 CEST,10-26 02:30 CET,10-27 02:30 CET"},
		{"wildcard hour runs in both copies of the hour", "*/30 * * * *", autumn(25, 1), autumn(25, 3),
			"10-25 01:30 CEST,10-25 02:00 CEST,10-25 02:30 CEST,10-25 02:00 CET,10-25 02:30 CET"},
		{"hourly descriptor by elapsed time", "@hourly", autumn(25, 1), autumn(25, 3), "10-25 02:00 CEST,10-25 02:00 CET"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := strings.Join(ticks(t, c.spec, "Europe/Berlin", c.from, c.to), ","); got != c.want {
				t.Errorf("ticks =\n %s\nwant\n %s", got, c.want)
			}
		})
	}
}

// What robfig/cron does alone, which Schedule corrects (see its doc): it
// skips the 02:30 of the spring-forward day and runs the 02:30 of the
// fall-back day twice.
func TestRobfigCronAloneAtDST(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	s, err := cron.ParseStandard("30 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	next := s.Next(time.Date(2026, 3, 28, 12, 0, 0, 0, berlin))
	if got := next.Format("01-02 15:04 MST"); got != "03-30 02:30 CEST" {
		t.Errorf("robfig after 28 March = %s; this test documents that it skips 29 March", got)
	}
	first := s.Next(time.Date(2026, 10, 25, 0, 0, 0, 0, berlin))
	second := s.Next(first)
	if got := first.Format("15:04 MST") + "," + second.Format("01-02 15:04 MST"); got != "02:30 CEST,10-25 02:30 CET" {
		t.Errorf("robfig on 25 October = %s; this test documents that it runs twice", got)
	}
}

func TestEvery(t *testing.T) {
	s, err := Parse("@every 5m", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 10, 7, 30, 0, time.UTC)
	if n := s.Next(at); !n.Equal(time.Date(2026, 3, 1, 10, 10, 0, 0, time.UTC)) {
		t.Errorf("Next = %v", n)
	}
	if l := s.Latest(at); !l.Equal(time.Date(2026, 3, 1, 10, 5, 0, 0, time.UTC)) {
		t.Errorf("Latest = %v", l)
	}
	if l := s.Latest(time.Date(2026, 3, 1, 10, 5, 0, 0, time.UTC)); !l.Equal(time.Date(2026, 3, 1, 10, 5, 0, 0, time.UTC)) {
		t.Errorf("Latest on a tick = %v", l)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ spec, tz, want string }{
		{"61 * * * *", "UTC", "61"},
		{"0 8 * * *", "Mars/Olympus", "Mars/Olympus"},
		{"CRON_TZ=UTC 0 8 * * *", "UTC", "time zone belongs"},
		{"0 0 8 * * *", "UTC", "expected exactly 5 fields"},
	} {
		if _, err := Parse(c.spec, c.tz); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q, %q) = %v; want an error about %q", c.spec, c.tz, err, c.want)
		}
	}
	if s, err := Parse("0 8 * * *", ""); err != nil || s.Location() != time.UTC {
		t.Errorf("Parse without a zone = %v, %v; want UTC", s.Location(), err)
	}
}

func TestLatestRareSchedules(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for spec, want := range map[string]string{
		"0 0 1 1 *":  "2026-01-01 00:00",
		"0 9 * * 1":  "2026-02-23 09:00",
		"0 0 29 2 *": "2024-02-29 00:00",
		"@monthly":   "2026-03-01 00:00",
	} {
		s, err := Parse(spec, "UTC")
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Latest(at).Format("2006-01-02 15:04"); got != want {
			t.Errorf("Latest of %q = %s, want %s", spec, got, want)
		}
	}
	s, _ := Parse("0 0 30 2 *", "UTC")
	if l := s.Latest(at); !l.IsZero() {
		t.Errorf("Latest of 30 February = %v, want none", l)
	}
}

func TestDue(t *testing.T) {
	every5, _ := Parse("*/5 * * * *", "UTC")
	at := func(hm string) time.Time {
		tm, err := time.Parse("15:04:05", hm)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(2026, 3, 1, tm.Hour(), tm.Minute(), tm.Second(), 0, time.UTC)
	}
	for _, c := range []struct {
		name, last, now, catchup string
		want                     string // "" for nothing due
	}{
		{"on time", "10:00:00", "10:05:10", "latest", "10:05:00"},
		{"on time, skip", "10:00:00", "10:05:10", "skip", "10:05:00"},
		{"already run", "10:05:00", "10:07:00", "latest", ""},
		{"downtime, latest runs the latest missed tick", "10:00:00", "10:22:00", "latest", "10:20:00"},
		{"downtime, default policy is latest", "10:00:00", "10:22:00", "", "10:20:00"},
		{"downtime, skip runs nothing", "10:00:00", "10:22:00", "skip", ""},
		{"skip runs a tick within the lateness bound", "10:00:00", "10:21:00", "skip", "10:20:00"},
		{"first run on time", "", "10:05:30", "latest", "10:05:00"},
		{"first run long after the tick", "", "10:08:00", "latest", ""},
		{"first run exactly at the lateness bound", "", "10:06:00", "latest", "10:05:00"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var last time.Time
			if c.last != "" {
				last = at(c.last)
			}
			tick, ok := Due(every5, last, at(c.now), c.catchup)
			got := ""
			if ok {
				got = tick.Format("15:04:05")
			}
			if got != c.want {
				t.Errorf("Due = %q, want %q", got, c.want)
			}
		})
	}
}
