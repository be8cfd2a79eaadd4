package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind says what produced a message.
type Kind string

// The kinds of message.
const (
	KindAlert  Kind = "alert"
	KindReport Kind = "report"
)

// State is what a message announces. It is part of the idempotency key:
// an alert that fires, resolves and fires again on later ticks sends three
// messages, but one tick's firing is sent once.
type State string

// The states of a message.
const (
	StateFiring   State = "firing"
	StateResolved State = "resolved"
	StateReport   State = "report"
	StateTest     State = "test" // bic alerts test: delivered, never deduplicated against real ticks
)

// Message is what is delivered to every channel of an alert or a report.
type Message struct {
	Kind  Kind
	Name  string // the alert's or report's name
	Env   string // the environment, so that a preview's alerts are told apart
	Title string // the subject line and the Slack header
	// Text is the plain summary, e.g. "revenue_drop is firing: revenue fell
	// 23.4% (€10,234 vs €13,360) for the week of 2026-11-23".
	Text     string
	State    State
	Tick     time.Time // the schedule tick that produced the message
	Value    *float64  // the metric's value, when there is one
	Previous *float64  // the previous period's value, for a change condition
	URL      string    // the dashboard or chart, when there is a link
	Images   []Attachment
	Files    []Attachment
	// IdempotencyKey names the delivery: the same key is never sent twice
	// to one channel by Deliver, and receivers see it to dedupe themselves.
	// Key builds it from (env, kind, name, tick, state).
	IdempotencyKey string
}

// Attachment is an image or a file carried by a message.
type Attachment struct {
	Name        string // a file name, e.g. revenue.png
	ContentType string // e.g. image/png, text/csv
	Data        []byte
	// URL is a signed link to the uploaded bytes; receivers that can fetch
	// (webhook, Slack) get the link instead of the bytes. May be empty.
	URL string
}

// Key is the idempotency key of one tick's message: the alert or report,
// the tick (UTC, to the second) and the state, within an environment.
func Key(env string, kind Kind, name string, tick time.Time, state State) string {
	return fmt.Sprintf("%s/%s/%s/%s/%s", env, kind, name, tick.UTC().Format(time.RFC3339), state)
}

// ErrInvalidMessage marks a message that cannot be delivered as it is.
var ErrInvalidMessage = errors.New("notify: invalid message")

// Validate reports what a message lacks before anything is sent.
func (m Message) Validate() error {
	var missing []string
	if m.Kind != KindAlert && m.Kind != KindReport {
		missing = append(missing, fmt.Sprintf("kind %q is not alert or report", m.Kind))
	}
	if m.Name == "" {
		missing = append(missing, "no name")
	}
	if m.IdempotencyKey == "" {
		missing = append(missing, "no idempotency key")
	}
	for _, a := range append(append([]Attachment(nil), m.Images...), m.Files...) {
		if a.Name == "" {
			missing = append(missing, "an attachment has no name")
			break
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidMessage, strings.Join(missing, ", "))
	}
	return nil
}

// title is the message's title, or one made of its name and state.
func (m Message) title() string {
	if m.Title != "" {
		return m.Title
	}
	switch m.State {
	case StateFiring, StateResolved:
		return fmt.Sprintf("%s is %s", m.Name, m.State)
	case StateTest:
		return fmt.Sprintf("%s (test)", m.Name)
	default:
		return m.Name
	}
}

// keyHash is a short, stable stand-in for the idempotency key where its
// characters are not allowed, such as a Message-ID.
func (m Message) keyHash() string {
	sum := sha256.Sum256([]byte(m.IdempotencyKey))
	return hex.EncodeToString(sum[:16])
}
