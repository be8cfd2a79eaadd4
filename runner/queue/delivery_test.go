package queue

import (
	"context"
	"testing"
	"time"
)

// TestRedelivery checks what becomes of a message after its first
// delivery's handler acts on it: each case publishes one message, handles
// its first delivery with first and acks every later one.
func TestRedelivery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ackWait time.Duration
		first   func(t *testing.T, ctx context.Context, m *Msg)
		// redelivered: whether a second delivery must come, no sooner
		// than minGap and no later than maxGap after the first; when it
		// must not, the test watches for quiet.
		redelivered    bool
		minGap, maxGap time.Duration
		quiet          time.Duration
	}{
		{
			name:        "never acked: delivered again after the ack wait",
			ackWait:     time.Second,
			first:       func(*testing.T, context.Context, *Msg) {},
			redelivered: true,
			minGap:      800 * time.Millisecond,
			maxGap:      waitTimeout,
		},
		{
			name:    "retried: delivered again after the delay, before the ack wait",
			ackWait: 30 * time.Second,
			first: func(t *testing.T, _ context.Context, m *Msg) {
				if err := m.Retry(500 * time.Millisecond); err != nil {
					t.Errorf("Retry: %v", err)
				}
			},
			redelivered: true,
			minGap:      400 * time.Millisecond,
			maxGap:      15 * time.Second,
		},
		{
			name:    "dropped: never delivered again",
			ackWait: time.Second,
			first: func(t *testing.T, _ context.Context, m *Msg) {
				if err := m.Drop("test: poison"); err != nil {
					t.Errorf("Drop: %v", err)
				}
			},
			quiet: 2 * time.Second,
		},
		{
			name:    "kept alive: a handler slower than the ack wait keeps its message",
			ackWait: time.Second,
			first: func(t *testing.T, ctx context.Context, m *Msg) {
				stop := m.KeepAlive(ctx)
				time.Sleep(2500 * time.Millisecond)
				stop()
				ack(t, m)
			},
			quiet: 2 * time.Second,
		},
	}
	onServers(t, func(t *testing.T, s *testServer) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				q := newTestServerLike(t, s).open(t, func(o *Options) { o.AckWait = tt.ackWait })
				publish(t, q, "alert", "job")
				r := newRecorder()
				consume(t, q, 2, func(ctx context.Context, m *Msg) {
					if r.add(m) == 1 {
						tt.first(t, ctx, m)
						return
					}
					ack(t, m)
				})
				first := r.waitFor(t, 1)[0]
				if first.delivered != 1 {
					t.Errorf("first delivery: Delivered() = %d, want 1", first.delivered)
				}
				if tt.redelivered {
					second := r.waitFor(t, 2)[1]
					if second.delivered != 2 {
						t.Errorf("second delivery: Delivered() = %d, want 2", second.delivered)
					}
					if gap := second.at.Sub(first.at); gap < tt.minGap || gap > tt.maxGap {
						t.Errorf("delivered again after %s, want between %s and %s", gap, tt.minGap, tt.maxGap)
					}
				} else {
					// The first handler may still be running (kept alive);
					// watch from its start until quiet after the ack wait.
					time.Sleep(time.Until(first.at.Add(tt.ackWait + tt.quiet)))
					if got := r.deliveries(); len(got) != 1 {
						t.Errorf("got %d deliveries, want 1", len(got))
					}
				}
				waitPending(t, q, 0)
			})
		}
	})
}
