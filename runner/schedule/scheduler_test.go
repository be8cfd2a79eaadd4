package schedule

import (
	"context"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"
)

// Three runners, one alert every minute, an hour of simulated time in
// steps of 20 seconds: every minute's tick is published once (only the
// claim's winner publishes) and consumed once, on SQLite and PostgreSQL,
// on the embedded JetStream and a real one.
func TestThreeRunnersOneAlertEveryMinute(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, q := range []string{"embedded", "nats"} {
			t.Run(db+"/"+q, func(t *testing.T) {
				t.Parallel()
				clk := &fakeClock{t: time.Date(2026, 3, 1, 10, 0, 5, 0, time.UTC)}
				stores := runners(t, db, 3, clk)
				queue := testQueue(t, q)
				addEnvs(t, stores[0], "prod")
				envs := &live{}
				envs.set(Env{Name: "prod", Revision: 7, Manifest: project(nil, []compiler.Alert{{Name: "orders", Schedule: "* * * * *", Timezone: "UTC"}}, nil, nil)})
				counting := &countingQueue{Publisher: queue}
				var scheds []*Scheduler
				var reads atomic.Int64
				for _, st := range stores {
					scheds = append(scheds, &Scheduler{Store: countingStore{Store: envs.store(st), reads: &reads}, Queue: counting, Now: clk.Now})
				}
				got := consume(t, queue)
				for range 180 {
					tickAll(t, scheds)
					clk.Add(20 * time.Second)
				}
				msgs := got.wait(t, queue, 60)
				if len(msgs) != 60 || counting.count() != 60 {
					t.Fatalf("%d messages consumed, %d published; want 60 and 60", len(msgs), counting.count())
				}
				// Each scheduler asks the store for the last tick when one is
				// due by what it knows, not on every one of its 180 runs.
				if n := reads.Load(); n > 3*61 {
					t.Errorf("%d reads of the last tick in 3×180 runs, want at most one per scheduler and minute (183)", n)
				}
				sort.Slice(msgs, func(i, j int) bool { return msgs[i].Tick.Before(msgs[j].Tick) })
				for i, m := range msgs {
					want := time.Date(2026, 3, 1, 10, i, 0, 0, time.UTC)
					if !m.Tick.Equal(want) || m.Env != "prod" || m.Kind != KindAlert || m.Name != "orders" || m.Revision != 7 || m.DryRun {
						t.Fatalf("message %d = %+v; want the alert's tick %v", i, m, want)
					}
				}
			})
		}
	}
}

// countingStore counts the reads of the last tick.
type countingStore struct {
	Store
	reads *atomic.Int64
}

func (c countingStore) LastTick(ctx context.Context, env, kind, name string) (time.Time, error) {
	c.reads.Add(1)
	return c.Store.LastTick(ctx, env, kind, name)
}

// After a downtime of 15 minutes, catchup latest runs the latest missed
// tick once and skip runs nothing; both go on at the next tick.
func TestDowntimeCatchup(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, policy := range []string{"latest", "skip"} {
			t.Run(db+"/"+policy, func(t *testing.T) {
				t.Parallel()
				clk := &fakeClock{t: time.Date(2026, 3, 1, 10, 0, 5, 0, time.UTC)}
				stores := runners(t, db, 3, clk)
				queue := testQueue(t, "embedded")
				addEnvs(t, stores[0], "prod")
				envs := &live{}
				envs.set(Env{Name: "prod", Revision: 1, Manifest: project(nil, []compiler.Alert{{Name: "orders", Schedule: "*/5 * * * *", Timezone: "UTC", Catchup: policy}}, nil, nil)})
				var scheds []*Scheduler
				for _, st := range stores {
					scheds = append(scheds, &Scheduler{Store: envs.store(st), Queue: queue, Now: clk.Now})
				}
				got := consume(t, queue)
				step := func(until time.Time) {
					for clk.Now().Before(until) {
						tickAll(t, scheds)
						clk.Add(15 * time.Second)
					}
				}
				step(time.Date(2026, 3, 1, 10, 6, 0, 0, time.UTC)) // 10:00 and 10:05
				clk.Set(time.Date(2026, 3, 1, 10, 22, 0, 0, time.UTC))
				step(time.Date(2026, 3, 1, 10, 24, 0, 0, time.UTC)) // back up: 10:10, 10:15, 10:20 were missed
				clk.Set(time.Date(2026, 3, 1, 10, 25, 10, 0, time.UTC))
				step(time.Date(2026, 3, 1, 10, 26, 0, 0, time.UTC)) // 10:25 on time
				want := "10:00 10:05 10:20 10:25"
				if policy == "skip" {
					want = "10:00 10:05 10:25"
				}
				msgs := got.wait(t, queue, len(strings.Fields(want)))
				var ticks []string
				for _, m := range msgs {
					ticks = append(ticks, m.Tick.Format("15:04"))
				}
				sort.Strings(ticks)
				if strings.Join(ticks, " ") != want {
					t.Fatalf("ticks run = %s, want %s", strings.Join(ticks, " "), want)
				}
			})
		}
	}
}

// A daily 02:30 alert in Europe/Berlin, ticked every 10 minutes across the
// spring-forward and fall-back weeks: once a day, at 03:00 CEST on the day
// 02:30 does not exist and once (at 02:30 CEST) on the day it exists twice.
func TestDailyScheduleAcrossDST(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, c := range []struct {
		name     string
		from, to time.Time
		want     string
	}{
		{"spring forward", time.Date(2026, 3, 27, 2, 30, 0, 0, berlin), time.Date(2026, 3, 31, 12, 0, 0, 0, berlin),
			"03-27 02:30 CET,03-28 02:30 CET,03-29 03:00 CEST,03-30 02:30 CEST,03-31 02:30 CEST"},
		{"fall back", time.Date(2026, 10, 23, 2, 30, 0, 0, berlin), time.Date(2026, 10, 27, 12, 0, 0, 0, berlin),
			"10-23 02:30 CEST,10-24 02:30 CEST,10-25 02:30 CEST,10-26 02:30 CET,10-27 02:30 CET"},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := &fakeClock{t: c.from}
			st := runners(t, "sqlite", 1, clk)[0]
			addEnvs(t, st, "prod")
			envs := &live{}
			envs.set(Env{Name: "prod", Revision: 1, Manifest: project(nil, []compiler.Alert{{Name: "nightly", Schedule: "30 2 * * *", Timezone: "Europe/Berlin"}}, nil, nil)})
			pub := &countingQueue{}
			s := &Scheduler{Store: envs.store(st), Queue: pub, Now: clk.Now}
			for clk.Now().Before(c.to) {
				if err := s.Tick(context.Background()); err != nil {
					t.Fatal(err)
				}
				clk.Add(10 * time.Minute)
			}
			var got []string
			for _, id := range pub.ids() {
				tick, err := time.Parse(time.RFC3339, id[strings.LastIndex(id, "/")+1:])
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, tick.In(berlin).Format("01-02 15:04 MST"))
			}
			if strings.Join(got, ",") != c.want {
				t.Fatalf("ticks =\n %s\nwant\n %s", strings.Join(got, ","), c.want)
			}
		})
	}
}

// prod runs schedules for real; a preview gets its alerts and reports as
// dry runs and no refresh; staging runs them once the project names it.
func TestPreviewsAreDryRuns(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 3, 1, 8, 0, 10, 0, time.UTC)}
	st := runners(t, "sqlite", 1, clk)[0]
	addEnvs(t, st, "prod", "staging", "pr-1")
	objects := func(schedules []string) *compiler.Manifest {
		return project(schedules,
			[]compiler.Alert{{Name: "drop", Schedule: "0 * * * *", Timezone: "UTC"}},
			[]compiler.Report{{Name: "weekly", Schedule: "0 8 * * *", Timezone: "UTC"}},
			[]compiler.Dataset{{Name: "orders", Refresh: "@hourly"}, {Name: "static"}})
	}
	envs := &live{}
	pub := &countingQueue{}
	s := &Scheduler{Store: envs.store(st), Queue: pub, Now: clk.Now}
	run := func() []string {
		before := len(pub.ids())
		if err := s.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		return pub.ids()[before:]
	}
	envs.set(Env{Name: "prod", Revision: 3, Manifest: objects(nil)}, Env{Name: "staging", Revision: 2, Manifest: objects(nil)}, Env{Name: "pr-1", Revision: 1, Manifest: objects(nil)})
	got := run()
	want := []string{
		"prod/alert/drop/2026-03-01T08:00:00Z", "prod/report/weekly/2026-03-01T08:00:00Z", "prod/refresh/orders/2026-03-01T08:00:00Z",
		"staging/alert/drop/2026-03-01T08:00:00Z", "staging/report/weekly/2026-03-01T08:00:00Z",
		"pr-1/alert/drop/2026-03-01T08:00:00Z", "pr-1/report/weekly/2026-03-01T08:00:00Z",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("published\n %s\nwant\n %s", strings.Join(got, "\n "), strings.Join(want, "\n "))
	}
	for _, id := range got {
		parts := strings.Split(id, "/")
		tk, _, err := st.TickStatus(context.Background(), parts[0], parts[1], parts[2], time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if wantDry := parts[0] != "prod"; tk.DryRun != wantDry || tk.EnqueuedAt.IsZero() {
			t.Errorf("%s: dry run %v, enqueued at %v; want dry run %v, enqueued", id, tk.DryRun, tk.EnqueuedAt, wantDry)
		}
	}
	// The next hour, with staging named in schedules: its refresh runs
	// and its alert is no dry run any more.
	clk.Set(time.Date(2026, 3, 1, 9, 0, 5, 0, time.UTC))
	envs.set(Env{Name: "staging", Revision: 3, Manifest: objects([]string{"prod", "staging"})})
	if got := strings.Join(run(), " "); got != "staging/alert/drop/2026-03-01T09:00:00Z staging/refresh/orders/2026-03-01T09:00:00Z" {
		t.Fatalf("published %s", got)
	}
	tk, _, _ := st.TickStatus(context.Background(), "staging", KindAlert, "drop", time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	if tk.DryRun || tk.Revision != 3 {
		t.Errorf("staging's alert tick = %+v; want no dry run, revision 3", tk)
	}
}

// A claim won whose publish failed is published again by a later Tick
// (of any runner) once RepublishAfter has passed, and only once.
func TestRepublishAfterFailedPublish(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			clk := &fakeClock{t: time.Date(2026, 3, 1, 10, 0, 5, 0, time.UTC)}
			stores := runners(t, db, 2, clk)
			queue := testQueue(t, "embedded")
			addEnvs(t, stores[0], "prod")
			envs := &live{}
			envs.set(Env{Name: "prod", Revision: 1, Manifest: project(nil, []compiler.Alert{{Name: "orders", Schedule: "0 * * * *", Timezone: "UTC"}}, nil, nil)})
			failing := &countingQueue{Publisher: queue, failures: 1}
			a := &Scheduler{Store: envs.store(stores[0]), Queue: failing, Now: clk.Now}
			b := &Scheduler{Store: envs.store(stores[1]), Queue: queue, Now: clk.Now}
			got := consume(t, queue)
			if err := a.Tick(context.Background()); err == nil || !strings.Contains(err.Error(), "no responders") {
				t.Fatalf("tick with a failing publish: err = %v", err)
			}
			// b sees the tick claimed: not due for it, and too fresh to re-publish.
			for range 2 {
				clk.Add(10 * time.Second)
				if err := b.Tick(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if pending, _ := queue.Pending(context.Background()); pending != 0 || len(got.wait(t, queue, 0)) != 0 {
				t.Fatal("the tick was published before RepublishAfter")
			}
			for range 8 {
				clk.Add(10 * time.Second)
				tickAll(t, []*Scheduler{a, b})
			}
			msgs := got.wait(t, queue, 1)
			if len(msgs) != 1 || msgs[0].Tick.Format("15:04") != "10:00" {
				t.Fatalf("messages after re-publishing = %+v; want the 10:00 tick once", msgs)
			}
			tk, _, err := stores[0].TickStatus(context.Background(), "prod", KindAlert, "orders", msgs[0].Tick)
			if err != nil || tk.EnqueuedAt.IsZero() {
				t.Fatalf("tick = %+v, %v; want enqueued", tk, err)
			}
			if p, err := stores[1].PendingTicks(context.Background(), clk.Now().Add(time.Hour)); err != nil || len(p) != 0 {
				t.Fatalf("pending after re-publishing = %+v, %v", p, err)
			}
		})
	}
}

func TestMsgID(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tick := time.Date(2026, 3, 29, 3, 0, 0, 0, berlin)
	if got := MsgID("pr-1", KindReport, "weekly", tick); got != "pr-1/report/weekly/2026-03-29T01:00:00Z" {
		t.Errorf("MsgID = %s", got)
	}
}
