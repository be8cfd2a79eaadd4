package metadata

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Destroy removes an environment with its revisions and jobs. A persistent
// environment is only removed with force.
func (s *Store) Destroy(ctx context.Context, env, actor string, force bool) error {
	err := s.inEnvTx(ctx, env, func(tx *sql.Tx) error {
		var kind string
		err := tx.QueryRowContext(ctx, s.dialect.rebind(`SELECT kind FROM environments WHERE name = ?`), env).Scan(&kind)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNoEnvironment
		case err != nil:
			return fmt.Errorf("read environment: %w", err)
		}
		if kind != string(EnvPreview) && !force {
			return fmt.Errorf("it is %w; pass --force to remove it and its history", ErrPersistent)
		}
		if err := s.deleteEnv(ctx, tx, env); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "destroy", env, fmt.Sprintf(`{"kind": %q}`, kind))
	})
	if err != nil {
		return fmt.Errorf("destroy %s: %w", env, err)
	}
	return nil
}

// RenewPreview extends a preview's life to ttl from now, as a preview
// apply does; it is what a preview run without changes still needs.
func (s *Store) RenewPreview(ctx context.Context, env string, ttl time.Duration) error {
	err := s.inEnvTx(ctx, env, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE environments SET expires_at = ? WHERE name = ? AND kind = 'preview'`, s.dialect.ts(s.now().Add(ttl)), env)
		if err != nil {
			return fmt.Errorf("update expiry: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("update expiry: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("no preview of that name: %w", ErrNoEnvironment)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("renew %s: %w", env, err)
	}
	return nil
}

// removeExpired deletes a preview that is still expired once its lock is
// held: one renewed since the list was read stays.
func (s *Store) removeExpired(ctx context.Context, e Environment, now time.Time, actor string) (removed bool, err error) {
	err = s.inEnvTx(ctx, e.Name, func(tx *sql.Tx) error {
		var expires any
		err := tx.QueryRowContext(ctx, s.dialect.rebind(`SELECT expires_at FROM environments WHERE name = ?`), e.Name).Scan(&expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil // destroyed meanwhile
		case err != nil:
			return fmt.Errorf("read expiry: %w", err)
		}
		t, err := scanTime(expires)
		if err != nil {
			return fmt.Errorf("read expiry: %w", err)
		}
		if t.After(now) {
			return nil
		}
		if err := s.deleteEnv(ctx, tx, e.Name); err != nil {
			return err
		}
		removed = true
		return s.audit(ctx, tx, actor, "gc", e.Name, fmt.Sprintf(`{"expired_at": %q}`, e.ExpiresAt.UTC().Format(time.RFC3339)))
	})
	return removed && err == nil, err
}

// inEnvTx runs f in a transaction that holds env's lock, and commits when
// f returns nil. Writers of one environment therefore go one at a time.
func (s *Store) inEnvTx(ctx context.Context, env string, f func(tx *sql.Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := s.dialect.lockEnv(ctx, tx, env); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// deleteEnv removes an environment and everything that belongs to it.
func (s *Store) deleteEnv(ctx context.Context, tx *sql.Tx, env string) error {
	for _, q := range []string{
		`UPDATE environments SET current_revision = NULL, live_revision = NULL WHERE name = ?`,
		`DELETE FROM job_dependencies WHERE revision_id IN (SELECT id FROM revisions WHERE env = ?)`,
		`DELETE FROM jobs WHERE revision_id IN (SELECT id FROM revisions WHERE env = ?)`,
		`DELETE FROM revision_objects WHERE revision_id IN (SELECT id FROM revisions WHERE env = ?)`,
		`DELETE FROM revisions WHERE env = ?`,
		`DELETE FROM alert_state WHERE env = ?`,
		`DELETE FROM environments WHERE name = ?`,
	} {
		if _, err := s.exec(ctx, tx, q, env); err != nil {
			return fmt.Errorf("delete environment %s: %w", env, err)
		}
	}
	return nil
}

// GC removes previews whose time to live has passed, and objects that no
// revision holds any more. It returns the environments it removed.
func (s *Store) GC(ctx context.Context, actor string) (removed []string, objects int64, err error) {
	if s.readOnly {
		return nil, 0, fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	envs, err := s.Environments(ctx)
	if err != nil {
		return nil, 0, err
	}
	now := s.now()
	for _, e := range envs {
		if e.Kind != EnvPreview || e.ExpiresAt.IsZero() || e.ExpiresAt.After(now) {
			continue
		}
		gone, err := s.removeExpired(ctx, e, now, actor)
		if err != nil {
			return removed, 0, fmt.Errorf("gc %s: %w", e.Name, err)
		}
		if gone {
			removed = append(removed, e.Name)
		}
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM objects WHERE NOT EXISTS (SELECT 1 FROM revision_objects ro WHERE ro.hash = objects.hash)`)
	if err != nil {
		return removed, 0, fmt.Errorf("gc objects: %w", err)
	}
	if objects, err = res.RowsAffected(); err != nil {
		return removed, 0, fmt.Errorf("gc objects: %w", err)
	}
	return removed, objects, nil
}
