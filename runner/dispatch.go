package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/bic-dev/bic/publish/metadata"
)

// Publisher puts job messages on the work queue (runner/queue's Queue).
type Publisher interface {
	Publish(ctx context.Context, msgID, kind string, data []byte) (duplicate bool, err error)
}

// message is a job message's body: the job row to run. Everything else the
// runner reads from the row, so a message can never disagree with it.
type message struct {
	Job          int64     `json:"job"`
	DispatchedAt time.Time `json:"dispatched_at"`
}

// MessageID is a job row's identity on the queue: its revision, key and
// attempt. JetStream drops a re-send of the same attempt inside its
// duplicate window (a dispatcher that died between publishing and marking
// the row); a retry after a failure is a new attempt, and the same work
// for another revision or environment is another message, which the
// input-key claim de-duplicates instead, so no row waits forever on a
// message that was dropped.
func MessageID(j metadata.JobRow) string {
	return fmt.Sprintf("%d/%s/%d", j.RevisionID, j.Key, j.Attempts)
}

// Dispatcher moves runnable job rows to the work queue: claim a batch (a
// lease, so two dispatchers never take the same rows, and rows whose
// dispatcher died become claimable again), publish each, mark them
// dispatched.
type Dispatcher struct {
	Store *metadata.Store
	Queue Publisher
	Log   *slog.Logger
	// Batch is how many rows one round claims (default 500); Lease how
	// long they stay claimed before another dispatcher may take them
	// (default 30 s, below JetStream's 2-minute duplicate window, so a
	// re-send after a crash is dropped as a duplicate).
	Batch int
	Lease time.Duration
	// Interval is the pause between rounds that found nothing (default
	// 100 ms).
	Interval time.Duration
	// Now is the clock of dispatched_at (default time.Now).
	Now func() time.Time
}

func (d *Dispatcher) defaults() {
	if d.Batch <= 0 {
		d.Batch = 500
	}
	if d.Lease <= 0 {
		d.Lease = 30 * time.Second
	}
	if d.Interval <= 0 {
		d.Interval = 100 * time.Millisecond
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
}

// DispatchOnce runs one round and returns how many jobs it put on the
// queue. A publish that fails leaves its row claimed until the lease ends,
// then another round sends it again.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (int, error) {
	d.defaults()
	jobs, err := d.Store.Claim(ctx, d.Batch, d.Lease)
	if err != nil {
		return 0, err
	}
	sent := make([]metadata.JobRow, 0, len(jobs))
	var firstErr error
	for _, j := range jobs {
		body, _ := json.Marshal(message{Job: j.ID, DispatchedAt: d.Now().UTC()})
		if _, err := d.Queue.Publish(ctx, MessageID(j), string(j.Kind), body); err != nil {
			firstErr = fmt.Errorf("dispatch job %s: %w", j.Key, err)
			break
		}
		sent = append(sent, j)
	}
	if len(sent) > 0 {
		if err := d.Store.MarkDispatched(ctx, sent...); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return len(sent), firstErr
}

// Run dispatches until ctx ends, pausing between rounds that found
// nothing to send. Errors are logged and retried: a lost database or
// NATS connection must not stop a runner.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.defaults()
	for {
		n, err := d.DispatchOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			d.Log.Warn("dispatch", "err", err)
		}
		if n == d.Batch {
			continue // more may be waiting
		}
		wait := d.Interval
		if err != nil {
			wait = time.Second
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}
