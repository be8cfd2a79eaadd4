package metadata_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/metadata"
)

// TestExpireLedgers: gc's expiry removes the ticks that ran before the
// cut-off except each schedule's latest (catch-up starts from it) and any
// not yet run, and the deliveries that ended before it, never one still
// being sent.
func TestExpireLedgers(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			addEnv(t, st, "prod", "persistent")
			day := func(n int) time.Time { return time.Date(2026, 3, n, 7, 0, 0, 0, time.UTC) }
			for _, tk := range []struct {
				name string
				at   time.Time
				done bool
			}{
				{"drop", day(1), true}, {"drop", day(2), true}, {"drop", day(3), true},
				{"rise", day(1), false}, {"rise", day(2), true},
			} {
				if won, err := st.ClaimTick(ctx, metadata.Tick{Env: "prod", Kind: "alert", Name: tk.name, Tick: tk.at, Revision: 1}); err != nil || !won {
					t.Fatalf("ClaimTick: %v %v", won, err)
				}
				if tk.done {
					if err := st.MarkTickDone(ctx, "prod", "alert", tk.name, tk.at); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, ch := range []string{"webhook:a", "slack:b"} {
				if _, err := st.BeginDelivery(ctx, "prod/alert/drop/x/firing", ch); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.FinishDelivery(ctx, "prod/alert/drop/x/firing", "webhook:a", metadata.DeliverySent, 1, ""); err != nil {
				t.Fatal(err)
			}
			ticks, deliveries, err := st.ExpireLedgers(ctx, time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if ticks != 2 || deliveries != 1 {
				t.Errorf("expired %d ticks and %d deliveries, want 2 (drop's first two) and 1 (the sent one)", ticks, deliveries)
			}
			for _, c := range []struct {
				name string
				at   time.Time
				kept bool
			}{
				{"drop", day(1), false}, {"drop", day(2), false}, {"drop", day(3), true},
				{"rise", day(1), true}, {"rise", day(2), true},
			} {
				if _, ok, err := st.TickStatus(ctx, "prod", "alert", c.name, c.at); err != nil || ok != c.kept {
					t.Errorf("tick %s %s: kept %v (%v), want %v", c.name, c.at.Format(time.DateOnly), ok, err, c.kept)
				}
			}
			if last, err := st.LastTick(ctx, "prod", "alert", "drop"); err != nil || !last.Equal(day(3)) {
				t.Errorf("LastTick after expiry = %v, %v; want %v", last, err, day(3))
			}
			// The delivery still being sent is still claimed: beginning it
			// again does not start a second send.
			if _, err := st.BeginDelivery(ctx, "prod/alert/drop/x/firing", "slack:b"); !errors.Is(err, metadata.ErrDeliveryInProgress) {
				t.Errorf("BeginDelivery of the one being sent: %v, want ErrDeliveryInProgress", err)
			}
		})
	}
}
