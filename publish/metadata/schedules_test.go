package metadata_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/metadata"
)

// addEnv writes an environment row, which ticks and alert state belong to.
func addEnv(t *testing.T, st *metadata.Store, name, kind string) {
	t.Helper()
	if _, err := st.DB().ExecContext(context.Background(), `INSERT INTO environments (name, kind, created_at) VALUES ('`+name+`', '`+kind+`', '2026-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
}

func TestClaimTickOnce(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			addEnv(t, st, "prod", "persistent")
			tick := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
			var wins int
			var mu sync.Mutex
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					won, err := st.ClaimTick(ctx, metadata.Tick{Env: "prod", Kind: "alert", Name: "drop", Tick: tick, Revision: 3})
					if err != nil {
						t.Error(err)
					}
					if won {
						mu.Lock()
						wins++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if wins != 1 {
				t.Fatalf("%d claims won, want 1", wins)
			}
			last, err := st.LastTick(ctx, "prod", "alert", "drop")
			if err != nil || !last.Equal(tick) {
				t.Fatalf("LastTick = %v, %v; want %v", last, err, tick)
			}
			if last, err := st.LastTick(ctx, "prod", "report", "drop"); err != nil || !last.IsZero() {
				t.Fatalf("LastTick of another kind = %v, %v; want zero", last, err)
			}
			// Another kind, name or environment is another tick.
			addEnv(t, st, "pr-1", "preview")
			for _, other := range []metadata.Tick{
				{Env: "prod", Kind: "report", Name: "drop", Tick: tick},
				{Env: "prod", Kind: "alert", Name: "rise", Tick: tick},
				{Env: "pr-1", Kind: "alert", Name: "drop", Tick: tick, DryRun: true},
				{Env: "prod", Kind: "alert", Name: "drop", Tick: tick.Add(time.Minute)},
			} {
				if won, err := st.ClaimTick(ctx, other); err != nil || !won {
					t.Errorf("ClaimTick(%+v) = %v, %v; want a win", other, won, err)
				}
			}
			tk, ok, err := st.TickStatus(ctx, "pr-1", "alert", "drop", tick)
			if err != nil || !ok || !tk.DryRun || !tk.Tick.Equal(tick) || !tk.EnqueuedAt.IsZero() {
				t.Fatalf("TickStatus = %+v, %v, %v", tk, ok, err)
			}
			// A kind the scheduler does not know is refused by the database.
			if _, err := st.ClaimTick(ctx, metadata.Tick{Env: "prod", Kind: "thumbnail", Name: "x", Tick: tick}); err == nil {
				t.Error("ClaimTick of kind thumbnail accepted")
			}
		})
	}
}

func TestPendingTicks(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			addEnv(t, st, "prod", "persistent")
			t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
			claimTick := func(kind, name string, tick time.Time) {
				t.Helper()
				if won, err := st.ClaimTick(ctx, metadata.Tick{Env: "prod", Kind: kind, Name: name, Tick: tick, Revision: 1}); err != nil || !won {
					t.Fatalf("claim %s %s: %v, %v", kind, name, won, err)
				}
			}
			claimTick("alert", "a", t0)                 // enqueued below
			claimTick("alert", "b", t0)                 // never enqueued: pending
			claimTick("report", "c", t0)                // overtaken by a newer tick
			claimTick("report", "c", t0.Add(time.Hour)) // pending, the latest of c
			if err := st.MarkTickEnqueued(ctx, "prod", "alert", "a", t0); err != nil {
				t.Fatal(err)
			}
			c.add(time.Minute)
			claimTick("refresh", "d", t0) // claimed too recently to be pending
			pending, err := st.PendingTicks(ctx, c.now().Add(-30*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pending {
				got = append(got, p.Kind+" "+p.Name+" "+p.Tick.UTC().Format("15:04"))
			}
			if want := "alert b 10:00,report c 11:00"; strings.Join(got, ",") != want {
				t.Fatalf("pending = %s, want %s", strings.Join(got, ","), want)
			}
			if err := st.MarkTickEnqueued(ctx, "prod", "alert", "b", t0); err != nil {
				t.Fatal(err)
			}
			first, _, _ := st.TickStatus(ctx, "prod", "alert", "b", t0)
			c.add(time.Minute)
			// Marks are idempotent: the first one stays.
			if err := st.MarkTickEnqueued(ctx, "prod", "alert", "b", t0); err != nil {
				t.Fatal(err)
			}
			if err := st.MarkTickDone(ctx, "prod", "alert", "b", t0); err != nil {
				t.Fatal(err)
			}
			again, _, _ := st.TickStatus(ctx, "prod", "alert", "b", t0)
			if !again.EnqueuedAt.Equal(first.EnqueuedAt) || again.DoneAt.IsZero() {
				t.Fatalf("after marking again: %+v (first %+v)", again, first)
			}
			pending, err = st.PendingTicks(ctx, c.now())
			if err != nil || len(pending) != 2 {
				t.Fatalf("pending after enqueueing b = %+v, %v; want report c and refresh d", pending, err)
			}
		})
	}
}
