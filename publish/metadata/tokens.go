package metadata

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bic-dev/bic/publish/access"
)

// ErrNoToken is the answer for a token id that names no token.
var ErrNoToken = errors.New("no such token")

// Token is an access token as the DB keeps it: never the token itself,
// only its hash (which Token does not carry either, so that listing
// tokens cannot show it).
type Token struct {
	ID        string
	Env       string
	CreatedAt time.Time
	CreatedBy string
	ExpiresAt time.Time // zero: until revoked
	RevokedAt time.Time // zero: not revoked
}

// Active reports whether t admits anyone at now.
func (t Token) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// CreateToken makes a token that reads env, for ttl (0: until revoked),
// and records its hash and an audit row in one transaction. The token is
// returned once and stored nowhere; the caller shows it and publishes the
// allow-list (ActiveTokens).
func (s *Store) CreateToken(ctx context.Context, env, actor string, ttl time.Duration) (string, Token, error) {
	if s.readOnly {
		return "", Token{}, fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	if env == "" || ttl < 0 {
		return "", Token{}, fmt.Errorf("create token: needs an environment and a time to live of 0 or more")
	}
	plain, hash := access.NewToken()
	now := s.now().UTC()
	t := Token{ID: hash.ID(), Env: env, CreatedAt: now, CreatedBy: actor}
	var expires any
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
		expires = s.dialect.ts(t.ExpiresAt)
	}
	err := s.inEnvTx(ctx, env, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `INSERT INTO access_tokens (id, env, hash, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, env, hash.String(), s.dialect.ts(now), actor, expires); err != nil {
			return fmt.Errorf("record token: %w", err)
		}
		detail := fmt.Sprintf(`{"token_id": %q}`, t.ID)
		if ttl > 0 {
			detail = fmt.Sprintf(`{"token_id": %q, "expires_at": %q}`, t.ID, t.ExpiresAt.Format(time.RFC3339))
		}
		return s.audit(ctx, tx, actor, "token_create", env, detail)
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("create token for %s: %w", env, err)
	}
	return plain, t, nil
}

// ListTokens lists the tokens of env (every environment's when env is
// ""), revoked and expired ones too, oldest first.
func (s *Store) ListTokens(ctx context.Context, env string) ([]Token, error) {
	if s.noTables != nil {
		return nil, s.noTables
	}
	q := `SELECT id, env, created_at, created_by, expires_at, revoked_at FROM access_tokens`
	var args []any
	if env != "" {
		q += ` WHERE env = ?`
		args = append(args, env)
	}
	rows, err := s.query(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, _, err := scanToken(rows, false)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// scanToken reads a row of id, env, created_at, created_by, expires_at,
// revoked_at, and hash when withHash.
func scanToken(rows *sql.Rows, withHash bool) (Token, string, error) {
	var t Token
	var hash string
	var created, expires, revoked any
	dest := []any{&t.ID, &t.Env, &created, &t.CreatedBy, &expires, &revoked}
	if withHash {
		dest = append(dest, &hash)
	}
	if err := rows.Scan(dest...); err != nil {
		return Token{}, "", err
	}
	var err error
	if t.CreatedAt, err = scanTime(created); err != nil {
		return Token{}, "", fmt.Errorf("token %s: created_at: %w", t.ID, err)
	}
	if t.ExpiresAt, err = scanTime(expires); err != nil {
		return Token{}, "", fmt.Errorf("token %s: expires_at: %w", t.ID, err)
	}
	if t.RevokedAt, err = scanTime(revoked); err != nil {
		return Token{}, "", fmt.Errorf("token %s: revoked_at: %w", t.ID, err)
	}
	return t, hash, nil
}

// RevokeToken revokes the token id, with an audit row; revoking a revoked
// token changes nothing. An unknown id is ErrNoToken. The caller
// publishes the allow-list again, which is what the server reads.
func (s *Store) RevokeToken(ctx context.Context, id, actor string) (Token, error) {
	if s.readOnly {
		return Token{}, fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	var env string
	err := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT env FROM access_tokens WHERE id = ?`), id).Scan(&env)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("revoke token %q: %w", id, ErrNoToken)
	}
	if err != nil {
		return Token{}, fmt.Errorf("revoke token %q: %w", id, err)
	}
	err = s.inEnvTx(ctx, env, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE access_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, s.dialect.ts(s.now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.audit(ctx, tx, actor, "token_revoke", env, fmt.Sprintf(`{"token_id": %q}`, id))
	})
	if err != nil {
		return Token{}, fmt.Errorf("revoke token %q: %w", id, err)
	}
	ts, err := s.tokens(ctx, `WHERE id = ?`, id)
	if err != nil {
		return Token{}, fmt.Errorf("revoke token %q: read it back: %w", id, err)
	}
	if len(ts) != 1 {
		return Token{}, fmt.Errorf("revoke token %q: %w", id, ErrNoToken)
	}
	return ts[0].Token, nil
}

// tokenRow is a token with its hash, for the allow-list only.
type tokenRow struct {
	Token
	hash string
}

func (s *Store) tokens(ctx context.Context, where string, args ...any) ([]tokenRow, error) {
	if s.noTables != nil {
		return nil, s.noTables
	}
	rows, err := s.query(ctx, `SELECT id, env, created_at, created_by, expires_at, revoked_at, hash FROM access_tokens `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tokenRow
	for rows.Next() {
		t, hash, err := scanToken(rows, true)
		if err != nil {
			return nil, err
		}
		out = append(out, tokenRow{Token: t, hash: hash})
	}
	return out, rows.Err()
}

// ActiveTokens are the tokens that are neither revoked nor expired, as the
// entries of the allow-list that bic token publishes to storage.
func (s *Store) ActiveTokens(ctx context.Context) ([]access.Entry, error) {
	ts, err := s.tokens(ctx, `WHERE revoked_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("read active tokens: %w", err)
	}
	now := s.now()
	out := []access.Entry{}
	for _, t := range ts {
		if !t.Active(now) {
			continue
		}
		e := access.Entry{ID: t.ID, Env: t.Env, Hash: t.hash, CreatedAt: t.CreatedAt.UTC()}
		if !t.ExpiresAt.IsZero() {
			exp := t.ExpiresAt.UTC()
			e.ExpiresAt = &exp
		}
		out = append(out, e)
	}
	return out, nil
}
