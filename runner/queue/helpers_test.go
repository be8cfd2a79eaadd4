package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bic-dev/bic/runner/servicetest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// waitTimeout bounds every wait for something that should happen soon; it
// is generous so that a loaded machine does not fail the tests.
const waitTimeout = 20 * time.Second

// testServer is one NATS server that a test runs its scenario on, with a
// stream and subjects of the test's own.
type testServer struct {
	url  string // EmbeddedURL or a real server
	opts Options
}

// onServers runs f on the embedded server and, when BIC_TEST_NATS_URL
// names one, on a real server, in parallel.
func onServers(t *testing.T, f func(t *testing.T, s *testServer)) {
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		f(t, newTestServer(t, EmbeddedURL))
	})
	t.Run("nats", func(t *testing.T) {
		t.Parallel()
		f(t, newTestServer(t, servicetest.NATS(t)))
	})
}

// newTestServer names a fresh stream and subject prefix; on a real server
// the stream is deleted when the test ends.
func newTestServer(t *testing.T, url string) *testServer {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	s := &testServer{url: url, opts: Options{
		Dir:           t.TempDir(),
		Stream:        "BIC_TEST_" + id,
		SubjectPrefix: "bictest." + id,
		ShutdownGrace: 5 * time.Second,
	}}
	if url != EmbeddedURL {
		// Registered first, so it runs after every Queue has closed.
		t.Cleanup(func() {
			nc, err := nats.Connect(url)
			if err != nil {
				t.Errorf("delete stream %s: %v", s.opts.Stream, err)
				return
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err = js.DeleteStream(ctx, s.opts.Stream)
			}
			// A scenario that opened only streams of its own made none here.
			if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				t.Errorf("delete stream %s: %v", s.opts.Stream, err)
			}
		})
	}
	return s
}

// open connects a Queue with the test's options changed by edit, closed
// when the test ends.
func (s *testServer) open(t *testing.T, edit func(*Options)) *Queue {
	t.Helper()
	opts := s.opts
	if edit != nil {
		edit(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	q, err := Connect(ctx, s.url, opts)
	if err != nil {
		t.Fatalf("Connect(%s): %v", s.url, err)
	}
	t.Cleanup(q.Close)
	return q
}

// openPeer connects a second Queue to the server q runs on, as another
// process would: for the embedded server, a second in-process connection.
func (s *testServer) openPeer(t *testing.T, q *Queue) *Queue {
	t.Helper()
	if q.srv == nil {
		return s.open(t, func(o *Options) { *o = q.opts })
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	p := newQueue(q.opts)
	err := p.dial("", nats.InProcessServer(q.srv))
	if err == nil {
		err = p.setup(ctx)
	}
	if err != nil {
		t.Fatalf("connect a peer: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// publish publishes messages and fails the test on an error.
func publish(t *testing.T, q *Queue, kind string, ids ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for _, id := range ids {
		if _, err := q.Publish(ctx, id, kind, []byte("data of "+id)); err != nil {
			t.Fatalf("Publish(%q): %v", id, err)
		}
	}
}

// consumer is a running Consume loop whose handler records deliveries.
type consumer struct {
	cancel context.CancelFunc
	done   chan error
}

// consume runs q.Consume until stop or the end of the test.
func consume(t *testing.T, q *Queue, concurrency int, handle func(ctx context.Context, m *Msg)) *consumer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &consumer{cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- q.Consume(ctx, concurrency, handle) }()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop cancels the loop and waits for Consume to return.
func (c *consumer) stop(t *testing.T) {
	t.Helper()
	c.cancel()
	select {
	case err, ok := <-c.done:
		if ok && err != nil {
			t.Errorf("Consume: %v", err)
		}
		if ok {
			close(c.done)
		}
	case <-time.After(waitTimeout):
		t.Errorf("Consume did not return %s after its context was cancelled", waitTimeout)
	}
}

// delivery is what a handler saw of one delivery.
type delivery struct {
	id, kind, data string
	delivered      uint64
	at             time.Time
}

// recorder keeps the deliveries that handlers saw.
type recorder struct {
	mu   sync.Mutex
	seen []delivery
	more chan struct{} // receives after every delivery
}

func newRecorder() *recorder { return &recorder{more: make(chan struct{}, 1)} }

func (r *recorder) add(m *Msg) int {
	r.mu.Lock()
	r.seen = append(r.seen, delivery{
		id: m.ID(), kind: m.Kind(), data: string(m.Data()), delivered: m.Delivered(), at: time.Now(),
	})
	n := len(r.seen)
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
	return n
}

func (r *recorder) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.seen...)
}

// waitFor waits until there are at least n deliveries and returns them.
func (r *recorder) waitFor(t *testing.T, n int) []delivery {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		if d := r.deliveries(); len(d) >= n {
			return d
		}
		select {
		case <-r.more:
		case <-deadline:
			t.Fatalf("got %d deliveries after %s, want %d", len(r.deliveries()), waitTimeout, n)
		}
	}
}

// ack acks m and fails the test on an error.
func ack(t *testing.T, m *Msg) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := m.Ack(ctx); err != nil {
		t.Errorf("Ack: %v", err)
	}
}

// waitPending waits until the stream holds want unacked messages.
func waitPending(t *testing.T, q *Queue, want uint64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		got, err := q.Pending(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Pending: %v", err)
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Pending = %d after %s, want %d", got, waitTimeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
