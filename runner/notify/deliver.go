package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Notifier delivers a message to one channel, retrying as its Retry
// allows; a failure is an *Error when the channel was tried.
type Notifier interface {
	Notify(ctx context.Context, m Message) error
}

// Ledger records deliveries, so that a message redelivered to a runner is
// not sent twice. The runner keeps it in the metadata DB; Deliver calls it
// from one goroutine per channel, so it must be safe for concurrent use.
type Ledger interface {
	// Begin reports whether key was already delivered to channel (a Done
	// with Outcome Sent); a failed delivery may be tried again.
	Begin(ctx context.Context, key, channel string) (delivered bool, err error)
	// Done records one channel's outcome, before the caller acks.
	Done(ctx context.Context, key, channel string, d Delivery) error
}

// Outcome is what happened to one channel.
type Outcome int

// The outcomes.
const (
	Sent    Outcome = iota + 1 // the receiver accepted the message
	Failed                     // retries ran out, or the receiver refused
	Skipped                    // the ledger says it was sent before: nothing was sent
)

func (o Outcome) String() string {
	switch o {
	case Sent:
		return "sent"
	case Failed:
		return "failed"
	case Skipped:
		return "skipped"
	default:
		return fmt.Sprintf("Outcome(%d)", int(o))
	}
}

// Delivery is one channel's outcome, as the ledger records it and bic
// status shows it.
type Delivery struct {
	Channel  string // Target.ID
	Outcome  Outcome
	Attempts int    // tries made (1 for a notifier of another package that succeeded)
	Status   int    // the last HTTP status or SMTP code of a failure
	Reason   string // why it failed, redacted; empty unless Failed
	At       time.Time
}

// counted is a notifier that says how many attempts a send took, as this
// package's do.
type counted interface {
	notify(ctx context.Context, m Message) (attempts int, err error)
}

// Target is a channel with its notifier.
type Target struct {
	ID       string // the channel's name in the ledger, without secrets: Channel.ID
	Notifier Notifier
}

// Report is the outcome of one Deliver, a Delivery per target in order.
type Report struct {
	Key        string
	Deliveries []Delivery
}

// Failed are the deliveries that failed.
func (r Report) Failed() []Delivery {
	var out []Delivery
	for _, d := range r.Deliveries {
		if d.Outcome == Failed {
			out = append(out, d)
		}
	}
	return out
}

// Err summarises the failed deliveries; nil when none failed.
func (r Report) Err() error {
	var errs []error
	for _, d := range r.Failed() {
		errs = append(errs, fmt.Errorf("%s: %s", d.Channel, d.Reason))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("notify %s: %w", r.Key, errors.Join(errs...))
}

// ErrLedger marks a failure to read or write the ledger: the caller must
// not ack, so that the message comes back.
var ErrLedger = errors.New("notify: ledger")

// ledgerTimeout bounds recording an outcome once the caller's context is
// done: a message that was sent is recorded even when the job is cancelled.
const ledgerTimeout = 10 * time.Second

// Deliver sends msg to every target that the ledger does not already hold
// as delivered, in parallel, and records each outcome. One target failing
// does not stop the others: failures are in the report (see Report.Err),
// recorded as Failed with their redacted reason. The error is for the
// ledger only (ErrLedger): when it is not nil, the caller does not ack.
//
// A delivery is recorded after the receiver accepted it and before the
// caller acks the job, so a runner killed after Done does not send again
// on redelivery. The window that remains: killed after the receiver
// accepted but before Done was written, a redelivery sends again; the
// idempotency key (X-Bic-Idempotency-Key, the email's Message-ID) lets a
// receiver drop that duplicate.
func Deliver(ctx context.Context, ledger Ledger, targets []Target, msg Message) (Report, error) {
	if err := msg.Validate(); err != nil {
		return Report{}, err
	}
	rep := Report{Key: msg.IdempotencyKey, Deliveries: make([]Delivery, len(targets))}
	errs := make([]error, len(targets))
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i, t := range targets {
		if seen[t.ID] {
			// The same channel listed twice gets the message once.
			rep.Deliveries[i] = Delivery{Channel: t.ID, Outcome: Skipped, At: time.Now()}
			continue
		}
		seen[t.ID] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep.Deliveries[i], errs[i] = deliverOne(ctx, ledger, t, msg)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("%w: %w", ErrLedger, err)
	}
	return rep, nil
}

func deliverOne(ctx context.Context, ledger Ledger, t Target, msg Message) (Delivery, error) {
	key := msg.IdempotencyKey
	done, err := ledger.Begin(ctx, key, t.ID)
	if err != nil {
		err = fmt.Errorf("begin %s for %s: %w", key, t.ID, err)
		return Delivery{Channel: t.ID, Outcome: Failed, Reason: err.Error(), At: time.Now()}, err
	}
	if done {
		return Delivery{Channel: t.ID, Outcome: Skipped, At: time.Now()}, nil
	}
	d := Delivery{Channel: t.ID, Outcome: Sent}
	if c, ok := t.Notifier.(counted); ok {
		d.Attempts, err = c.notify(ctx, msg)
	} else {
		d.Attempts, err = 1, t.Notifier.Notify(ctx, msg)
	}
	if err != nil {
		d.Outcome, d.Reason = Failed, err.Error()
		var ne *Error
		if errors.As(err, &ne) {
			d.Attempts, d.Status = ne.Attempts, ne.Status
		}
	}
	d.At = time.Now()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ledgerTimeout)
	defer cancel()
	if err := ledger.Done(rctx, key, t.ID, d); err != nil {
		return d, fmt.Errorf("record %s for %s (%s): %w", key, t.ID, d.Outcome, err)
	}
	return d, nil
}

// Config builds notifiers from channels: what the channels of the
// language do not say (the webhook signing key, the SMTP server) and what
// every notifier shares.
type Config struct {
	Options
	// WebhookSecret signs every webhook that has no secret of its own
	// (BIC_WEBHOOK_SECRET); empty: those are unsigned.
	WebhookSecret []byte
	// SMTP is the mail server (BIC_SMTP_URL); nil: email channels fail.
	SMTP *SMTPConfig
	// PublicURL is where viewers reach bic serve (BIC_PUBLIC_URL, such as
	// https://bic.example.com): messages link their dashboard there, and
	// with LinkSecret their pictures, which Slack can only show by URL.
	PublicURL string
	// LinkSecret signs the links to pictures (BIC_LINK_SECRET), which the
	// servers verify with the same secret; empty: no picture links.
	LinkSecret []byte
}

// ErrNoSMTP marks an email channel when no SMTP server is configured.
var ErrNoSMTP = errors.New("notify: email needs an SMTP server (BIC_SMTP_URL)")

// Notifier builds the notifier of one channel.
func (c Config) Notifier(ch Channel) (Notifier, error) {
	switch ch.Type {
	case TypeWebhook:
		secret := c.WebhookSecret
		if len(ch.Secret) > 0 {
			secret = ch.Secret
		}
		return NewWebhook(ch.URL, secret, c.Options)
	case TypeSlack:
		return NewSlack(ch.URL, ch.Channel, c.Options)
	case TypeEmail:
		if c.SMTP == nil {
			return nil, ErrNoSMTP
		}
		return NewEmail(*c.SMTP, ch.To, ch.Subject, c.Options)
	default:
		return nil, fmt.Errorf("notify: unknown channel type %q", ch.Type)
	}
}

// Targets builds a target per channel. A channel whose notifier cannot be
// built (no SMTP server, a bad URL) still gets a target, which fails with
// that reason: it is recorded like any failed delivery, and the other
// channels are sent.
func (c Config) Targets(channels []Channel) []Target {
	out := make([]Target, 0, len(channels))
	for _, ch := range channels {
		n, err := c.Notifier(ch)
		if err != nil {
			n = broken{&Error{Channel: ch.String(), Permanent: true, Err: err}}
		}
		out = append(out, Target{ID: ch.ID(), Notifier: n})
	}
	return out
}

// Deliver is Deliver with c's targets for channels.
func (c Config) Deliver(ctx context.Context, ledger Ledger, channels []Channel, msg Message) (Report, error) {
	return Deliver(ctx, ledger, c.Targets(channels), msg)
}

// broken is the notifier of a channel that could not be built.
type broken struct{ err error }

func (b broken) Notify(context.Context, Message) error { return b.err }
