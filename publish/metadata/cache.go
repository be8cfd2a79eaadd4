package metadata

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNoArtifact is PutCacheEntry's answer when a blob it names was never
// recorded with PutArtifact: an entry must not point at nothing.
var ErrNoArtifact = errors.New("no such artifact")

// NoRows is the row count of a result that has none: a thumbnail, a page,
// a job that looked nothing up. The database stores it as NULL.
const NoRows int64 = -1

// Artifact is a blob in object storage, recorded under the sha256 of its
// content. Blobs are written once and never change.
type Artifact struct {
	ContentHash string
	StorageKey  string
	Size        int64
	// Rows is the chart data's or the CSV's row count; NoRows for others.
	Rows int64
}

// CacheEntry maps an input key — the sha256 of what the warehouse is asked
// — to the blobs computed from it: the chart data JSON and, for a
// chart_data job, the CSV written in the same pass.
type CacheEntry struct {
	InputKey string
	JSONHash string
	// CSVHash is empty when the entry has no CSV (a thumbnail's).
	CSVHash string
	// Rows is the result's row count, NoRows when it has none.
	Rows int64
	// ComputedAt is when the warehouse answered; PutCacheEntry fills in
	// the store's clock when it is zero.
	ComputedAt time.Time
	// ReleaseClaim, given to PutCacheEntry, is the owner of the input
	// claim that computed the entry: the claim ends in the same
	// transaction. It is not stored.
	ReleaseClaim string
}

// PutArtifact records a blob. Blobs are content-addressed, so recording
// the same content hash again changes nothing.
func (s *Store) PutArtifact(ctx context.Context, a Artifact) error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	if a.ContentHash == "" || a.StorageKey == "" || a.Size < 0 {
		return fmt.Errorf("record artifact %q: needs a content hash, a storage key and a size", a.ContentHash)
	}
	_, err := s.db.ExecContext(ctx, s.dialect.rebind(`INSERT INTO artifacts (content_hash, storage_key, size, rows, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (content_hash) DO NOTHING`),
		a.ContentHash, a.StorageKey, a.Size, nullRows(a.Rows), s.dialect.ts(s.now()))
	if err != nil {
		return fmt.Errorf("record artifact %s: %w", a.ContentHash, err)
	}
	return nil
}

// CacheEntry reads the entry of an input key; false when there is none.
func (s *Store) CacheEntry(ctx context.Context, inputKey string) (CacheEntry, bool, error) {
	if s.noTables != nil {
		return CacheEntry{}, false, s.noTables
	}
	e := CacheEntry{InputKey: inputKey}
	var rows sql.NullInt64
	var computed any
	err := s.cachedQueryRow(ctx, nil, `SELECT content_hash, coalesce(csv_hash, ''), rows, computed_at
		FROM cache_entries WHERE input_key = ?`, inputKey).Scan(&e.JSONHash, &e.CSVHash, &rows, &computed)
	if errors.Is(err, sql.ErrNoRows) {
		return CacheEntry{}, false, nil
	}
	if err != nil {
		return CacheEntry{}, false, fmt.Errorf("read cache entry %s: %w", inputKey, err)
	}
	e.Rows = rowsOf(rows)
	if e.ComputedAt, err = scanTime(computed); err != nil {
		return CacheEntry{}, false, fmt.Errorf("read cache entry %s: computed_at: %w", inputKey, err)
	}
	return e, true, nil
}

// PutCacheEntry records what an input key computed to, replacing the
// entry it had: a dataset refresh makes a new entry, new blobs and a new
// computed_at, for the same key. An entry computed before the stored one
// (a slow runner finishing after a refresh) changes nothing. The blobs it
// names must be recorded, first or by passing them as arts, which are
// recorded in the same transaction (a runner's one write per result);
// otherwise it is ErrNoArtifact.
func (s *Store) PutCacheEntry(ctx context.Context, e CacheEntry, arts ...Artifact) error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	if e.InputKey == "" || e.JSONHash == "" {
		return fmt.Errorf("record cache entry %q: needs an input key and a JSON blob", e.InputKey)
	}
	if e.ComputedAt.IsZero() {
		e.ComputedAt = s.now()
	}
	var csv any
	if e.CSVHash != "" {
		csv = e.CSVHash
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record cache entry %s: begin: %w", e.InputKey, err)
	}
	defer tx.Rollback()
	now := s.dialect.ts(s.now())
	for _, a := range arts {
		if a.ContentHash == "" || a.StorageKey == "" || a.Size < 0 {
			return fmt.Errorf("record artifact %q: needs a content hash, a storage key and a size", a.ContentHash)
		}
		if _, err := s.cachedExec(ctx, tx, `INSERT INTO artifacts (content_hash, storage_key, size, rows, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (content_hash) DO NOTHING`,
			a.ContentHash, a.StorageKey, a.Size, nullRows(a.Rows), now); err != nil {
			return fmt.Errorf("record artifact %s: %w", a.ContentHash, err)
		}
	}
	// The foreign keys refuse a missing blob too; asking first says which.
	// A blob of arts was just recorded (or was there already), in this
	// transaction: no need to ask.
	recorded := map[string]bool{}
	for _, a := range arts {
		recorded[a.ContentHash] = true
	}
	for _, h := range []string{e.JSONHash, e.CSVHash} {
		if h == "" || recorded[h] {
			continue
		}
		var n int
		if err := s.cachedQueryRow(ctx, tx, `SELECT count(*) FROM artifacts WHERE content_hash = ?`, h).Scan(&n); err != nil {
			return fmt.Errorf("record cache entry %s: %w", e.InputKey, err)
		}
		if n == 0 {
			return fmt.Errorf("record cache entry %s: blob %s: %w", e.InputKey, h, ErrNoArtifact)
		}
	}
	if _, err := s.cachedExec(ctx, tx, `INSERT INTO cache_entries (input_key, content_hash, csv_hash, rows, computed_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (input_key) DO UPDATE SET content_hash = excluded.content_hash, csv_hash = excluded.csv_hash,
			rows = excluded.rows, computed_at = excluded.computed_at
		WHERE cache_entries.computed_at <= excluded.computed_at`,
		e.InputKey, e.JSONHash, csv, nullRows(e.Rows), s.dialect.ts(e.ComputedAt)); err != nil {
		return fmt.Errorf("record cache entry %s: %w", e.InputKey, err)
	}
	if e.ReleaseClaim != "" {
		if _, err := s.cachedExec(ctx, tx, `DELETE FROM input_claims WHERE input_key = ? AND owner = ?`, e.InputKey, e.ReleaseClaim); err != nil {
			return fmt.Errorf("release the claim on %s: %w", e.InputKey, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record cache entry %s: commit: %w", e.InputKey, err)
	}
	return nil
}

// ClaimInput makes owner the one that computes an input key, for lease:
// identical queries of different charts, environments and concurrent jobs
// go to the warehouse once, and the others wait for its cache entry. It
// is true when owner holds the claim now — there was none, it had
// expired, or owner held it already (then the lease is extended) — and
// false while someone else holds it. It is one statement, so two
// claimers never both get it: PostgreSQL locks the conflicting row,
// SQLite holds its write lock.
func (s *Store) ClaimInput(ctx context.Context, inputKey, owner string, lease time.Duration) (bool, error) {
	if s.readOnly {
		return false, fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	if inputKey == "" || owner == "" || lease <= 0 {
		return false, fmt.Errorf("claim input %q: needs an input key, an owner and a lease", inputKey)
	}
	now := s.now()
	var got string
	err := s.cachedQueryRow(ctx, nil, `INSERT INTO input_claims (input_key, owner, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (input_key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE input_claims.expires_at <= ? OR input_claims.owner = excluded.owner
		RETURNING owner`, inputKey, owner, s.dialect.ts(now.Add(lease)), s.dialect.ts(now)).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("claim input %s: %w", inputKey, err)
	}
	return got == owner, nil
}

// ReleaseInput gives up owner's claim on an input key, once its cache
// entry is written or its attempt failed. Another owner's claim stays.
func (s *Store) ReleaseInput(ctx context.Context, inputKey, owner string) error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	if _, err := s.cachedExec(ctx, nil, `DELETE FROM input_claims WHERE input_key = ? AND owner = ?`, inputKey, owner); err != nil {
		return fmt.Errorf("release input %s: %w", inputKey, err)
	}
	return nil
}

// nullRows is a row count as a query argument: NULL for NoRows.
func nullRows(n int64) any {
	if n < 0 {
		return nil
	}
	return n
}

// rowsOf reads a row count column: NoRows for NULL.
func rowsOf(n sql.NullInt64) int64 {
	if !n.Valid {
		return NoRows
	}
	return n.Int64
}
