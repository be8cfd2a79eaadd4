package queue

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// EmbeddedURL is the URL that runs a NATS server inside this process.
const EmbeddedURL = "embedded"

// Defaults for the zero values of Options.
const (
	DefaultDir             = ".bic/nats"
	DefaultStream          = "BIC_JOBS"
	DefaultSubjectPrefix   = "bic.jobs"
	DefaultConsumer        = "bic-runners"
	DefaultAckWait         = 30 * time.Second
	DefaultDuplicateWindow = 2 * time.Minute
	DefaultShutdownGrace   = 20 * time.Second
)

// Options configure a Queue. The zero value is valid: every empty field
// takes its Default.
type Options struct {
	// Dir holds the embedded server's JetStream files; unused for a real
	// server.
	Dir string
	// Stream is the JetStream stream's name.
	Stream string
	// SubjectPrefix is prepended to a message's kind: <prefix>.<kind>. The
	// stream owns every subject under it.
	SubjectPrefix string
	// Consumer is the durable consumer that all workers share.
	Consumer string
	// Replicas is the stream's replica count on a JetStream cluster
	// (default 1; the embedded server has one node).
	Replicas int
	// AckWait is how long a delivered message may go without an ack or a
	// progress report before JetStream delivers it again.
	AckWait time.Duration
	// DuplicateWindow is how long JetStream remembers message ids.
	DuplicateWindow time.Duration
	// ShutdownGrace is how long handlers keep their context once Consume's
	// context is done.
	ShutdownGrace time.Duration
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
}

// Validate reports the first field that cannot work.
func (o Options) Validate() error {
	var errs []error
	if o.Stream != "" && !validName(o.Stream) {
		errs = append(errs, fmt.Errorf("stream name %q: want letters, digits, '-' or '_'", o.Stream))
	}
	if o.Consumer != "" && !validName(o.Consumer) {
		errs = append(errs, fmt.Errorf("consumer name %q: want letters, digits, '-' or '_'", o.Consumer))
	}
	if o.SubjectPrefix != "" {
		for _, tok := range strings.Split(o.SubjectPrefix, ".") {
			if !validToken(tok) {
				errs = append(errs, fmt.Errorf("subject prefix %q: want dot-separated tokens without wildcards or spaces", o.SubjectPrefix))
				break
			}
		}
	}
	if o.Replicas < 0 {
		errs = append(errs, fmt.Errorf("replicas %d: must not be negative", o.Replicas))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ack wait", o.AckWait}, {"duplicate window", o.DuplicateWindow}, {"shutdown grace", o.ShutdownGrace}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %s: must not be negative", d.name, d.v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("queue: options: %w", err)
	}
	return nil
}

// withDefaults fills the empty fields.
func (o Options) withDefaults() Options {
	if o.Dir == "" {
		o.Dir = DefaultDir
	}
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = DefaultSubjectPrefix
	}
	if o.Consumer == "" {
		o.Consumer = DefaultConsumer
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.AckWait == 0 {
		o.AckWait = DefaultAckWait
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = DefaultDuplicateWindow
	}
	if o.ShutdownGrace == 0 {
		o.ShutdownGrace = DefaultShutdownGrace
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// validName reports whether s may name a stream or a consumer.
func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return s != ""
}

// validToken reports whether s may be one token of a subject: no
// separators, wildcards or white space.
func validToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, ".*> \t\r\n")
}
