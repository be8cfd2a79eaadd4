package metadata

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CacheEntries lists every cache entry, for bic gc: the blobs an entry
// names are reachable, since a job that hits it puts them in a release
// without writing them again.
func (s *Store) CacheEntries(ctx context.Context) ([]CacheEntry, error) {
	if s.noTables != nil {
		return nil, s.noTables
	}
	rows, err := s.query(ctx, `SELECT input_key, content_hash, coalesce(csv_hash, ''), rows, computed_at FROM cache_entries ORDER BY input_key`)
	if err != nil {
		return nil, fmt.Errorf("read cache entries: %w", err)
	}
	defer rows.Close()
	var out []CacheEntry
	for rows.Next() {
		var e CacheEntry
		var n sql.NullInt64
		var computed any
		if err := rows.Scan(&e.InputKey, &e.JSONHash, &e.CSVHash, &n, &computed); err != nil {
			return nil, fmt.Errorf("read cache entries: %w", err)
		}
		e.Rows = rowsOf(n)
		if e.ComputedAt, err = scanTime(computed); err != nil {
			return nil, fmt.Errorf("read cache entry %s: computed_at: %w", e.InputKey, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read cache entries: %w", err)
	}
	return out, nil
}

// DeleteCacheEntries removes the entries of the given input keys that
// were computed before before: bic gc's expiry of entries whose blobs no
// kept release names. An entry renewed since it was listed (a refresh
// wrote a newer computed_at) stays. A removed entry only means that the
// next job that wants it asks the warehouse again. It returns how many
// went.
func (s *Store) DeleteCacheEntries(ctx context.Context, inputKeys []string, before time.Time) (int64, error) {
	if s.readOnly {
		return 0, fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	var n int64
	for start := 0; start < len(inputKeys); start += 500 {
		batch := inputKeys[start:min(start+500, len(inputKeys))]
		args := []any{s.dialect.ts(before)}
		for _, k := range batch {
			args = append(args, k)
		}
		res, err := s.db.ExecContext(ctx, s.dialect.rebind(`DELETE FROM cache_entries WHERE computed_at < ? AND input_key IN (`+placeholders(len(batch), 1)+`)`), args...)
		if err != nil {
			return n, fmt.Errorf("delete cache entries: %w", err)
		}
		m, err := res.RowsAffected()
		if err != nil {
			return n, fmt.Errorf("delete cache entries: %w", err)
		}
		n += m
	}
	return n, nil
}

// ExpireLedgers removes what the schedule and notification ledgers no
// longer need, for bic gc: ticks run before before (each schedule's latest
// tick stays, since catch-up after downtime starts from it), and
// deliveries sent or failed before before (a tick's message is redelivered
// within minutes, never after the retention). It returns how many ticks
// and deliveries went.
func (s *Store) ExpireLedgers(ctx context.Context, before time.Time) (ticks, deliveries int64, err error) {
	if s.readOnly {
		return 0, 0, fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	if s.noTables != nil {
		return 0, 0, s.noTables
	}
	res, err := s.db.ExecContext(ctx, s.dialect.rebind(`DELETE FROM schedule_ticks WHERE done_at IS NOT NULL AND tick < ?
		AND tick < (SELECT MAX(t.tick) FROM schedule_ticks t WHERE t.env = schedule_ticks.env AND t.kind = schedule_ticks.kind AND t.name = schedule_ticks.name)`), s.dialect.ts(before))
	if err != nil {
		return 0, 0, fmt.Errorf("expire schedule ticks: %w", err)
	}
	ticks, _ = res.RowsAffected()
	res, err = s.db.ExecContext(ctx, s.dialect.rebind(`DELETE FROM deliveries WHERE status <> ? AND at < ?`), DeliverySending, s.dialect.ts(before))
	if err != nil {
		return ticks, 0, fmt.Errorf("expire deliveries: %w", err)
	}
	deliveries, _ = res.RowsAffected()
	return ticks, deliveries, nil
}
