package metadata_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/metadata"
)

func fp(v float64) *float64 { return &v }

func TestRecordEvaluation(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			addEnv(t, st, "prod", "persistent")
			st0, err := st.AlertState(ctx, "prod", "drop")
			if err != nil || st0.State != "" || !st0.Tick.IsZero() {
				t.Fatalf("state of an alert never evaluated = %+v, %v", st0, err)
			}
			t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
			record := func(i int, state string, value *float64, notify bool, since time.Time) (metadata.Evaluation, error) {
				return st.RecordEvaluation(ctx, "prod", "drop", metadata.Evaluation{
					At: c.now(), Tick: t0.Add(time.Duration(i) * time.Minute), State: state, Value: value, Previous: fp(100),
					Message: state, Notify: notify, Since: since,
				})
			}
			tick := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

			if _, err := record(0, "ok", fp(90), false, time.Time{}); err != nil {
				t.Fatal(err)
			}
			c.add(time.Minute)
			if _, err := record(1, "firing", fp(50), true, tick(0)); err != nil {
				t.Fatal(err)
			}
			firingAt := c.now()
			s, err := st.AlertState(ctx, "prod", "drop")
			if err != nil || s.State != "firing" || *s.Value != 50 || !s.FiringSince.Equal(firingAt) || !s.LastNotifiedAt.Equal(firingAt) || !s.Tick.Equal(tick(1)) {
				t.Fatalf("after firing: %+v, %v", s, err)
			}
			c.add(time.Minute)
			if _, err := record(2, "firing", fp(40), false, tick(1)); err != nil {
				t.Fatal(err)
			}
			s, _ = st.AlertState(ctx, "prod", "drop")
			if !s.FiringSince.Equal(firingAt) || !s.LastNotifiedAt.Equal(firingAt) || !s.LastEvaluatedAt.Equal(c.now()) {
				t.Fatalf("still firing: firing_since and last_notified_at must stay: %+v", s)
			}

			// A redelivered tick returns what was recorded and writes nothing.
			got, err := record(1, "ok", fp(1), false, tick(2))
			if err != nil || got.State != "firing" || !got.Notify || *got.Value != 50 || !got.Tick.Equal(tick(1)) {
				t.Fatalf("recording tick 1 again = %+v, %v; want the firing evaluation recorded first", got, err)
			}
			// An evaluation computed from a state that moved on is refused.
			if _, err := record(3, "ok", fp(100), true, tick(1)); !errors.Is(err, metadata.ErrAlertStateChanged) {
				t.Fatalf("stale evaluation: err = %v, want ErrAlertStateChanged", err)
			}
			c.add(time.Minute)
			if _, err := record(3, "ok", nil, true, tick(2)); err != nil {
				t.Fatal(err)
			}
			s, _ = st.AlertState(ctx, "prod", "drop")
			if s.State != "ok" || s.Value != nil || !s.FiringSince.IsZero() || !s.LastNotifiedAt.Equal(c.now()) {
				t.Fatalf("after resolving: %+v", s)
			}
			// A run by hand goes to the history only.
			if _, err := st.RecordEvaluation(ctx, "prod", "drop", metadata.Evaluation{At: c.now(), State: "firing", Value: fp(1), DryRun: true}); err != nil {
				t.Fatal(err)
			}
			if s2, _ := st.AlertState(ctx, "prod", "drop"); s2.State != "ok" {
				t.Fatalf("a run by hand moved the state: %+v", s2)
			}

			hist, err := st.AlertHistory(ctx, "prod", "drop", 0)
			if err != nil || len(hist) != 5 {
				t.Fatalf("history = %+v, %v; want 5 evaluations", hist, err)
			}
			var states []string
			for _, h := range hist {
				states = append(states, h.State)
			}
			if strings.Join(states, ",") != "firing,ok,firing,firing,ok" {
				t.Errorf("history newest first = %s", strings.Join(states, ","))
			}
			if h := hist[3]; !h.Notify || *h.Value != 50 || *h.Previous != 100 || h.Message != "firing" || !h.Tick.Equal(tick(1)) || h.DryRun {
				t.Errorf("history of tick 1 = %+v", h)
			}
			if !hist[0].DryRun || !hist[0].Tick.IsZero() {
				t.Errorf("the run by hand = %+v", hist[0])
			}
			if hist, _ := st.AlertHistory(ctx, "prod", "drop", 2); len(hist) != 2 || hist[1].State != "ok" {
				t.Errorf("history limit 2 = %+v", hist)
			}
			if hist, _ := st.AlertHistory(ctx, "prod", "other", 0); len(hist) != 0 {
				t.Errorf("history of another alert = %+v", hist)
			}
		})
	}
}

func TestDeliveries(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			key := "prod/alert/drop/2026-12-01T09:00:00Z"
			done, err := st.BeginDelivery(ctx, key, "slack:0")
			if err != nil || done {
				t.Fatalf("first BeginDelivery = %v, %v", done, err)
			}
			if err := st.FinishDelivery(ctx, key, "slack:0", metadata.DeliveryFailed, 3, "503 from slack"); err != nil {
				t.Fatal(err)
			}
			// Failed: the next delivery of the message tries again.
			if done, err := st.BeginDelivery(ctx, key, "slack:0"); err != nil || done {
				t.Fatalf("BeginDelivery after a failure = %v, %v", done, err)
			}
			if err := st.FinishDelivery(ctx, key, "slack:0", metadata.DeliverySent, 1, ""); err != nil {
				t.Fatal(err)
			}
			if done, err := st.BeginDelivery(ctx, key, "slack:0"); err != nil || !done {
				t.Fatalf("BeginDelivery after sending = %v, %v; want already delivered", done, err)
			}
			// Sent stays sent.
			if err := st.FinishDelivery(ctx, key, "slack:0", metadata.DeliveryFailed, 9, "late"); err != nil {
				t.Fatal(err)
			}
			if done, _ := st.BeginDelivery(ctx, key, "slack:0"); !done {
				t.Fatal("a late failure undid a sent delivery")
			}
			if done, err := st.BeginDelivery(ctx, key, "email:1"); err != nil || done {
				t.Fatalf("another channel = %v, %v", done, err)
			}
			// Being sent: a second sender is told to come back later, and
			// takes over once the first one's lease has run out.
			if _, err := st.BeginDelivery(ctx, key, "email:1"); !errors.Is(err, metadata.ErrDeliveryInProgress) {
				t.Fatalf("BeginDelivery while sending: err = %v, want ErrDeliveryInProgress", err)
			}
			c.add(metadata.DeliveryLease + time.Second)
			if done, err := st.BeginDelivery(ctx, key, "email:1"); err != nil || done {
				t.Fatalf("BeginDelivery after the lease = %v, %v; want it handed out", done, err)
			}
			if err := st.FinishDelivery(ctx, "other", "slack:0", metadata.DeliverySent, 1, ""); err == nil {
				t.Error("FinishDelivery without BeginDelivery accepted")
			}
			if err := st.FinishDelivery(ctx, key, "email:1", "maybe", 1, ""); err == nil {
				t.Error("FinishDelivery with an unknown status accepted")
			}
		})
	}
}
