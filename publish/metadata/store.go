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
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Store is an open metadata database.
type Store struct {
	db      *sql.DB
	dialect dialect
	now     func() time.Time

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
)

// Open connects to the database named by url — postgres://… or
// sqlite://path (relative to dir) — and brings its schema up to date.
func Open(ctx context.Context, rawURL, dir string) (*Store, error) {
	s, err := Connect(ctx, rawURL, dir)
	if err != nil {
		return nil, err
	}
	// Reading is enough when the schema is current: read-only commands
	// then take no write lock.
	if v, err := s.Version(ctx); err != nil || v != s.latestVersion() {
		if _, err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Connect opens the database without migrating it.
func Connect(ctx context.Context, rawURL, dir string) (*Store, error) {
	var (
		db  *sql.DB
		d   dialect
		err error
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://"):
		d = postgresDialect
		db, err = sql.Open("pgx", rawURL)
	case strings.HasPrefix(rawURL, "sqlite://"):
		d = sqliteDialect
		path := strings.TrimPrefix(rawURL, "sqlite://")
		path, query, _ := strings.Cut(path, "?")
		if path == "" {
			return nil, fmt.Errorf("metadata URL %q: expected sqlite://PATH", rawURL)
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("metadata database folder: %w", err)
		}
		q, _ := url.ParseQuery(query)
		// IMMEDIATE transactions take SQLite's write lock at BEGIN, which
		// serializes applies; WAL lets readers go on meanwhile.
		q.Set("_txlock", "immediate")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		db, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	default:
		return nil, fmt.Errorf("metadata URL %q: expected postgres://… or sqlite://PATH", redact(rawURL))
	}
	if err != nil {
		return nil, fmt.Errorf("open metadata database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to metadata database %s: %w", redact(rawURL), err)
	}
	if d.name == "postgres" {
		if err := createSearchPathSchema(ctx, db, rawURL); err != nil {
			db.Close()
			return nil, err
		}
	}
	return &Store{db: db, dialect: d, now: time.Now}, nil
}

// createSearchPathSchema creates the schema a postgres URL's search_path
// names first, so that bic can keep its tables apart in a shared database.
func createSearchPathSchema(ctx context.Context, db *sql.DB, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil
	}
	schema, _, _ := strings.Cut(u.Query().Get("search_path"), ",")
	schema = strings.TrimSpace(schema)
	if schema == "" || schema == "public" {
		return nil
	}
	quoted := `"` + strings.ReplaceAll(schema, `"`, `""`) + `"`
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoted); err != nil {
		// Two processes creating it at once: one of them loses the race on
		// the catalog's unique index, and the schema exists either way.
		if msg := err.Error(); strings.Contains(msg, "23505") || strings.Contains(msg, "42P06") {
			return nil
		}
		return fmt.Errorf("create metadata schema %s: %w", schema, err)
	}
	return nil
}

// redact hides a URL's password for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DB is the underlying database, for tests.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect names the database: postgres or sqlite.
func (s *Store) Dialect() string { return s.dialect.name }

// SetClock replaces time.Now, for tests of expiry.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// dialect is the SQL that differs between PostgreSQL and SQLite.
type dialect struct {
	name string
	// rebind turns ? placeholders into the database's own.
	rebind func(q string) string
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
	// BEGIN IMMEDIATE already holds the database's write lock.
	lockEnv: func(context.Context, *sql.Tx, string) error { return nil },
	ts:      func(t time.Time) any { return t.UTC().Format(time.RFC3339Nano) },
}

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
