package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
)

// The kinds of scheduled work: the queue message kinds, and schedule_ticks' kind.
const (
	KindAlert   = "alert"
	KindReport  = "report"
	KindRefresh = "refresh"
)

// DefaultInterval is how often Run ticks.
const DefaultInterval = 15 * time.Second

// DefaultRepublishAfter is how long a claimed tick may wait for its
// claimer to publish it before another Tick publishes it again. It is
// well inside JetStream's default duplicate window (2 minutes), so a slow
// claimer's publish and the re-publish are one message.
const DefaultRepublishAfter = 30 * time.Second

// Env is an environment whose live revision's objects are scheduled.
type Env struct {
	Name     string
	Revision int // the live revision
	Manifest *compiler.Manifest
}

// Source lists the environments to schedule, each with its live manifest.
type Source interface {
	Scheduled(ctx context.Context) ([]Env, error)
}

// Ledger is the claim ledger of ticks (metadata.Store's schedule_ticks).
type Ledger interface {
	LastTick(ctx context.Context, env, kind, name string) (time.Time, error)
	ClaimTick(ctx context.Context, t metadata.Tick) (won bool, err error)
	MarkTickEnqueued(ctx context.Context, env, kind, name string, tick time.Time) error
	PendingTicks(ctx context.Context, claimedBefore time.Time) ([]metadata.Tick, error)
}

// Store is what the scheduler reads and writes: Metadata makes one of a
// metadata.Store.
type Store interface {
	Source
	Ledger
}

// Publisher puts a message on the work queue (runner/queue.Queue).
type Publisher interface {
	Publish(ctx context.Context, msgID, kind string, data []byte) (duplicate bool, err error)
}

// Message is the body of a scheduled message, JSON.
type Message struct {
	Env      string    `json:"env"`
	Kind     string    `json:"kind"`
	Name     string    `json:"name"`
	Revision int       `json:"revision"`
	Tick     time.Time `json:"tick"`
	// DryRun: evaluate and record, send nothing (an environment that does
	// not run schedules, such as a preview).
	DryRun bool `json:"dry_run"`
}

// DecodeMessage reads a scheduled message's body.
func DecodeMessage(data []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(data, &m); err != nil {
		return Message{}, fmt.Errorf("schedule: decode message: %w", err)
	}
	if m.Env == "" || m.Name == "" || m.Tick.IsZero() || (m.Kind != KindAlert && m.Kind != KindReport && m.Kind != KindRefresh) {
		return Message{}, fmt.Errorf("schedule: message %q is not a scheduled tick", data)
	}
	return m, nil
}

// MsgID is the queue message id of a tick: <env>/<kind>/<name>/<tick in
// RFC 3339, UTC>. Every runner derives the same id, so JetStream keeps one
// message per tick within its duplicate window.
func MsgID(env, kind, name string, tick time.Time) string {
	return env + "/" + kind + "/" + name + "/" + tick.UTC().Format(time.RFC3339)
}

// Scheduler enqueues the due ticks of every scheduled object: each
// alert, each report, and each dataset with a refresh. Any number of
// runners run one each; a tick is enqueued once however many compute it:
//
//  1. Due says which tick an object runs now (its catch-up policy, the
//     latest tick claimed so far);
//  2. ClaimTick inserts the tick's row: one scheduler wins, the others
//     skip it (this holds across restarts and beyond the duplicate window);
//  3. the winner publishes the message (id MsgID) and only then marks the
//     row enqueued;
//  4. a claimed tick left unmarked for RepublishAfter (the winner's
//     publish failed, or it died) is published again by any Tick, with the
//     same id, so JetStream drops it if the first publish got through
//     after all.
//
// An environment that RunsSchedules gets its alerts, reports and
// refreshes; any other gets dry-run alerts and reports and no refreshes.
type Scheduler struct {
	Store Store
	Queue Publisher
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Interval between ticks of Run (DefaultInterval when 0).
	Interval time.Duration
	// RepublishAfter (DefaultRepublishAfter when 0).
	RepublishAfter time.Duration
	// Log (slog.Default when nil) hears of Run's failed ticks.
	Log *slog.Logger

	mu        sync.Mutex
	schedules map[string]Schedule
	// claimed is, per object (env, kind, name), the latest tick this
	// scheduler knows to be claimed: ticks only move forward, so while
	// none falls after it the store is not asked (one query per object and
	// Interval otherwise).
	claimed map[string]time.Time
}

func (s *Scheduler) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Run ticks every Interval until ctx is done, logging failed ticks.
func (s *Scheduler) Run(ctx context.Context) error {
	interval := s.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			log.Warn("schedule tick failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// due is one object's schedule in an environment.
type due struct {
	kind, name, spec, tz, catchup string
	dryRun                        bool
}

// objects are the scheduled objects of an environment.
func objects(e Env) []due {
	m := e.Manifest
	live := m.Project.RunsSchedules(e.Name)
	var out []due
	for _, a := range m.Alerts {
		out = append(out, due{KindAlert, a.Spec.Name, a.Spec.Schedule, a.Spec.Timezone, a.Spec.Catchup, !live})
	}
	for _, r := range m.Reports {
		out = append(out, due{KindReport, r.Spec.Name, r.Spec.Schedule, r.Spec.Timezone, r.Spec.Catchup, !live})
	}
	if live {
		for _, d := range m.Datasets {
			if d.Spec.Refresh != "" {
				out = append(out, due{KindRefresh, d.Spec.Name, d.Spec.Refresh, m.Project.Defaults.Timezone, d.Spec.Catchup, false})
			}
		}
	}
	return out
}

// Tick enqueues every tick due now, then re-publishes claimed ticks that
// were never enqueued. A failure with one object does not stop the
// others; the errors are returned together.
func (s *Scheduler) Tick(ctx context.Context) error {
	now := s.now()
	envs, err := s.Store.Scheduled(ctx)
	if err != nil {
		return fmt.Errorf("schedule: list environments: %w", err)
	}
	var errs []error
	for _, e := range envs {
		if e.Manifest == nil {
			continue
		}
		for _, o := range objects(e) {
			if err := s.enqueue(ctx, e, o, now); err != nil {
				errs = append(errs, err)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	if err := s.republish(ctx, now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Scheduler) enqueue(ctx context.Context, e Env, o due, now time.Time) error {
	sched, err := s.schedule(o.spec, o.tz)
	if err != nil {
		return fmt.Errorf("schedule %s %s/%s: %w", o.kind, e.Name, o.name, err)
	}
	// No tick after one known to be claimed means none after the latest
	// claimed, which is no earlier.
	id := e.Name + "\x00" + o.kind + "\x00" + o.name
	s.mu.Lock()
	known, ok := s.claimed[id]
	s.mu.Unlock()
	if ok {
		if _, due := Due(sched, known, now, o.catchup); !due {
			return nil
		}
	}
	last, err := s.Store.LastTick(ctx, e.Name, o.kind, o.name)
	if err != nil {
		return fmt.Errorf("schedule %s %s/%s: %w", o.kind, e.Name, o.name, err)
	}
	tick, ok := Due(sched, last, now, o.catchup)
	if !ok {
		s.remember(id, last)
		return nil
	}
	t := metadata.Tick{Env: e.Name, Kind: o.kind, Name: o.name, Tick: tick.UTC(), Revision: e.Revision, DryRun: o.dryRun}
	won, err := s.Store.ClaimTick(ctx, t)
	if err != nil {
		return err
	}
	s.remember(id, t.Tick) // claimed, by this scheduler or another
	if !won {
		return nil
	}
	return s.publish(ctx, t)
}

// remember records tick as claimed for object id, if it is the latest.
func (s *Scheduler) remember(id string, tick time.Time) {
	if tick.IsZero() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claimed == nil {
		s.claimed = map[string]time.Time{}
	}
	if tick.After(s.claimed[id]) {
		s.claimed[id] = tick
	}
}

// publish sends t's message and marks it enqueued. A failure leaves the
// claim unmarked, for republish.
func (s *Scheduler) publish(ctx context.Context, t metadata.Tick) error {
	body, err := json.Marshal(Message{Env: t.Env, Kind: t.Kind, Name: t.Name, Revision: t.Revision, Tick: t.Tick.UTC(), DryRun: t.DryRun})
	if err != nil {
		return err
	}
	if _, err := s.Queue.Publish(ctx, MsgID(t.Env, t.Kind, t.Name, t.Tick), t.Kind, body); err != nil {
		return fmt.Errorf("schedule %s %s/%s: %w", t.Kind, t.Env, t.Name, err)
	}
	return s.Store.MarkTickEnqueued(ctx, t.Env, t.Kind, t.Name, t.Tick)
}

func (s *Scheduler) republish(ctx context.Context, now time.Time) error {
	after := s.RepublishAfter
	if after <= 0 {
		after = DefaultRepublishAfter
	}
	pending, err := s.Store.PendingTicks(ctx, now.Add(-after))
	if err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	var errs []error
	for _, t := range pending {
		if err := s.publish(ctx, t); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// schedule parses spec in tz once per scheduler.
func (s *Scheduler) schedule(spec, tz string) (Schedule, error) {
	key := spec + "\x00" + tz
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc, ok := s.schedules[key]; ok {
		return sc, nil
	}
	sc, err := Parse(spec, tz)
	if err != nil {
		return Schedule{}, err
	}
	if s.schedules == nil {
		s.schedules = map[string]Schedule{}
	}
	s.schedules[key] = sc
	return sc, nil
}
