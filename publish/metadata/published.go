package metadata

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ApplyPublished writes a revision whose release exists already — a
// promote copies another environment's, a rollback points at an older
// one — and makes it current and live in the same transaction, with no
// jobs to run. It checks the plan like Apply (ErrStale, ErrNoChanges).
//
// publish, when set, runs inside that transaction, under the
// environment's lock, once the revision's number is known: it writes the
// release for that number and flips the pointer. If it fails nothing is
// written; if the flip succeeded but the commit does not, the pointer
// names a release of a revision this store never recorded (see
// docs/lifecycle.md, "Promote and rollback"). publish must not use the
// store: its transaction holds the write lock.
func (s *Store) ApplyPublished(ctx context.Context, req ApplyRequest, publish func(ctx context.Context, rev Revision) error) (Revision, error) {
	return s.apply(ctx, req, nil, func(tx *sql.Tx, rev *Revision) error {
		if err := s.makeLive(ctx, tx, rev); err != nil {
			return err
		}
		if publish == nil {
			return nil
		}
		return publish(ctx, *rev)
	})
}

// makeLive makes a revision just written live: the one that was live, and
// older revisions still pending (whose publish would flip the pointer
// back), are superseded. It is what a publish job's completion does
// (goLive), for a revision that has no publish job.
func (s *Store) makeLive(ctx context.Context, tx *sql.Tx, rev *Revision) error {
	var revID int64
	var previous int
	err := tx.QueryRowContext(ctx, s.dialect.rebind(`SELECT r.id, coalesce(l.number, 0) FROM revisions r
		JOIN environments e ON e.name = r.env LEFT JOIN revisions l ON l.id = e.live_revision
		WHERE r.env = ? AND r.number = ?`), rev.Env, rev.Number).Scan(&revID, &previous)
	if err != nil {
		return fmt.Errorf("read revision %d: %w", rev.Number, err)
	}
	if err := s.setLive(ctx, tx, rev.Env, revID, rev.Number); err != nil {
		return err
	}
	rev.Status, rev.Live = RevisionLive, true
	return s.audit(ctx, tx, rev.AppliedBy, "live", rev.Env, fmt.Sprintf(`{"revision": %d, "previous": %d, "source": %q}`, rev.Number, previous, rev.Source))
}

// WhileLive runs f under env's lock — the lock every writer of env's
// pointer holds (see CompletePublish) — if revision number is env's live
// revision then, and reports whether it ran. A new release of the live
// revision (a refresh tick's) flips the pointer in f, so it never points
// back at a revision that went live while the release was written. An
// environment that does not exist (any more) runs nothing. f must not use
// the store.
func (s *Store) WhileLive(ctx context.Context, env string, number int, f func(ctx context.Context) error) (ran bool, err error) {
	err = s.inEnvTx(ctx, env, func(tx *sql.Tx) error {
		live, err := s.liveNumber(ctx, tx, env)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read live revision: %w", err)
		}
		if live != number {
			return nil
		}
		ran = true
		return f(ctx)
	})
	if err != nil {
		return false, fmt.Errorf("%s revision %d: %w", env, number, err)
	}
	return ran, nil
}
