package queue

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// drainTimeout bounds how long Close waits for the connection to drain.
const drainTimeout = 10 * time.Second

// Queue is a connection to the job stream. One Queue serves any number of
// concurrent publishers and Consume loops.
type Queue struct {
	opts    Options
	log     *slog.Logger
	srv     *server.Server // the embedded server, nil for a real one
	stopSrv func()
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream

	closed    chan struct{} // closed by the client once the connection is closed
	closeOnce sync.Once
}

// Connect opens the queue at url and creates or updates its stream. The
// url is "embedded" (or empty) for a server inside this process with its
// files under opts.Dir, or a NATS URL, or a comma-separated list of a
// cluster's URLs. A connection to a real server reconnects forever.
func Connect(ctx context.Context, url string, opts Options) (*Queue, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	q := newQueue(opts.withDefaults())
	var err error
	if url == "" || url == EmbeddedURL {
		q.srv, q.stopSrv, err = startEmbedded(q.opts.Dir, q.log)
		if err == nil {
			err = q.dial("", nats.InProcessServer(q.srv))
		}
	} else {
		err = q.dial(url)
	}
	if err == nil {
		err = q.setup(ctx)
	}
	if err != nil {
		q.Close()
		return nil, err
	}
	return q, nil
}

func newQueue(opts Options) *Queue {
	return &Queue{opts: opts, log: opts.Logger, closed: make(chan struct{})}
}

// dial connects q.nc; the url is never logged, it may hold credentials.
func (q *Queue) dial(url string, extra ...nats.Option) error {
	opts := append([]nats.Option{
		nats.Name("bic"),
		nats.MaxReconnects(-1),
		nats.DrainTimeout(drainTimeout),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err != nil {
				q.log.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			q.log.Info("nats reconnected", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
			q.log.Warn("nats asynchronous error", "error", err)
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(q.closed) }),
	}, extra...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("queue: connect to nats: %w", err)
	}
	q.nc = nc
	return nil
}

// setup creates or updates the stream.
func (q *Queue) setup(ctx context.Context) error {
	js, err := jetstream.New(q.nc)
	if err != nil {
		return fmt.Errorf("queue: jetstream: %w", err)
	}
	q.js = js
	q.stream, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        q.opts.Stream,
		Description: "bic jobs: one message per job, removed once a runner acks it",
		Subjects:    []string{q.opts.SubjectPrefix + ".>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    q.opts.Replicas,
		Duplicates:  q.opts.DuplicateWindow,
	})
	if err != nil {
		return fmt.Errorf("queue: create stream %s: %w", q.opts.Stream, err)
	}
	return nil
}

// Publish stores data as a message of the given kind with id msgID and
// waits for JetStream's ack. duplicate reports that a message with the
// same id was stored within the duplicate window, so this one was dropped.
func (q *Queue) Publish(ctx context.Context, msgID, kind string, data []byte) (duplicate bool, err error) {
	if msgID == "" {
		return false, errors.New("queue: publish: empty message id")
	}
	if !validToken(kind) {
		return false, fmt.Errorf("queue: publish %q: kind %q is not one subject token", msgID, kind)
	}
	msg := nats.NewMsg(q.opts.SubjectPrefix + "." + kind)
	msg.Data = data
	ack, err := q.js.PublishMsg(ctx, msg, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(q.opts.Stream))
	if err != nil {
		return false, fmt.Errorf("queue: publish %s %q: %w", kind, msgID, err)
	}
	return ack.Duplicate, nil
}

// Pending is the number of messages in the stream, delivered or not, that
// no worker has acked or dropped yet: the queue's depth.
func (q *Queue) Pending(ctx context.Context) (uint64, error) {
	info, err := q.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("queue: stream %s info: %w", q.opts.Stream, err)
	}
	return info.State.Msgs, nil
}

// Close drains the connection and, for the embedded server, shuts it down
// with its JetStream state flushed, so that the next Connect on the same
// Dir finds every message that was not acked. Stop Consume loops first.
func (q *Queue) Close() {
	q.closeOnce.Do(func() {
		if q.nc != nil {
			if err := q.nc.Drain(); err != nil {
				q.nc.Close()
			}
			select {
			case <-q.closed:
			case <-time.After(drainTimeout + 5*time.Second):
				q.log.Warn("nats drain did not finish; closing")
				q.nc.Close()
			}
		}
		if q.stopSrv != nil {
			q.stopSrv()
		}
	})
}

// Conn is the queue's NATS connection, for request–reply beside the work
// queue (on-demand filter states): in-process for the embedded server.
func (q *Queue) Conn() *nats.Conn { return q.nc }

// RequestSubject is the subject of the runners' requests named name (such
// as "ondemand"). It lies outside the stream's subjects, which would
// store a request instead of answering it, and names the stream, so that
// installations sharing a NATS server keep their requests apart as well
// as their jobs.
func (q *Queue) RequestSubject(name string) string { return RequestSubject(q.opts.Stream, name) }

// RequestSubject is Queue.RequestSubject for a stream's name ("" is
// DefaultStream), for a process that sends requests without a Queue.
func RequestSubject(stream, name string) string {
	return "bic_requests." + cmp.Or(stream, DefaultStream) + "." + name
}
