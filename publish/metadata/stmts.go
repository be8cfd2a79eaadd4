package metadata

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the statement cache: only the SQL of the calls a
// runner makes for every job goes through it, and that is a few dozen.
const maxCachedStmts = 64

// stmtCache keeps prepared statements by their SQL, on SQLite only:
// modernc.org/sqlite parses a statement on every call otherwise, which
// costs more than running most of the statements a job makes, while
// pgx's connections keep their own cache of prepared statements.
// database/sql prepares a cached statement once on each connection it
// runs on, and SQLite prepares it again by itself after a schema change.
type stmtCache struct {
	db *sql.DB // nil: no cache
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// get gives q's prepared statement, preparing it the first time; nil
// (run q as it is) when there is no cache, it is full, or preparing fails.
// It prepares without holding its lock, so that callers of statements
// already kept do not wait behind a preparation. (It prepares on a
// connection of its own: with SetMaxOpenConns(1), a caller in a
// transaction would wait for ever; none is set.)
func (c *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	db, st, full := c.db, c.m[q], len(c.m) >= maxCachedStmts
	c.mu.Unlock()
	switch {
	case db == nil: // closed
		return nil
	case st != nil:
		return st
	case full:
		return nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil // the statement's own call reports what is wrong with it
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if kept, ok := c.m[q]; ok || c.db == nil || len(c.m) >= maxCachedStmts {
		// Another caller kept one first, or the cache closed or filled
		// meanwhile: this one serves this call alone.
		st.Close()
		return kept
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st
}

// len is how many statements the cache holds, for its test.
func (c *stmtCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
	c.db = nil
}

// The cached calls are for SQL that is one constant string at its call
// site (no IN list of varying length): the statements of every job. They
// take q before rebind, and run on tx, or on the database when tx is nil.

func (s *Store) cachedExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := s.prepared(ctx, tx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.on(tx).ExecContext(ctx, s.dialect.rebind(q), args...)
}

func (s *Store) cachedQuery(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	if st := s.prepared(ctx, tx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.on(tx).QueryContext(ctx, s.dialect.rebind(q), args...)
}

func (s *Store) cachedQueryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if st := s.prepared(ctx, tx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.on(tx).QueryRowContext(ctx, s.dialect.rebind(q), args...)
}

// prepared is q's kept statement, for tx when set; nil when none is kept.
func (s *Store) prepared(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	st := s.stmts.get(ctx, s.dialect.rebind(q))
	if st != nil && tx != nil {
		st = tx.StmtContext(ctx, st)
	}
	return st
}

// on is tx, or the database when tx is nil.
func (s *Store) on(tx *sql.Tx) queryer {
	if tx != nil {
		return tx
	}
	return s.db
}
