package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// fetchWait is how long one pull request waits for messages before the
// loop issues the next; messages are delivered as soon as they arrive.
const fetchWait = 5 * time.Second

// retryWait is the pause after a failed pull, for instance while the
// client reconnects.
const retryWait = time.Second

// Consume runs handle on the queue's messages, at most concurrency at a
// time, until ctx is done. Every Queue, in this process or another, shares
// one durable consumer, so each message goes to one handler at a time.
//
// A handler owns its message: it must Ack, Retry or Drop it, or JetStream
// delivers it again after the ack wait (and so again and again: there is
// no delivery limit; the handler decides when a message is poison, from
// Delivered). Consume pulls only as many messages as it has free handlers,
// so no message waits in a buffer while its ack wait runs.
//
// Once ctx is done Consume pulls no more and waits for the running
// handlers. Their context stays alive for Options.ShutdownGrace, then is
// cancelled; handlers must return once it is. Consume returns nil after a
// clean stop and an error only when it cannot create the consumer.
func (q *Queue) Consume(ctx context.Context, concurrency int, handle func(ctx context.Context, m *Msg)) error {
	if concurrency < 1 {
		return fmt.Errorf("queue: consume: concurrency %d: want at least 1", concurrency)
	}
	cons, err := q.consumer(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}

	handlerCtx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	var wg sync.WaitGroup
	slots := make(chan struct{}, concurrency)

	for ctx.Err() == nil {
		n := acquire(ctx, slots)
		if n == 0 {
			break
		}
		started, err := q.fetch(ctx, cons, n, func(m *Msg) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				handle(handlerCtx, m)
			}()
		})
		for range n - started {
			<-slots
		}
		if err != nil && ctx.Err() == nil {
			q.log.Warn("queue pull failed", "stream", q.opts.Stream, "consumer", q.opts.Consumer, "error", err)
			if !sleep(ctx, retryWait) {
				break
			}
			// The consumer may be gone (deleted, or a server that lost its
			// state); creating it again is harmless when it is not.
			if c, err := q.consumer(ctx); err == nil {
				cons = c
			}
		}
	}

	grace := time.AfterFunc(q.opts.ShutdownGrace, cancelHandlers)
	wg.Wait()
	grace.Stop()
	return nil
}

// consumer creates or updates the shared durable pull consumer.
func (q *Queue) consumer(ctx context.Context) (jetstream.Consumer, error) {
	cons, err := q.js.CreateOrUpdateConsumer(ctx, q.opts.Stream, jetstream.ConsumerConfig{
		Durable:       q.opts.Consumer,
		Description:   "bic runners: every worker pulls from this one consumer",
		FilterSubject: q.opts.SubjectPrefix + ".>",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.opts.AckWait,
		MaxDeliver:    -1,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: create consumer %s on %s: %w", q.opts.Consumer, q.opts.Stream, err)
	}
	return cons, nil
}

// fetch pulls up to n messages and passes each to start, returning how
// many it started. A message that arrives after ctx is done is handed back
// at once (Nak) for another worker.
func (q *Queue) fetch(ctx context.Context, cons jetstream.Consumer, n int, start func(*Msg)) (int, error) {
	fetchCtx, cancel := context.WithTimeout(ctx, fetchWait)
	defer cancel()
	batch, err := cons.Fetch(n, jetstream.FetchContext(fetchCtx))
	if err != nil {
		return 0, err
	}
	started := 0
	for m := range batch.Messages() {
		if ctx.Err() != nil {
			_ = m.Nak()
			continue
		}
		started++
		start(q.wrap(m))
	}
	err = batch.Error()
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = nil
	}
	return started, err
}

func (q *Queue) wrap(m jetstream.Msg) *Msg {
	return &Msg{
		msg:     m,
		kind:    strings.TrimPrefix(m.Subject(), q.opts.SubjectPrefix+"."),
		ackWait: q.opts.AckWait,
		nc:      q.nc,
	}
}

// acquire takes at least one free slot, waiting for it, then every other
// free one; it returns how many it took, 0 when ctx is done first.
func acquire(ctx context.Context, slots chan struct{}) int {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for n < cap(slots) {
		select {
		case slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

// sleep waits for d or for ctx, reporting whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
