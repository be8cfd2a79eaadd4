package schedule

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/runner/alert"
	"github.com/bic-dev/bic/runner/queue"
)

// evaluate is the order of calls an alert worker makes for one message,
// each idempotent, so that a message delivered twice (or handled by two
// runners) notifies once: the evaluation of a tick is recorded once
// (RecordEvaluation returns what was recorded), and each channel is sent
// to once (BeginDelivery).
func evaluate(ctx context.Context, st *metadata.Store, clock func() time.Time, msg Message, cond compiler.AlertCondition, cooldown time.Duration,
	value func(tick time.Time) *float64, send func(key, channel, notice string)) error {
	if tk, ok, err := st.TickStatus(ctx, msg.Env, msg.Kind, msg.Name, msg.Tick); err != nil || (ok && !tk.DoneAt.IsZero()) {
		return err
	}
	for {
		prev, err := st.AlertState(ctx, msg.Env, msg.Name)
		if err != nil {
			return err
		}
		from, err := alert.ParseState(prev.State)
		if err != nil {
			return err
		}
		cur := value(msg.Tick)
		obs := alert.Observe(cond, cur, nil)
		now := clock()
		state, notice := alert.Next(from, obs, cooldown, now, prev.LastNotifiedAt)
		rec, err := st.RecordEvaluation(ctx, msg.Env, msg.Name, metadata.Evaluation{
			At: now, Tick: msg.Tick, State: string(state), Value: cur, Message: obs.Text,
			Notify: notice != alert.None, DryRun: msg.DryRun, Since: prev.Tick,
		})
		if errors.Is(err, metadata.ErrAlertStateChanged) {
			if again, err := st.AlertState(ctx, msg.Env, msg.Name); err == nil && again.Tick.After(msg.Tick) {
				break // a newer tick was recorded first: this one is stale
			}
			continue
		}
		if err != nil {
			return err
		}
		if rec.Notify && !rec.DryRun {
			key := MsgID(msg.Env, msg.Kind, msg.Name, msg.Tick)
			for _, ch := range []string{"slack:0", "email:1"} {
				done, err := st.BeginDelivery(ctx, key, ch)
				for errors.Is(err, metadata.ErrDeliveryInProgress) {
					// A real worker retries the message later.
					time.Sleep(5 * time.Millisecond)
					done, err = st.BeginDelivery(ctx, key, ch)
				}
				if err != nil {
					return err
				}
				if done {
					continue
				}
				notice := "firing"
				if rec.State == string(alert.OK) {
					notice = "resolved"
				}
				send(key, ch, notice)
				if err := st.FinishDelivery(ctx, key, ch, metadata.DeliverySent, 1, ""); err != nil {
					return err
				}
			}
		}
		break
	}
	return st.MarkTickDone(ctx, msg.Env, msg.Kind, msg.Name, msg.Tick)
}

// Three runners schedule and evaluate an alert every minute for an hour;
// its metric is low in minutes 10–19 and 40–44. Every message is handled
// twice, by two runners at once (a redelivery). Each firing and each
// resolution notifies each channel exactly once.
func TestAlertFiringNotifiesOnce(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			start := time.Date(2026, 3, 1, 10, 0, 5, 0, time.UTC)
			clk := &fakeClock{t: start}
			stores := runners(t, db, 3, clk)
			q := testQueue(t, "embedded")
			addEnvs(t, stores[0], "prod")
			cond := compiler.AlertCondition{Op: "<", Value: fp(80)}
			envs := &live{}
			envs.set(Env{Name: "prod", Revision: 1, Manifest: project(nil, []compiler.Alert{{Name: "orders", Schedule: "* * * * *", Timezone: "UTC", Condition: cond}}, nil, nil)})
			var scheds []*Scheduler
			for _, st := range stores {
				scheds = append(scheds, &Scheduler{Store: envs.store(st), Queue: q, Now: clk.Now})
			}
			value := func(tick time.Time) *float64 {
				if m := tick.Minute(); (m >= 10 && m < 20) || (m >= 40 && m < 45) {
					return fp(50)
				}
				return fp(100)
			}
			var mu sync.Mutex
			var sent []string
			handled := 0
			send := func(key, channel, notice string) {
				mu.Lock()
				defer mu.Unlock()
				sent = append(sent, fmt.Sprintf("%s %s %s", key[strings.LastIndex(key, "T")+1:len(key)-4], notice, channel))
			}
			cctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = q.Consume(cctx, 3, func(ctx context.Context, m *queue.Msg) {
					msg, err := DecodeMessage(m.Data())
					if err != nil {
						t.Error(err)
					}
					var wg sync.WaitGroup
					for i := range 2 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							if err := evaluate(ctx, stores[1+i], clk.Now, msg, cond, 0, value, send); err != nil {
								t.Errorf("evaluate %s: %v", m.ID(), err)
							}
						}()
					}
					wg.Wait()
					mu.Lock()
					handled++
					mu.Unlock()
					_ = m.Ack(ctx)
				})
			}()
			t.Cleanup(func() { cancel(); <-done })
			for minute := 1; minute <= 60; minute++ {
				for range 3 {
					tickAll(t, scheds)
					clk.Add(20 * time.Second)
				}
				// The workers keep up with the schedule, as they would in an hour.
				deadline := time.Now().Add(20 * time.Second)
				for {
					mu.Lock()
					n := handled
					mu.Unlock()
					if n >= minute {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("minute %d: %d messages handled", minute, n)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			sort.Strings(sent)
			want := []string{
				"10:10 firing email:1", "10:10 firing slack:0",
				"10:20 resolved email:1", "10:20 resolved slack:0",
				"10:40 firing email:1", "10:40 firing slack:0",
				"10:45 resolved email:1", "10:45 resolved slack:0",
			}
			if strings.Join(sent, "\n") != strings.Join(want, "\n") {
				t.Fatalf("sent\n %s\nwant\n %s", strings.Join(sent, "\n "), strings.Join(want, "\n "))
			}
			hist, err := stores[0].AlertHistory(ctx, "prod", "orders", 0)
			if err != nil || len(hist) != 60 {
				t.Fatalf("history: %d evaluations, %v; want 60", len(hist), err)
			}
		})
	}
}

func fp(v float64) *float64 { return &v }
