package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// baselineConsumers is how many consumers, each on a NATS connection of
// its own, pull from the baseline's one durable consumer: as many as the
// job paths have runners.
const baselineConsumers = 2

// baselineBatch is how many messages one pull asks for, and how many acks
// run at once per consumer: a runner's default concurrency.
const baselineBatch = 4

// baseline is the bare JetStream figure: n messages published one at a
// time (each waiting for its ack, as the dispatcher does), pulled by two
// consumers and double-acked (as a worker acks), all at once.
type baseline struct {
	n       int
	publish time.Duration // until the last publish was acknowledged
	wall    time.Duration // until the last message was acked
}

// perMsg is the consumers' time per message, comparable with a job's
// wall × runners ÷ jobs.
func (b *baseline) perMsg() time.Duration {
	return b.wall * baselineConsumers / time.Duration(b.n)
}

// jobPayload is a job message of the dispatcher's shape (runner's message
// type), so the baseline's messages are as large as a job's.
func jobPayload(id int) []byte {
	b, _ := json.Marshal(struct {
		Job          int64     `json:"job"`
		DispatchedAt time.Time `json:"dispatched_at"`
	}{int64(id), time.Now().UTC()})
	return b
}

// jobMsgID is a message id of the dispatcher's shape: revision/key/attempt.
func jobMsgID(i int) string {
	return fmt.Sprintf("1/chart_data:chart/d_000/c_%05d@0123456789abcdef/0", i)
}

// baselineEmbedded runs the baseline on a NATS server in this process,
// as bic's embedded default does (no listening socket).
func baselineEmbedded(ctx context.Context, n int) (*baseline, error) {
	dir, err := os.MkdirTemp("", "bic-bench-nats-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	srv, err := server.NewServer(&server.Options{JetStream: true, StoreDir: dir, DontListen: true, NoSigs: true})
	if err != nil {
		return nil, err
	}
	srv.Start()
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	if !srv.ReadyForConnections(30 * time.Second) {
		return nil, errors.New("embedded nats: not ready")
	}
	return baselineOn(ctx, func() (*nats.Conn, error) { return nats.Connect("", nats.InProcessServer(srv)) }, "BENCH_BASELINE", n)
}

// baselineReal runs the baseline on a NATS server at url, on a stream of
// its own that it deletes after.
func baselineReal(ctx context.Context, url string, n int) (*baseline, error) {
	stream := fmt.Sprintf("BENCH_BASELINE_%d", time.Now().UnixNano())
	return baselineOn(ctx, func() (*nats.Conn, error) { return nats.Connect(url) }, stream, n)
}

func baselineOn(ctx context.Context, connect func() (*nats.Conn, error), stream string, n int) (*baseline, error) {
	conns := make([]*nats.Conn, 1+baselineConsumers)
	for i := range conns {
		nc, err := connect()
		if err != nil {
			return nil, fmt.Errorf("baseline: connect: %w", err)
		}
		defer nc.Close()
		conns[i] = nc
	}
	js, err := jetstream.New(conns[0])
	if err != nil {
		return nil, err
	}
	subject := "bench." + stream
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: stream, Subjects: []string{subject + ".>"}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute,
	}); err != nil {
		return nil, fmt.Errorf("baseline: create stream: %w", err)
	}
	defer js.DeleteStream(context.WithoutCancel(ctx), stream)
	if _, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable: "bench", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second, MaxDeliver: -1,
	}); err != nil {
		return nil, fmt.Errorf("baseline: create consumer: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var acked atomic.Int64
	done := make(chan struct{})
	var doneOnce sync.Once
	errs := make(chan error, 1+baselineConsumers)
	start := time.Now()
	for _, nc := range conns[1:] {
		go func() {
			errs <- consumeBaseline(ctx, nc, stream, n, &acked, func() { doneOnce.Do(func() { close(done) }) })
		}()
	}
	var published time.Duration
	go func() {
		for i := range n {
			msg := nats.NewMsg(subject + ".chart_data")
			msg.Data = jobPayload(i + 1)
			if _, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(jobMsgID(i)), jetstream.WithExpectStream(stream)); err != nil {
				errs <- fmt.Errorf("baseline: publish: %w", err)
				return
			}
		}
		published = time.Since(start)
		errs <- nil
	}()
	for range 1 + baselineConsumers {
		if err := <-errs; err != nil {
			return nil, err
		}
	}
	<-done
	return &baseline{n: n, publish: published, wall: time.Since(start)}, nil
}

// consumeBaseline pulls and acks until every message is acked.
func consumeBaseline(ctx context.Context, nc *nats.Conn, stream string, n int, acked *atomic.Int64, finished func()) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	cons, err := js.Consumer(ctx, stream, "bench")
	if err != nil {
		return fmt.Errorf("baseline: consumer: %w", err)
	}
	for acked.Load() < int64(n) {
		if ctx.Err() != nil {
			return fmt.Errorf("baseline: %d of %d messages acked: %w", acked.Load(), n, ctx.Err())
		}
		batch, err := cons.Fetch(baselineBatch, jetstream.FetchMaxWait(200*time.Millisecond))
		if err != nil {
			return fmt.Errorf("baseline: fetch: %w", err)
		}
		var wg sync.WaitGroup
		for m := range batch.Messages() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := m.DoubleAck(ctx); err == nil && acked.Add(1) == int64(n) {
					finished()
				}
			}()
		}
		wg.Wait()
	}
	finished()
	return nil
}
