// Package alert is the alert state machine: what an evaluation of an
// alert's metric observes (Observe) and where that moves the alert
// (Next). It is pure: the worker reads the metric from the warehouse, the
// state from the metadata DB, and records what Next returns there
// (metadata.Store.RecordEvaluation) before it notifies.
//
// It must not import a database, NATS or a network client.
package alert

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/bic-dev/bic/compiler"
)

// State is where an alert stands between evaluations.
type State string

// The states. A firing alert that stops breaching goes back to OK with a
// Resolved notice: "resolved" is that transition, not a state of its own.
const (
	// OK: the condition does not hold (also an alert never evaluated).
	OK State = "ok"
	// Firing: the condition holds.
	Firing State = "firing"
	// NoData: the metric had no value for the period, and the condition is
	// not no_data itself (for which no data is the breach).
	NoData State = "no_data"
)

func (s State) String() string { return string(s) }

// ParseState reads a stored state; "" (never evaluated) is OK.
func ParseState(s string) (State, error) {
	switch State(s) {
	case "", OK:
		return OK, nil
	case Firing, NoData:
		return State(s), nil
	}
	return "", fmt.Errorf("alert: unknown state %q", s)
}

// Notice is what a transition notifies.
type Notice int

// The notices.
const (
	None    Notice = iota
	Fire           // the condition holds, and did not at the previous evaluation
	Remind         // it still holds and the cooldown has passed since the last notice
	Resolve        // it held (or there was no data) and holds no more
	Missing        // no data, where there was (or nothing was known)
)

func (n Notice) String() string {
	switch n {
	case None:
		return "none"
	case Fire:
		return "firing"
	case Remind:
		return "reminder"
	case Resolve:
		return "resolved"
	case Missing:
		return "no_data"
	}
	return "Notice(" + strconv.Itoa(int(n)) + ")"
}

// Observation is what one evaluation saw.
type Observation struct {
	// Breached: the condition holds (for a no_data condition: there was no data).
	Breached bool
	// NoData: no value to compare, for a condition other than no_data.
	NoData bool
	// Change is the change against the previous period in percent, for a
	// change condition with both values (±Inf from a previous value of 0).
	Change float64
	Text   string
}

// Observe checks cond against the metric's value for the period (current)
// and the period before (previous); nil means the period had no data.
//
//   - op and value: current compared with value; no current is NoData.
//   - change and percent: change = (current - previous) / |previous| × 100;
//     drop holds when change <= -percent, rise when change >= percent,
//     any when |change| >= percent. Either value missing is NoData. A
//     previous value of 0 makes the change +Inf when current > 0 (a rise,
//     and any), -Inf when current < 0 (a drop, and any), and 0 when current
//     is 0 (nothing holds).
//   - no_data: holds when current is nil.
func Observe(cond compiler.AlertCondition, current, previous *float64) Observation {
	switch {
	case cond.NoData:
		if current == nil {
			return Observation{Breached: true, Text: "no data for the period"}
		}
		return Observation{Text: "value " + num(*current)}
	case cond.Change != "":
		if current == nil || previous == nil {
			return Observation{NoData: true, Text: "no data to compare with the previous period"}
		}
		ch := change(*current, *previous)
		var hit bool
		switch cond.Change {
		case "drop":
			hit = ch <= -cond.Percent
		case "rise":
			hit = ch >= cond.Percent
		default: // any
			hit = math.Abs(ch) >= cond.Percent
		}
		return Observation{Breached: hit, Change: ch, Text: fmt.Sprintf("%s vs %s in the previous period (%s%%; threshold: %s by %s%%)",
			num(*current), num(*previous), signed(ch), cond.Change, num(cond.Percent))}
	default:
		if current == nil {
			return Observation{NoData: true, Text: "no data for the period"}
		}
		var value float64
		if cond.Value != nil {
			value = *cond.Value
		}
		return Observation{Breached: compare(*current, cond.Op, value), Text: fmt.Sprintf("value %s (condition: %s %s)", num(*current), cond.Op, num(value))}
	}
}

func change(current, previous float64) float64 {
	if previous == 0 {
		switch {
		case current > 0:
			return math.Inf(1)
		case current < 0:
			return math.Inf(-1)
		}
		return 0
	}
	return (current - previous) / math.Abs(previous) * 100
}

func compare(v float64, op string, w float64) bool {
	switch op {
	case ">":
		return v > w
	case ">=":
		return v >= w
	case "<":
		return v < w
	case "<=":
		return v <= w
	case "==":
		return v == w
	case "!=":
		return v != w
	}
	return false
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func signed(f float64) string {
	if math.IsInf(f, 0) {
		if f > 0 {
			return "+∞"
		}
		return "-∞"
	}
	s := strconv.FormatFloat(f, 'f', 1, 64)
	if f >= 0 {
		s = "+" + s
	}
	return s
}

// Next is the transition from prev on obs, and what it notifies:
//
//	prev \ obs   breached           not breached     no data
//	ok           firing, Fire       ok               no_data, Missing
//	firing       firing, Remind*    ok, Resolve      no_data, Missing
//	no_data      firing, Fire       ok, Resolve      no_data, Remind*
//
// Remind*: only when cooldown > 0 and now - lastNotified >= cooldown;
// without a cooldown a firing alert notifies once, when it starts firing.
// An alert whose condition is no_data never sees "no data" here: no data
// is its breach (Observe). An alert that resolves and breaches again
// notifies again, whatever the cooldown: it was resolved in between.
func Next(prev State, obs Observation, cooldown time.Duration, now, lastNotified time.Time) (State, Notice) {
	remind := func(s State) (State, Notice) {
		if cooldown > 0 && !now.Before(lastNotified.Add(cooldown)) {
			return s, Remind
		}
		return s, None
	}
	switch {
	case obs.NoData:
		if prev == NoData {
			return remind(NoData)
		}
		return NoData, Missing
	case obs.Breached:
		if prev == Firing {
			return remind(Firing)
		}
		return Firing, Fire
	default:
		if prev == Firing || prev == NoData {
			return OK, Resolve
		}
		return OK, None
	}
}
