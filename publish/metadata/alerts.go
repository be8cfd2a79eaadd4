package metadata

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrAlertStateChanged is RecordEvaluation's answer when the alert's state
// is no longer the one the evaluation was computed from (another runner
// recorded a tick meanwhile): read the state again, and compute the
// transition again, or drop the evaluation when the state's tick is not
// older than its own.
var ErrAlertStateChanged = errors.New("the alert's state changed since it was read")

// AlertState is where an alert of an environment stands after its latest
// recorded evaluation. State is "" for an alert never evaluated.
type AlertState struct {
	Env             string
	Alert           string
	State           string // ok, firing or no_data (runner/alert's states)
	Value           *float64
	FiringSince     time.Time // zero unless firing
	LastEvaluatedAt time.Time
	LastNotifiedAt  time.Time
	Tick            time.Time // the tick of the latest evaluation
	DryRun          bool
}

// Evaluation is one evaluation of an alert, as bic alerts history lists it.
type Evaluation struct {
	At       time.Time
	Tick     time.Time // the schedule's tick; zero for one run by hand
	State    string    // the state after this evaluation
	Value    *float64  // the metric for the period; nil: no data
	Previous *float64  // the previous period's, for change conditions
	Message  string
	// Notify: this evaluation notifies (firing, resolved when State is ok,
	// no data, or a reminder after the cooldown). In a dry run nothing is
	// sent, but the evaluation still says it would have.
	Notify bool
	DryRun bool
	// Since is the Tick of the AlertState the transition was computed from
	// (zero for an alert never evaluated). RecordEvaluation refuses the
	// evaluation with ErrAlertStateChanged when the state moved on; it is
	// not stored.
	Since time.Time
}

// AlertState reads an alert's state; an alert never evaluated has State "".
func (s *Store) AlertState(ctx context.Context, env, alert string) (AlertState, error) {
	if s.noTables != nil {
		return AlertState{}, s.noTables
	}
	st, err := s.alertState(ctx, s.db, env, alert)
	if err != nil {
		return AlertState{}, fmt.Errorf("read state of alert %s/%s: %w", env, alert, err)
	}
	return st, nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func (s *Store) alertState(ctx context.Context, db queryRower, env, alert string) (AlertState, error) {
	st := AlertState{Env: env, Alert: alert}
	var value sql.NullFloat64
	var since, evaluated, notified, tick any
	err := db.QueryRowContext(ctx, s.dialect.rebind(`SELECT state, last_value, firing_since, last_evaluated_at, last_notified_at, tick, dry_run
		FROM alert_state WHERE env = ? AND alert = ?`), env, alert).Scan(&st.State, &value, &since, &evaluated, &notified, &tick, &st.DryRun)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return AlertState{}, err
	}
	if value.Valid {
		st.Value = &value.Float64
	}
	for _, c := range []struct {
		dst *time.Time
		v   any
	}{{&st.FiringSince, since}, {&st.LastEvaluatedAt, evaluated}, {&st.LastNotifiedAt, notified}, {&st.Tick, tick}} {
		if *c.dst, err = scanTime(c.v); err != nil {
			return AlertState{}, err
		}
	}
	return st, nil
}

// RecordEvaluation appends ev to the alert's history and moves its state,
// in one transaction. It is idempotent per tick: when the history holds an
// evaluation of ev.Tick already (a redelivered message), that evaluation
// is returned and nothing is written, so the caller notifies what was
// recorded, not what it computed again. ev.Since must be the Tick of the
// state ev was computed from, else ErrAlertStateChanged. An evaluation
// without a tick (a run by hand) is recorded in the history only.
func (s *Store) RecordEvaluation(ctx context.Context, env, alert string, ev Evaluation) (Evaluation, error) {
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	recorded := ev
	err := s.inEnvTx(ctx, env, func(tx *sql.Tx) error {
		if !ev.Tick.IsZero() {
			hist, err := s.history(ctx, tx, `WHERE env = ? AND alert = ? AND tick = ?`, env, alert, s.dialect.ts(ev.Tick))
			if err != nil {
				return err
			}
			if len(hist) > 0 {
				recorded = hist[0]
				return nil
			}
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO alert_history (env, alert, at, state, value, message, tick, previous, notified, dry_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			env, alert, s.dialect.ts(ev.At), ev.State, ev.Value, ev.Message, s.nullTS(ev.Tick), ev.Previous, ev.Notify, ev.DryRun); err != nil {
			return fmt.Errorf("append history: %w", err)
		}
		if ev.Tick.IsZero() {
			return nil
		}
		prev, err := s.alertState(ctx, tx, env, alert)
		if err != nil {
			return fmt.Errorf("read state: %w", err)
		}
		if !prev.Tick.Equal(ev.Since) {
			return ErrAlertStateChanged
		}
		firingSince := prev.FiringSince
		switch {
		case ev.State != "firing":
			firingSince = time.Time{}
		case prev.State != "firing":
			firingSince = ev.At
		}
		// A scheduled evaluation's notice counts from its tick, so a
		// cooldown of the schedule's period reminds at every tick however
		// late each one runs.
		notified := prev.LastNotifiedAt
		if ev.Notify {
			notified = cmp.Or(ev.Tick, ev.At)
		}
		_, err = s.exec(ctx, tx, `INSERT INTO alert_state (env, alert, state, last_value, firing_since, last_evaluated_at, last_notified_at, tick, dry_run)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (env, alert) DO UPDATE SET state = excluded.state, last_value = excluded.last_value, firing_since = excluded.firing_since,
				last_evaluated_at = excluded.last_evaluated_at, last_notified_at = excluded.last_notified_at, tick = excluded.tick, dry_run = excluded.dry_run`,
			env, alert, ev.State, ev.Value, s.nullTS(firingSince), s.dialect.ts(ev.At), s.nullTS(notified), s.dialect.ts(ev.Tick), ev.DryRun)
		if err != nil {
			return fmt.Errorf("update state: %w", err)
		}
		return nil
	})
	if err != nil {
		return Evaluation{}, fmt.Errorf("record evaluation of alert %s/%s: %w", env, alert, err)
	}
	recorded.Since = time.Time{}
	return recorded, nil
}

// AlertHistory lists an alert's evaluations, newest first, at most limit
// of them (all when limit <= 0).
func (s *Store) AlertHistory(ctx context.Context, env, alert string, limit int) ([]Evaluation, error) {
	if s.noTables != nil {
		return nil, s.noTables
	}
	where := `WHERE env = ? AND alert = ?`
	args := []any{env, alert}
	if limit > 0 {
		where += ` ORDER BY at DESC, id DESC LIMIT ?`
		args = append(args, limit)
	} else {
		where += ` ORDER BY at DESC, id DESC`
	}
	out, err := s.history(ctx, s.db, where, args...)
	if err != nil {
		return nil, fmt.Errorf("history of alert %s/%s: %w", env, alert, err)
	}
	return out, nil
}

func (s *Store) history(ctx context.Context, db queryer, where string, args ...any) ([]Evaluation, error) {
	rows, err := db.QueryContext(ctx, s.dialect.rebind(`SELECT at, tick, state, value, previous, message, notified, dry_run FROM alert_history `+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Evaluation
	for rows.Next() {
		var ev Evaluation
		var at, tick any
		var value, previous sql.NullFloat64
		if err := rows.Scan(&at, &tick, &ev.State, &value, &previous, &ev.Message, &ev.Notify, &ev.DryRun); err != nil {
			return nil, err
		}
		if ev.At, err = scanTime(at); err != nil {
			return nil, err
		}
		if ev.Tick, err = scanTime(tick); err != nil {
			return nil, err
		}
		if value.Valid {
			ev.Value = &value.Float64
		}
		if previous.Valid {
			ev.Previous = &previous.Float64
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// nullTS is a timestamp argument, NULL for the zero time.
func (s *Store) nullTS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.dialect.ts(t)
}

// Delivery statuses of the notifier's ledger.
const (
	DeliverySending = "sending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
)

// DeliveryLease is how long a delivery BeginDelivery handed out is the
// caller's alone; after it, another caller may take it over (its sender
// died). A send, with its retries, must end well within it.
const DeliveryLease = 2 * time.Minute

// ErrDeliveryInProgress is BeginDelivery's answer when another caller is
// sending the same notification to the channel, within its lease: retry
// the message later (it sees sent, or takes over a sender that died).
var ErrDeliveryInProgress = errors.New("the notification is being sent by another worker")

// BeginDelivery hands the caller the sending of key (one notification: an
// alert's tick, a report's tick) to channel, unless it was sent already
// (alreadyDelivered: skip the channel) or another caller is sending it
// (ErrDeliveryInProgress). A delivery that failed, or whose sender's lease
// ran out, is handed out again. A sender that dies after sending but
// before FinishDelivery makes the notification go out twice: the one
// case of at-least-once.
func (s *Store) BeginDelivery(ctx context.Context, key, channel string) (alreadyDelivered bool, err error) {
	if s.readOnly {
		return false, fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	now := s.now()
	res, err := s.db.ExecContext(ctx, s.dialect.rebind(`INSERT INTO deliveries (key, channel, status, attempts, error, at) VALUES (?, ?, ?, 0, '', ?)
		ON CONFLICT (key, channel) DO NOTHING`), key, channel, DeliverySending, s.dialect.ts(now))
	if err != nil {
		return false, fmt.Errorf("begin delivery %s to %s: %w", key, channel, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return false, nil
	}
	res, err = s.db.ExecContext(ctx, s.dialect.rebind(`UPDATE deliveries SET status = ?, at = ? WHERE key = ? AND channel = ?
		AND (status = ? OR (status = ? AND at < ?))`),
		DeliverySending, s.dialect.ts(now), key, channel, DeliveryFailed, DeliverySending, s.dialect.ts(now.Add(-DeliveryLease)))
	if err != nil {
		return false, fmt.Errorf("begin delivery %s to %s: %w", key, channel, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return false, nil
	}
	var status string
	if err := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT status FROM deliveries WHERE key = ? AND channel = ?`), key, channel).Scan(&status); err != nil {
		return false, fmt.Errorf("begin delivery %s to %s: %w", key, channel, err)
	}
	if status == DeliverySent {
		return true, nil
	}
	return false, fmt.Errorf("begin delivery %s to %s: %w", key, channel, ErrDeliveryInProgress)
}

// FinishDelivery records how sending key to channel ended: status sent or
// failed, after attempts tries, with the last error's text (no secrets).
func (s *Store) FinishDelivery(ctx context.Context, key, channel, status string, attempts int, errText string) error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	if status != DeliverySent && status != DeliveryFailed {
		return fmt.Errorf("finish delivery %s to %s: status %q is not %s or %s", key, channel, status, DeliverySent, DeliveryFailed)
	}
	res, err := s.db.ExecContext(ctx, s.dialect.rebind(`UPDATE deliveries SET status = ?, attempts = ?, error = ?, at = ? WHERE key = ? AND channel = ? AND status <> ?`),
		status, attempts, errText, s.dialect.ts(s.now()), key, channel, DeliverySent)
	if err != nil {
		return fmt.Errorf("finish delivery %s to %s: %w", key, channel, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var exists int
		err := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT count(*) FROM deliveries WHERE key = ? AND channel = ?`), key, channel).Scan(&exists)
		if err == nil && exists == 0 {
			return fmt.Errorf("finish delivery %s to %s: no BeginDelivery", key, channel)
		}
	}
	return nil
}
