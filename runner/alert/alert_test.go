package alert

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"
)

func f(v float64) *float64 { return &v }

func TestObserve(t *testing.T) {
	gt100 := compiler.AlertCondition{Op: ">", Value: f(100)}
	drop20 := compiler.AlertCondition{Change: "drop", Percent: 20}
	rise20 := compiler.AlertCondition{Change: "rise", Percent: 20}
	any20 := compiler.AlertCondition{Change: "any", Percent: 20}
	noData := compiler.AlertCondition{NoData: true}
	for _, c := range []struct {
		name              string
		cond              compiler.AlertCondition
		current, previous *float64
		breached, nodata  bool
	}{
		{"above threshold", gt100, f(101), nil, true, false},
		{"at threshold is not above", gt100, f(100), nil, false, false},
		{">= at threshold", compiler.AlertCondition{Op: ">=", Value: f(100)}, f(100), nil, true, false},
		{"< below", compiler.AlertCondition{Op: "<", Value: f(5)}, f(4), nil, true, false},
		{"<= above", compiler.AlertCondition{Op: "<=", Value: f(5)}, f(6), nil, false, false},
		{"== equal", compiler.AlertCondition{Op: "==", Value: f(0)}, f(0), nil, true, false},
		{"!= equal", compiler.AlertCondition{Op: "!=", Value: f(0)}, f(0), nil, false, false},
		{"threshold without data", gt100, nil, f(1), false, true},
		{"drop of 25%", drop20, f(75), f(100), true, false},
		{"drop of exactly 20%", drop20, f(80), f(100), true, false},
		{"drop of 10%", drop20, f(90), f(100), false, false},
		{"a rise is no drop", drop20, f(200), f(100), false, false},
		{"rise of 50%", rise20, f(150), f(100), true, false},
		{"rise from a negative value", rise20, f(-50), f(-100), true, false},
		{"any: drop", any20, f(50), f(100), true, false},
		{"any: rise", any20, f(130), f(100), true, false},
		{"any: small", any20, f(110), f(100), false, false},
		{"change without current", drop20, nil, f(100), false, true},
		{"change without previous", drop20, f(100), nil, false, true},
		{"from 0 up is a rise", rise20, f(1), f(0), true, false},
		{"from 0 up is no drop", drop20, f(1), f(0), false, false},
		{"from 0 down is a drop", drop20, f(-1), f(0), true, false},
		{"0 to 0 is no change", any20, f(0), f(0), false, false},
		{"no_data without data", noData, nil, nil, true, false},
		{"no_data with data", noData, f(0), nil, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := Observe(c.cond, c.current, c.previous)
			if o.Breached != c.breached || o.NoData != c.nodata || o.Text == "" {
				t.Errorf("Observe = %+v; want breached %v, no data %v, a text", o, c.breached, c.nodata)
			}
		})
	}
	if o := Observe(rise20, f(1), f(0)); !math.IsInf(o.Change, 1) {
		t.Errorf("change from 0 = %v, want +Inf", o.Change)
	}
}

func TestNext(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	breach, clear, missing := Observation{Breached: true}, Observation{}, Observation{NoData: true}
	for _, c := range []struct {
		name         string
		prev         State
		obs          Observation
		cooldown     time.Duration
		lastNotified time.Time
		want         State
		notice       Notice
	}{
		{"never evaluated, clear", "", clear, 0, time.Time{}, OK, None},
		{"never evaluated, breached", "", breach, 0, time.Time{}, Firing, Fire},
		{"never evaluated, no data", "", missing, 0, time.Time{}, NoData, Missing},
		{"ok stays ok", OK, clear, time.Hour, now.Add(-time.Hour), OK, None},
		{"ok starts firing", OK, breach, time.Hour, now.Add(-time.Minute), Firing, Fire},
		{"ok loses its data", OK, missing, 0, time.Time{}, NoData, Missing},
		{"firing without cooldown notifies once", Firing, breach, 0, now.Add(-48 * time.Hour), Firing, None},
		{"firing within cooldown", Firing, breach, time.Hour, now.Add(-59 * time.Minute), Firing, None},
		{"firing, cooldown just passed", Firing, breach, time.Hour, now.Add(-time.Hour), Firing, Remind},
		{"firing, cooldown long passed", Firing, breach, time.Hour, now.Add(-5 * time.Hour), Firing, Remind},
		{"firing resolves", Firing, clear, time.Hour, now.Add(-time.Minute), OK, Resolve},
		{"firing loses its data", Firing, missing, time.Hour, now.Add(-time.Minute), NoData, Missing},
		{"no data stays, within cooldown", NoData, missing, time.Hour, now.Add(-time.Minute), NoData, None},
		{"no data stays, no cooldown", NoData, missing, 0, now.Add(-48 * time.Hour), NoData, None},
		{"no data stays, cooldown passed", NoData, missing, time.Hour, now.Add(-2 * time.Hour), NoData, Remind},
		{"no data comes back clear", NoData, clear, time.Hour, now.Add(-time.Minute), OK, Resolve},
		{"no data comes back breached", NoData, breach, time.Hour, now.Add(-time.Minute), Firing, Fire},
		{"resolved then firing again within cooldown notifies", OK, breach, time.Hour, now.Add(-2 * time.Minute), Firing, Fire},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, n := Next(c.prev, c.obs, c.cooldown, now, c.lastNotified)
			if s != c.want || n != c.notice {
				t.Errorf("Next(%q) = %s, %s; want %s, %s", c.prev, s, n, c.want, c.notice)
			}
		})
	}
}

// A firing alert evaluated every minute with a 10-minute cooldown notifies
// when it starts firing, then every 10 minutes, then once when it resolves.
func TestCooldownOverManyEvaluations(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	state, last := OK, time.Time{}
	var notices []string
	for i := 0; i < 31; i++ {
		now := start.Add(time.Duration(i) * time.Minute)
		obs := Observation{Breached: i < 30}
		var n Notice
		state, n = Next(state, obs, 10*time.Minute, now, last)
		if n != None {
			last = now
			notices = append(notices, n.String()+"@"+now.Format("15:04"))
		}
	}
	want := "firing@12:00 reminder@12:10 reminder@12:20 resolved@12:30"
	if got := strings.Join(notices, " "); got != want {
		t.Errorf("notices = %s, want %s", got, want)
	}
}

func TestParseState(t *testing.T) {
	for in, want := range map[string]State{"": OK, "ok": OK, "firing": Firing, "no_data": NoData} {
		if s, err := ParseState(in); err != nil || s != want {
			t.Errorf("ParseState(%q) = %v, %v", in, s, err)
		}
	}
	if _, err := ParseState("resolved"); err == nil {
		t.Error("ParseState(resolved) accepted")
	}
}
