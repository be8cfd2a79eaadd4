// Package metadata is bic's metadata database: environments and their
// revisions, the objects each revision holds, the job outbox, artifacts,
// alert state, API tokens and the audit log. It runs on PostgreSQL (through
// pgx) in production and on SQLite (modernc.org/sqlite, no cgo) as the
// embedded default; one Go type serves both, with the SQL that differs
// between them kept in dialect.
package metadata

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bic-dev/bic/compiler"
)

// Store is an open metadata database.
type Store struct {
	db      *sql.DB
	dialect dialect
	now     func() time.Time
	// where names the database in messages, without its userinfo.
	where string
	// readOnly is set by OpenReadOnly: nothing may be written.
	readOnly bool
	// noTables, set by OpenReadOnly on a database without bic's tables
	// (or a SQLite file not there yet, when db is nil), is what reads of
	// anything but an empty snapshot return.
	noTables error

	// maxAttempts is how many times a job runs before it fails for good.
	maxAttempts int

	// manifests caches decoded manifests by manifest_hash: every job of a
	// revision needs the same one, and decoding it per job is waste.
	manifestMu sync.Mutex
	manifests  map[string]*compiler.Manifest
	// revisionHashes remembers each revision's manifest_hash by revision
	// id (see JobManifest).
	revisionHashes map[int64]string
	// decodes counts manifests decoded, for the cache's test.
	decodes atomic.Int64

	// stmts caches the prepared statements of the calls every job makes
	// (SQLite only; see stmtCache).
	stmts *stmtCache

	// afterObjects, when set by a test, runs inside Apply's transaction
	// after the objects are written: the place to kill an apply halfway.
	afterObjects func()
}

// Errors that callers check with errors.Is.
var (
	ErrNoEnvironment = errors.New("no such environment")
	ErrNoRevision    = errors.New("no such revision")
	ErrStale         = errors.New("the environment changed since the plan was made")
	ErrNoChanges     = errors.New("nothing to apply")
	ErrSchemaTooNew  = errors.New("the metadata database is newer than this bic")
	ErrPersistent    = errors.New("a persistent environment")
	// ErrNotMigrated is a read-only command's answer from a database
	// without bic's tables, or at an older schema version: it migrates
	// nothing itself.
	ErrNotMigrated = errors.New("run `bic migrate`")
	ErrReadOnly    = errors.New("the metadata database is open read-only")
)

// Close closes the database.
func (s *Store) Close() error {
	if s.db == nil {
		return nil
	}
	s.stmts.close()
	return s.db.Close()
}

// DB is the underlying database, for tests.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect names the database: postgres or sqlite.
func (s *Store) Dialect() string { return s.dialect.name }

// SetClock replaces time.Now, for tests of expiry and retries. The store's
// clock is the one time source of the lifecycle: a job's as_of, run_at and
// retry times all come from it.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// DefaultMaxAttempts is how many times a job runs before it fails for good,
// unless SetMaxAttempts says otherwise.
const DefaultMaxAttempts = 3

// SetMaxAttempts sets how many times a job runs before Fail fails it, and
// its revision, for good.
func (s *Store) SetMaxAttempts(n int) { s.maxAttempts = max(n, 1) }

// maxIdleConns is how many idle connections the pool keeps. database/sql
// keeps 2 by default, and a runner uses more at once (its jobs, the
// dispatcher, the scheduler): every connection past the second was closed
// after each use and opened again for the next, a new PostgreSQL backend
// (or SQLite connection, with its pragmas) several times per job.
const maxIdleConns = 16

func newStore(db *sql.DB, d dialect, where string, readOnly bool) *Store {
	s := &Store{db: db, dialect: d, now: time.Now, where: where, readOnly: readOnly,
		maxAttempts: DefaultMaxAttempts, manifests: map[string]*compiler.Manifest{}, revisionHashes: map[int64]string{}}
	if db != nil {
		db.SetMaxIdleConns(maxIdleConns)
		// Idle ones go after a while: PostgreSQL's backends are counted
		// against its max_connections by every runner and server.
		db.SetConnMaxIdleTime(time.Minute)
		if d.name == "sqlite" {
			s.stmts = &stmtCache{db: db}
		}
	}
	return s
}

// dialect is the SQL that differs between PostgreSQL and SQLite.
type dialect struct {
	name string
	// rebind turns ? placeholders into the database's own.
	rebind func(q string) string
	// forUpdate ends a claim's SELECT: it locks the rows it returns and
	// skips those another claimer holds.
	forUpdate string
	// lockEnv serializes writers of one environment inside a transaction.
	lockEnv func(ctx context.Context, tx *sql.Tx, env string) error
	// ts converts a time for a query argument; parseTS reads one back.
	ts func(t time.Time) any
}

var postgresDialect = dialect{
	name: "postgres",
	rebind: func(q string) string {
		var b strings.Builder
		n := 0
		for _, r := range q {
			if r == '?' {
				n++
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteRune(r)
		}
		return b.String()
	},
	forUpdate: " FOR UPDATE OF j SKIP LOCKED",
	lockEnv: func(ctx context.Context, tx *sql.Tx, env string) error {
		// Held until the transaction ends; applies to other environments go on.
		_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", "bic-env:"+env)
		return err
	},
	ts: func(t time.Time) any { return t.UTC() },
}

var sqliteDialect = dialect{
	name:   "sqlite",
	rebind: func(q string) string { return q },
	// BEGIN IMMEDIATE already holds the database's write lock, which
	// makes claimers go one at a time.
	forUpdate: "",
	lockEnv:   func(context.Context, *sql.Tx, string) error { return nil },
	// A fixed width, so that timestamps compare as text (run_at <= now).
	ts: func(t time.Time) any { return t.UTC().Format(sqliteTime) },
}

// sqliteTime is how SQLite columns hold a timestamp: RFC 3339 in UTC with
// all nine digits of the fraction, so that text order is time order.
const sqliteTime = "2006-01-02T15:04:05.000000000Z07:00"

// scanTime reads a timestamp column of either dialect.
func scanTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time:
		return v, nil
	case string:
		return time.Parse(time.RFC3339Nano, v)
	case []byte:
		return time.Parse(time.RFC3339Nano, string(v))
	}
	return time.Time{}, fmt.Errorf("unexpected timestamp %T", v)
}

func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	return tx.ExecContext(ctx, s.dialect.rebind(q), args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.dialect.rebind(q), args...)
}
