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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("destroy %s: %w", env, err)
	}
	defer tx.Rollback()
	if err := s.dialect.lockEnv(ctx, tx, env); err != nil {
		return fmt.Errorf("destroy %s: lock: %w", env, err)
	}
	var kind string
	err = tx.QueryRowContext(ctx, s.dialect.rebind(`SELECT kind FROM environments WHERE name = ?`), env).Scan(&kind)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("destroy %s: %w", env, ErrNoEnvironment)
	case err != nil:
		return fmt.Errorf("destroy %s: %w", env, err)
	}
	if kind != "preview" && !force {
		return fmt.Errorf("destroy %s: it is %w; pass --force to remove it and its history", env, ErrPersistent)
	}
	if err := s.deleteEnv(ctx, tx, env); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, actor, "destroy", env, fmt.Sprintf(`{"kind": %q}`, kind)); err != nil {
		return err
	}
	return tx.Commit()
}

// RenewPreview extends a preview's life to ttl from now, as a preview
// apply does; it is what a preview run without changes still needs.
func (s *Store) RenewPreview(ctx context.Context, env string, ttl time.Duration) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("renew %s: %w", env, err)
	}
	defer tx.Rollback()
	if err := s.dialect.lockEnv(ctx, tx, env); err != nil {
		return fmt.Errorf("renew %s: lock: %w", env, err)
	}
	res, err := s.exec(ctx, tx, `UPDATE environments SET expires_at = ? WHERE name = ? AND kind = 'preview'`, s.dialect.ts(s.now().Add(ttl)), env)
	if err != nil {
		return fmt.Errorf("renew %s: %w", env, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("renew %s: no preview of that name: %w", env, ErrNoEnvironment)
	}
	return tx.Commit()
}

// removeExpired deletes a preview that is still expired once its lock is
// held: one renewed since the list was read stays.
func (s *Store) removeExpired(ctx context.Context, e Environment, now time.Time, actor string) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if err := s.dialect.lockEnv(ctx, tx, e.Name); err != nil {
		return false, fmt.Errorf("lock: %w", err)
	}
	var expires any
	if err := tx.QueryRowContext(ctx, s.dialect.rebind(`SELECT expires_at FROM environments WHERE name = ?`), e.Name).Scan(&expires); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil // destroyed meanwhile
		}
		return false, err
	}
	if t, _ := scanTime(expires); t.After(now) {
		return false, nil
	}
	if err := s.deleteEnv(ctx, tx, e.Name); err != nil {
		return false, err
	}
	if err := s.audit(ctx, tx, actor, "gc", e.Name, fmt.Sprintf(`{"expired_at": %q}`, e.ExpiresAt.UTC().Format(time.RFC3339))); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// deleteEnv removes an environment and everything that belongs to it.
func (s *Store) deleteEnv(ctx context.Context, tx *sql.Tx, env string) error {
	for _, q := range []string{
		`UPDATE environments SET current_revision = NULL WHERE name = ?`,
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
	envs, err := s.Environments(ctx)
	if err != nil {
		return nil, 0, err
	}
	now := s.now()
	for _, e := range envs {
		if e.Kind != "preview" || e.ExpiresAt.IsZero() || e.ExpiresAt.After(now) {
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
	objects, _ = res.RowsAffected()
	return removed, objects, nil
}
