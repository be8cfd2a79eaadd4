package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Msg is one delivery of a queued message to a handler.
type Msg struct {
	msg     jetstream.Msg
	kind    string
	ackWait time.Duration
	nc      *nats.Conn // for the server's version
}

// Data is the message's body.
func (m *Msg) Data() []byte { return m.msg.Data() }

// Kind is the kind it was published with (its subject's last token).
func (m *Msg) Kind() string { return m.kind }

// ID is the message id it was published with.
func (m *Msg) ID() string { return m.msg.Headers().Get(jetstream.MsgIDHeader) }

// Delivered counts the deliveries of this message, this one included: 1 on
// the first. Handlers use it to give up on a message that keeps failing.
func (m *Msg) Delivered() uint64 {
	md, err := m.msg.Metadata()
	if err != nil {
		return 0
	}
	return md.NumDelivered
}

// InProgress restarts the ack wait: the handler is still working.
func (m *Msg) InProgress() error {
	if err := m.msg.InProgress(); err != nil {
		return fmt.Errorf("queue: in progress %q: %w", m.ID(), err)
	}
	return nil
}

// Ack reports the message done and waits for JetStream to confirm it, so
// that a nil error means it will not be delivered again.
func (m *Msg) Ack(ctx context.Context) error {
	if err := m.msg.DoubleAck(ctx); err != nil {
		return fmt.Errorf("queue: ack %q: %w", m.ID(), err)
	}
	return nil
}

// Retry hands the message back to be delivered again after delay.
func (m *Msg) Retry(delay time.Duration) error {
	if err := m.msg.NakWithDelay(delay); err != nil {
		return fmt.Errorf("queue: retry %q: %w", m.ID(), err)
	}
	return nil
}

// Drop removes the message for good, whatever its deliveries; reason goes
// to JetStream's advisory for whoever monitors it (on servers from 2.10.4,
// which understand it; older ones are sent a plain Term, since they would
// ignore a Term with a reason and deliver the message again).
func (m *Msg) Drop(reason string) error {
	term := m.msg.Term
	if reason != "" && termTakesReason(m.nc.ConnectedServerVersion()) {
		term = func() error { return m.msg.TermWithReason(reason) }
	}
	if err := term(); err != nil {
		return fmt.Errorf("queue: drop %q: %w", m.ID(), err)
	}
	return nil
}

// KeepAlive reports progress every third of the ack wait until ctx is
// done, the message is acked, retried or dropped, or stop is called, so a
// job may run longer than the ack wait without being delivered to another
// worker meanwhile. stop waits for the reporting to end.
func (m *Msg) KeepAlive(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(max(m.ackWait/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				err := m.msg.InProgress()
				if errors.Is(err, jetstream.ErrMsgAlreadyAckd) || errors.Is(err, nats.ErrConnectionClosed) {
					return
				}
				// Other errors (a reconnect) pass; the next tick tries again.
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// termTakesReason reports whether a server of this version (major.minor.patch)
// acts on a Term that carries a reason.
func termTakesReason(version string) bool {
	var major, minor, patch int
	if _, err := fmt.Sscanf(version, "%d.%d.%d", &major, &minor, &patch); err != nil {
		return false
	}
	switch {
	case major != 2:
		return major > 2
	case minor != 10:
		return minor > 10
	default:
		return patch >= 4
	}
}
