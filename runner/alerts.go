package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/compiler/query"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/runner/alert"
	"github.com/bic-dev/bic/runner/notify"
	"github.com/bic-dev/bic/runner/queue"
	"github.com/bic-dev/bic/runner/render"
	"github.com/bic-dev/bic/runner/result"
	"github.com/bic-dev/bic/runner/schedule"
)

// AlertValues computes alert name's metric on the warehouse for the last
// complete period before at, and for the period before that: nil for a
// period with no data (no rows, or a NULL aggregate).
func AlertValues(ctx context.Context, open Opener, m *compiler.Manifest, name string, at time.Time) (current, previous *float64, err error) {
	q, err := query.PlanAlert(m, name, at)
	if err != nil {
		return nil, nil, err
	}
	err = RunChart(ctx, open, m, q, func(rows result.Rows) error {
		for rows.Next() {
			v := rows.Values()
			if len(v) < 2 {
				continue
			}
			f, ok := number(v[1])
			if !ok {
				continue
			}
			switch v[0] {
			case "current":
				current = &f
			case "previous":
				previous = &f
			}
		}
		return rows.Err()
	})
	return current, previous, err
}

// number reads a metric's value as the warehouses return it.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case nil:
		return 0, false
	case float64:
		return x, !math.IsNaN(x)
	case float32:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case int:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	case fmt.Stringer: // decimals
		f, err := strconv.ParseFloat(x.String(), 64)
		return f, err == nil
	}
	return 0, false
}

// AlertOutcome is one evaluation of an alert: what was observed and what
// it leads to from the alert's recorded state.
type AlertOutcome struct {
	Current, Previous *float64
	Observation       alert.Observation
	From, To          alert.State
	Notice            alert.Notice
}

// EvaluateAlert evaluates alert name of m at tick against its state st
// (the zero state for an alert never evaluated) and now, recording
// nothing: bic alerts test shows it, the scheduled handler records it.
func (w *Worker) EvaluateAlert(ctx context.Context, m *compiler.Manifest, name string, tick time.Time, st metadata.AlertState, now time.Time) (AlertOutcome, error) {
	w.init()
	a, ok := m.Alert(name)
	if !ok {
		return AlertOutcome{}, fmt.Errorf("no alert %q", name)
	}
	cur, prev, err := AlertValues(ctx, w.pool, m, name, tick)
	if err != nil {
		return AlertOutcome{}, err
	}
	w.queries.Add(1)
	return alertOutcome(a.Spec, cur, prev, st, now)
}

// alertOutcome is where an alert's values lead from its state st at now.
func alertOutcome(a compiler.Alert, cur, prev *float64, st metadata.AlertState, now time.Time) (AlertOutcome, error) {
	from, err := alert.ParseState(st.State)
	if err != nil {
		return AlertOutcome{}, err
	}
	cooldown, _ := compiler.ParseDuration(a.Cooldown) // checked by the compiler
	obs := alert.Observe(a.Condition, cur, prev)
	to, notice := alert.Next(from, obs, cooldown, now, st.LastNotifiedAt)
	return AlertOutcome{Current: cur, Previous: prev, Observation: obs, From: from, To: to, Notice: notice}, nil
}

// handleTick runs a schedule's tick (runner/schedule): an alert's
// evaluation, a report's delivery, a dataset's refresh. Each is done once
// per tick however often the message arrives: the tick is marked done in
// the metadata DB, an alert's evaluation is recorded once per tick, and
// each notification is in the delivery ledger before the message is
// acknowledged.
func (w *Worker) handleTick(ctx context.Context, qm *queue.Msg) {
	msg, err := schedule.DecodeMessage(qm.Data())
	if err != nil {
		w.Log.Warn("dropping a schedule message", "id", qm.ID(), "err", err)
		_ = qm.Drop(err.Error())
		return
	}
	log := w.Log.With("env", msg.Env, msg.Kind, msg.Name, "tick", msg.Tick)
	if t, ok, err := w.Store.TickStatus(ctx, msg.Env, msg.Kind, msg.Name, msg.Tick); err == nil && ok && !t.DoneAt.IsZero() {
		_ = qm.Ack(ctx) // done before: a redelivery
		return
	}
	stop := qm.KeepAlive(ctx)
	err = w.runTick(ctx, msg)
	stop()
	var later errRetryLater
	switch {
	case errors.As(err, &later):
		_ = qm.Retry(later.after)
		return
	case err != nil:
		log.Warn("schedule tick failed; retrying", "err", err)
		_ = qm.Retry(w.Backoff(int(qm.Delivered())))
		return
	}
	if w.AfterTick != nil {
		w.AfterTick(msg.Kind, msg.Name) // the crash tests kill the runner here
	}
	if err := w.Store.MarkTickDone(ctx, msg.Env, msg.Kind, msg.Name, msg.Tick); err != nil {
		log.Warn("mark tick done", "err", err)
		_ = qm.Retry(time.Second)
		return
	}
	_ = qm.Ack(ctx)
}

// errRetryLater asks for the message again after a while, without
// counting as a failure: another runner is sending the same notification.
type errRetryLater struct{ after time.Duration }

func (e errRetryLater) Error() string { return "retry later" }

func (w *Worker) runTick(ctx context.Context, msg schedule.Message) error {
	m, err := w.Store.Manifest(ctx, msg.Env, msg.Revision)
	if err != nil {
		return err
	}
	switch msg.Kind {
	case schedule.KindAlert:
		return w.alertTick(ctx, m, msg)
	case schedule.KindReport:
		return w.reportTick(ctx, m, msg)
	case schedule.KindRefresh:
		// A new release of the live revision: publish recomputes, through
		// the cache, every state whose data the tick made stale.
		return w.republish(ctx, m, metadata.JobRow{Env: msg.Env, Revision: msg.Revision, AsOf: msg.Tick})
	}
	return nil
}

// alertTick evaluates an alert at its tick, records the evaluation and,
// when it fires, resolves or reminds (and the environment is not a dry
// run), notifies its channels with the image of its chart.
func (w *Worker) alertTick(ctx context.Context, m *compiler.Manifest, msg schedule.Message) error {
	ao, ok := m.Alert(msg.Name)
	if !ok {
		return fmt.Errorf("no alert %q in revision %d", msg.Name, msg.Revision)
	}
	a := ao.Spec
	// The tick's values are asked once; only the state they lead from may
	// change under a concurrent evaluation.
	cur, prev, err := AlertValues(ctx, w.pool, m, msg.Name, msg.Tick)
	if err != nil {
		return err
	}
	w.queries.Add(1)
	st, err := w.Store.AlertState(ctx, msg.Env, msg.Name)
	if err != nil {
		return err
	}
	for {
		// Cooldowns count in ticks (see RecordEvaluation), so "now" is the tick.
		out, err := alertOutcome(a, cur, prev, st, msg.Tick)
		if err != nil {
			return err
		}
		rec, err := w.Store.RecordEvaluation(ctx, msg.Env, msg.Name, metadata.Evaluation{
			At: w.Now(), Tick: msg.Tick, State: string(out.To), Value: out.Current, Previous: out.Previous,
			Message: out.Observation.Text, Notify: out.Notice != alert.None, DryRun: msg.DryRun, Since: st.Tick,
		})
		if errors.Is(err, metadata.ErrAlertStateChanged) {
			if st, err = w.Store.AlertState(ctx, msg.Env, msg.Name); err != nil {
				return err
			}
			if st.Tick.After(msg.Tick) {
				return nil // a later tick was evaluated first: this one is moot
			}
			continue
		}
		if err != nil {
			return err
		}
		if !rec.Notify || rec.DryRun {
			return nil
		}
		// The notice is recomputed from the recorded evaluation, which a
		// redelivery returns unchanged.
		state := notify.StateFiring
		if rec.State == string(alert.OK) {
			state = notify.StateResolved
		}
		nm := notify.Message{Kind: notify.KindAlert, Name: msg.Name, Env: msg.Env, State: state, Tick: msg.Tick,
			Title: alertTitle(a, state, rec.State == string(alert.NoData)), Text: rec.Message, Value: rec.Value, Previous: rec.Previous,
			IdempotencyKey: notify.Key(msg.Env, notify.KindAlert, msg.Name, msg.Tick, state)}
		if a.Image != "" {
			dash, _, _ := strings.Cut(a.Image, "/")
			nm.URL = w.pageURL(msg.Env, dash)
		}
		if state == notify.StateFiring && a.Image != "" {
			if img, err := w.chartImage(ctx, msg.Env, a.Image); err == nil {
				nm.Images = append(nm.Images, img)
			} else {
				// The notification goes without it, and says so.
				nm.Text += fmt.Sprintf(" (The picture of %s could not be drawn: %v)", a.Image, err)
			}
		}
		return w.deliver(ctx, m, a.Notify, nm)
	}
}

func alertTitle(a compiler.Alert, state notify.State, noData bool) string {
	switch {
	case state == notify.StateResolved:
		return "Resolved: " + a.Name
	case noData && !a.Condition.NoData:
		return a.Name + " has no data"
	}
	if a.Description != "" {
		return a.Name + ": " + a.Description
	}
	return a.Name + " is firing"
}

// errNoBrowser is why a runner without Chromium sends a notification
// without its picture.
var errNoBrowser = errors.New("no browser to draw it (install Chromium or set BIC_CHROME)")

// The size of a chart's picture in a notification: drawn alone, at twice
// the pixels, sharp in a mail or a chat.
const (
	chartPictureWidth  = 800
	chartPictureHeight = 450
	chartPictureScale  = 2
)

// chartImage draws DASHBOARD/CHART from env's live release.
func (w *Worker) chartImage(ctx context.Context, env, ref string) (notify.Attachment, error) {
	if w.Renderer == nil {
		return notify.Attachment{}, errNoBrowser
	}
	rel, key, err := release.Current(ctx, w.Storage, env)
	if err != nil {
		return notify.Attachment{}, err
	}
	dash, chart, _ := strings.Cut(ref, "/")
	res, err := w.Renderer.Render(ctx, render.Request{Release: rel, ReleaseKey: key.Release, Dashboard: dash, Chart: chart, Width: chartPictureWidth, Height: chartPictureHeight, Scale: chartPictureScale})
	if err != nil {
		return notify.Attachment{}, err
	}
	return notify.Attachment{Name: dash + "-" + chart + ".png", ContentType: "image/png", Data: res.PNG}, nil
}

// deliver sends msg to every channel through the delivery ledger in the
// metadata DB, so that a channel is sent once per key however often the
// tick's message arrives. A channel that failed is recorded, visible in
// bic status, and not retried by the message: retrying is the notifier's.
func (w *Worker) deliver(ctx context.Context, m *compiler.Manifest, to []compiler.Notify, msg notify.Message) error {
	lookup := w.Env
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	var channels []notify.Channel
	var bad []string
	for _, n := range to {
		ch, err := notify.ChannelFromNotify(n, lookup)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		channels = append(channels, ch)
	}
	for _, b := range bad {
		w.Log.Warn("a channel cannot be sent to", "env", msg.Env, "name", msg.Name, "err", b)
	}
	cfg := w.Notify
	if cfg == nil {
		cfg = &notify.Config{}
	}
	w.linkImages(ctx, cfg, &msg)
	rep, err := cfg.Deliver(ctx, ledger{w.Store}, channels, msg)
	if errors.Is(err, errInProgress) {
		return errRetryLater{after: 5 * time.Second}
	}
	if err != nil {
		return err
	}
	for _, d := range rep.Deliveries {
		if d.Outcome == notify.Failed {
			w.Log.Warn("notification failed", "env", msg.Env, "name", msg.Name, "channel", d.Channel, "attempts", d.Attempts, "reason", d.Reason)
		}
	}
	return nil
}

// errInProgress is the ledger's answer while another runner sends the
// same notification.
var errInProgress = errors.New("another runner is sending this notification")

// ledger is notify.Ledger on the metadata DB's deliveries.
type ledger struct{ st *metadata.Store }

func (l ledger) Begin(ctx context.Context, key, channel string) (bool, error) {
	done, err := l.st.BeginDelivery(ctx, key, channel)
	if errors.Is(err, metadata.ErrDeliveryInProgress) {
		return false, fmt.Errorf("%w: %w", errInProgress, err)
	}
	return done, err
}

func (l ledger) Done(ctx context.Context, key, channel string, d notify.Delivery) error {
	status := metadata.DeliverySent
	if d.Outcome == notify.Failed {
		status = metadata.DeliveryFailed
	}
	return l.st.FinishDelivery(ctx, key, channel, status, d.Attempts, d.Reason)
}
