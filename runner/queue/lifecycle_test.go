package queue

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestReopenKeepsUnacked closes a Queue (and the embedded server with it)
// while one message is delivered but unacked and reopens it on the same
// Dir: both messages are delivered again.
func TestReopenKeepsUnacked(t *testing.T) {
	t.Parallel()
	onServers(t, func(t *testing.T, s *testServer) {
		edit := func(o *Options) { o.AckWait = time.Second }
		q := s.open(t, edit)
		publish(t, q, "report", "job-1", "job-2")

		r := newRecorder()
		c := consume(t, q, 1, func(ctx context.Context, m *Msg) { r.add(m) }) // never acks
		r.waitFor(t, 1)
		c.stop(t)
		q.Close()

		q = s.open(t, edit)
		waitPending(t, q, 2)
		r = newRecorder()
		consume(t, q, 2, func(ctx context.Context, m *Msg) {
			r.add(m)
			ack(t, m)
		})
		var ids []string
		for _, d := range r.waitFor(t, 2) {
			ids = append(ids, d.id)
		}
		sort.Strings(ids)
		if diff := cmp.Diff([]string{"job-1", "job-2"}, ids); diff != "" {
			t.Errorf("delivered after reopening (-want +got):\n%s", diff)
		}
		waitPending(t, q, 0)
	})
}

// TestCancelWaitsForHandlers cancels Consume while a handler runs: Consume
// returns only once the handler has, and the handler's context lasts until
// the shutdown grace has passed.
func TestCancelWaitsForHandlers(t *testing.T) {
	t.Parallel()
	const grace = 500 * time.Millisecond
	tests := []struct {
		name string
		// handler runs after cancellation; it returns when released or,
		// with waitCtx, when its context is done.
		waitCtx     bool
		minReturn   time.Duration // Consume returns no sooner after cancel
		wantCtxDone bool          // the handler's context ended
	}{
		{name: "handler that finishes within the grace", minReturn: 300 * time.Millisecond},
		{name: "handler that waits for its context", waitCtx: true, minReturn: grace, wantCtxDone: true},
	}
	onServers(t, func(t *testing.T, s *testServer) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				q := newTestServerLike(t, s).open(t, func(o *Options) { o.ShutdownGrace = grace })
				publish(t, q, "thumbnail", "job")

				started := make(chan struct{})
				release := make(chan struct{})
				finished := make(chan error, 1) // the handler's ctx.Err() as it returns
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				returned := make(chan error, 1)
				go func() {
					returned <- q.Consume(ctx, 1, func(hctx context.Context, m *Msg) {
						close(started)
						if tt.waitCtx {
							<-hctx.Done()
						} else {
							<-release
						}
						finished <- hctx.Err()
						ack(t, m)
					})
				}()
				select {
				case <-started:
				case <-time.After(waitTimeout):
					t.Fatalf("handler not started after %s", waitTimeout)
				}

				cancelled := time.Now()
				cancel()
				if !tt.waitCtx {
					time.AfterFunc(tt.minReturn, func() { close(release) })
				}
				select {
				case err := <-returned:
					if err != nil {
						t.Errorf("Consume: %v", err)
					}
				case <-time.After(waitTimeout):
					t.Fatalf("Consume did not return %s after cancel", waitTimeout)
				}
				if took := time.Since(cancelled); took < tt.minReturn {
					t.Errorf("Consume returned %s after cancel, before its handler (want at least %s)", took, tt.minReturn)
				}
				select {
				case err := <-finished:
					if (err != nil) != tt.wantCtxDone {
						t.Errorf("handler's context error = %v, want done: %v", err, tt.wantCtxDone)
					}
				default:
					t.Errorf("Consume returned before its handler did")
				}
			})
		}
	})
}

// TestEmbeddedDirInUse: a second embedded server on a Dir in use is
// refused, and the Dir is free again once the first has closed.
func TestEmbeddedDirInUse(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, EmbeddedURL)
	q := s.open(t, nil)
	if q2, err := Connect(context.Background(), EmbeddedURL, s.opts); err == nil {
		q2.Close()
		t.Fatalf("a second Connect on %s succeeded, want an error", s.opts.Dir)
	}
	q.Close()
	s.open(t, nil)
}
