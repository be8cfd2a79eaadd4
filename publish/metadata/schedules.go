package metadata

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Tick is one scheduled run of an object of an environment: an alert
// evaluation, a report delivery or a dataset refresh. Every runner's
// scheduler computes the same ticks; the row that ClaimTick inserts makes
// one of them the tick's owner, for good (beyond JetStream's duplicate
// window, across restarts).
type Tick struct {
	Env  string
	Kind string // alert, report or refresh
	Name string
	Tick time.Time
	// Revision is the live revision whose definitions the tick runs.
	Revision int
	// DryRun: evaluate, send nothing (an environment that does not run
	// schedules: a preview).
	DryRun     bool
	ClaimedAt  time.Time
	EnqueuedAt time.Time // zero: not on the queue yet
	DoneAt     time.Time // zero: not run yet
}

// ClaimTick records t as claimed, now, unless a row for its env, kind,
// name and tick exists: won reports that this call inserted it, so that
// the caller, and no one else, publishes the tick.
func (s *Store) ClaimTick(ctx context.Context, t Tick) (won bool, err error) {
	if s.readOnly {
		return false, fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	res, err := s.db.ExecContext(ctx, s.dialect.rebind(`INSERT INTO schedule_ticks (env, kind, name, tick, revision, dry_run, claimed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (env, kind, name, tick) DO NOTHING`),
		t.Env, t.Kind, t.Name, s.dialect.ts(t.Tick), t.Revision, t.DryRun, s.dialect.ts(s.now()))
	if err != nil {
		return false, fmt.Errorf("claim %s %s/%s tick %s: %w", t.Kind, t.Env, t.Name, t.Tick.UTC().Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim %s %s/%s tick: %w", t.Kind, t.Env, t.Name, err)
	}
	return n == 1, nil
}

// MarkTickEnqueued records that the tick's message is on the queue; only
// the first mark counts.
func (s *Store) MarkTickEnqueued(ctx context.Context, env, kind, name string, tick time.Time) error {
	return s.markTick(ctx, "enqueued_at", env, kind, name, tick)
}

// MarkTickDone records that a worker ran the tick; only the first mark
// counts, so a redelivered message may mark it again.
func (s *Store) MarkTickDone(ctx context.Context, env, kind, name string, tick time.Time) error {
	return s.markTick(ctx, "done_at", env, kind, name, tick)
}

func (s *Store) markTick(ctx context.Context, column, env, kind, name string, tick time.Time) error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	q := `UPDATE schedule_ticks SET ` + column + ` = ? WHERE env = ? AND kind = ? AND name = ? AND tick = ? AND ` + column + ` IS NULL`
	if _, err := s.db.ExecContext(ctx, s.dialect.rebind(q), s.dialect.ts(s.now()), env, kind, name, s.dialect.ts(tick)); err != nil {
		return fmt.Errorf("mark %s %s/%s tick %s: %w", kind, env, name, tick.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// LastTick is the latest claimed tick of an object, zero when none was.
func (s *Store) LastTick(ctx context.Context, env, kind, name string) (time.Time, error) {
	if s.noTables != nil {
		return time.Time{}, s.noTables
	}
	var v any
	err := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT MAX(tick) FROM schedule_ticks WHERE env = ? AND kind = ? AND name = ?`), env, kind, name).Scan(&v)
	if err != nil {
		return time.Time{}, fmt.Errorf("last tick of %s %s/%s: %w", kind, env, name, err)
	}
	t, err := scanTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("last tick of %s %s/%s: %w", kind, env, name, err)
	}
	return t, nil
}

// TickStatus reads one tick's row; ok is false when it was never claimed.
func (s *Store) TickStatus(ctx context.Context, env, kind, name string, tick time.Time) (t Tick, ok bool, err error) {
	if s.noTables != nil {
		return Tick{}, false, s.noTables
	}
	rows, err := s.query(ctx, `SELECT `+tickColumns+` FROM schedule_ticks WHERE env = ? AND kind = ? AND name = ? AND tick = ?`, env, kind, name, s.dialect.ts(tick))
	if err != nil {
		return Tick{}, false, fmt.Errorf("read %s %s/%s tick: %w", kind, env, name, err)
	}
	ticks, err := scanTicks(rows)
	if err != nil || len(ticks) == 0 {
		return Tick{}, false, err
	}
	return ticks[0], true, nil
}

// PendingTicks are the ticks claimed before claimedBefore whose message
// never reached the queue (the claimer's publish failed, or it died in
// between), each the latest tick of its object: an older one that a newer
// tick has overtaken is not run any more. A scheduler publishes them again
// with the same message id, so a publish that did succeed after all is
// dropped by JetStream's duplicate window.
func (s *Store) PendingTicks(ctx context.Context, claimedBefore time.Time) ([]Tick, error) {
	if s.noTables != nil {
		return nil, s.noTables
	}
	rows, err := s.query(ctx, `SELECT `+tickColumns+` FROM schedule_ticks t
		WHERE t.enqueued_at IS NULL AND t.claimed_at < ?
		AND NOT EXISTS (SELECT 1 FROM schedule_ticks n WHERE n.env = t.env AND n.kind = t.kind AND n.name = t.name AND n.tick > t.tick)
		ORDER BY t.claimed_at, t.env, t.kind, t.name`, s.dialect.ts(claimedBefore))
	if err != nil {
		return nil, fmt.Errorf("pending ticks: %w", err)
	}
	ticks, err := scanTicks(rows)
	if err != nil {
		return nil, fmt.Errorf("pending ticks: %w", err)
	}
	return ticks, nil
}

const tickColumns = `env, kind, name, tick, revision, dry_run, claimed_at, enqueued_at, done_at`

func scanTicks(rows *sql.Rows) ([]Tick, error) {
	defer rows.Close()
	var out []Tick
	for rows.Next() {
		var t Tick
		var tick, claimed, enqueued, done any
		if err := rows.Scan(&t.Env, &t.Kind, &t.Name, &tick, &t.Revision, &t.DryRun, &claimed, &enqueued, &done); err != nil {
			return nil, err
		}
		var err error
		for _, c := range []struct {
			dst *time.Time
			v   any
		}{{&t.Tick, tick}, {&t.ClaimedAt, claimed}, {&t.EnqueuedAt, enqueued}, {&t.DoneAt, done}} {
			if *c.dst, err = scanTime(c.v); err != nil {
				return nil, fmt.Errorf("tick of %s %s/%s: %w", t.Kind, t.Env, t.Name, err)
			}
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
