package timewindow

import (
	"fmt"
	"sync"
	"time"
	// The zone database is built in, so a window resolves the same on
	// every machine, whatever zoneinfo files it has.
	_ "time/tzdata"
)

// Window is a half-open time interval [From, To) of wall-clock times in the
// project's time zone; a zero bound is open.
type Window struct {
	From, To time.Time
}

// Resolve turns a time range (as Parse accepts) into a window relative
// to now, in loc. Relative ranges end at the start of the
// current unit, as Superset's do: last_7_days is the seven days before today.
func Resolve(s string, now time.Time, loc *time.Location) (Window, error) {
	w, err := resolve(s, now, loc)
	if err != nil {
		return Window{}, err
	}
	return w.WithinBounds()
}

// WithinBounds refuses a window that starts before the earliest time every
// warehouse holds, and opens one that ends after the latest: no time that a
// BigQuery or Snowflake timestamp can hold lies beyond 9999-12-31.
func (w Window) WithinBounds() (Window, error) {
	if !w.From.IsZero() && w.From.Year() < 1 {
		return Window{}, fmt.Errorf("the time range starts in the year %d, before %s, the earliest time warehouses support", w.From.Year(), EarliestTime)
	}
	if !w.To.IsZero() && w.To.Year() > 9999 {
		w.To = time.Time{}
	}
	return w, nil
}

func resolve(s string, now time.Time, loc *time.Location) (Window, error) {
	r, err := Parse(s)
	if err != nil {
		return Window{}, err
	}
	now = now.In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	switch r.Form {
	case "all":
		return Window{}, nil
	case "today":
		return Window{today, today.AddDate(0, 0, 1)}, nil
	case "yesterday":
		return Window{today.AddDate(0, 0, -1), today}, nil
	case "year_to_date":
		return Window{time.Date(now.Year(), 1, 1, 0, 0, 0, 0, loc), today.AddDate(0, 0, 1)}, nil
	case "last":
		end := Truncate(now, r.Unit)
		return Window{Shift(end, r.Unit, -r.N), end}, nil
	case "this", "previous":
		start := Truncate(now, r.Unit)
		if r.Form == "previous" {
			return Window{Shift(start, r.Unit, -1), start}, nil
		}
		return Window{start, Shift(start, r.Unit, 1)}, nil
	case "span":
		from, _ := time.ParseInLocation(time.DateOnly, r.From, loc)
		w := Window{From: from}
		if r.To != "" {
			to, _ := time.ParseInLocation(time.DateOnly, r.To, loc)
			w.To = to.AddDate(0, 0, 1) // the end date is included
		}
		return w, nil
	}
	return Window{}, fmt.Errorf("unknown time range %q", s)
}

// Truncate returns the start of the unit (hour … year) that t is in; weeks
// start on Monday.
func Truncate(t time.Time, unit string) time.Time {
	loc := t.Location()
	switch unit {
	case "hour":
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, loc)
	case "day":
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	case "week":
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case "month":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	case "quarter":
		return time.Date(t.Year(), t.Month()-(t.Month()-1)%3, 1, 0, 0, 0, 0, loc)
	default: // year
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, loc)
	}
}

// Shift moves t by n units.
func Shift(t time.Time, unit string, n int) time.Time {
	switch unit {
	case "hour":
		// Hours move on the wall clock: windows are wall-clock times, and
		// an absolute hour across a DST change would repeat or skip one.
		w := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC).Add(time.Duration(n) * time.Hour)
		return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), t.Location())
	case "day":
		return t.AddDate(0, 0, n)
	case "week":
		return t.AddDate(0, 0, 7*n)
	case "month":
		return t.AddDate(0, n, 0)
	case "quarter":
		return t.AddDate(0, 3*n, 0)
	default:
		return t.AddDate(n, 0, 0)
	}
}

// locations caches time zones: time.LoadLocation reads zoneinfo files on
// every call, which would dominate planning a query. A *time.Location is
// immutable, so sharing one is safe.
var locations sync.Map

// Location loads a time zone by IANA name, once per name.
func Location(name string) (*time.Location, error) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}

// WallClock formats t as the naive timestamp literal bound to queries.
func WallClock(t time.Time) string { return t.Format(time.DateTime) }
