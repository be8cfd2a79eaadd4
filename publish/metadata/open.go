package metadata

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/bic-dev/bic/compiler"
)

// Open connects to the database named by url — postgres://… or
// sqlite://path (relative to dir) — and brings its schema up to date. It is
// for the commands that write; those that only read use OpenReadOnly.
func Open(ctx context.Context, rawURL, dir string) (*Store, error) {
	s, err := Connect(ctx, rawURL, dir)
	if err != nil {
		return nil, err
	}
	// Reading is enough when the schema is current: no write lock then.
	if v, err := s.Version(ctx); err != nil || v != s.latestVersion() {
		if _, err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Connect opens the database without migrating it. It creates a SQLite
// file's folder, and the schema a postgres URL's search_path names first.
func Connect(ctx context.Context, rawURL, dir string) (*Store, error) {
	return connect(ctx, rawURL, dir, false)
}

// OpenReadOnly opens the database for the commands that only read (plan,
// history): it creates no folder, file, schema or table, migrates nothing,
// and its sessions cannot write (SQLite mode=ro and query_only, PostgreSQL
// default_transaction_read_only). A database without bic's tables — a
// project never applied, a SQLite file not there yet — opens empty: its
// snapshots have no objects, so a plan shows everything to create, and
// anything else asked of it is an ErrNotMigrated that says to run bic
// migrate. A database at an older schema version is ErrNotMigrated, one at
// a newer version ErrSchemaTooNew.
func OpenReadOnly(ctx context.Context, rawURL, dir string) (*Store, error) {
	s, err := connect(ctx, rawURL, dir, true)
	if err != nil || s.noTables != nil {
		return s, err
	}
	v, err := s.Version(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	switch latest := s.latestVersion(); {
	case v < latest:
		s.Close()
		return nil, fmt.Errorf("the metadata database at %s is at schema version %d, this bic needs %d: %w", s.where, v, latest, ErrNotMigrated)
	case v > latest:
		s.Close()
		return nil, fmt.Errorf("%w: it is at schema version %d, this bic knows up to %d; upgrade bic", ErrSchemaTooNew, v, latest)
	}
	return s, nil
}

func connect(ctx context.Context, rawURL, dir string, readOnly bool) (*Store, error) {
	where := compiler.RedactURL(rawURL)
	var (
		s   *Store
		err error
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://"):
		s, err = connectPostgres(ctx, rawURL, where, readOnly)
	case strings.HasPrefix(rawURL, "sqlite://"):
		s, err = connectSQLite(ctx, rawURL, dir, where, readOnly)
	default:
		return nil, fmt.Errorf("metadata URL %q: expected postgres://… or sqlite://PATH", where)
	}
	if err != nil {
		return nil, err
	}
	if readOnly && s.db != nil {
		ok, err := s.hasTables(ctx)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("read the metadata database at %s: %w", where, err)
		}
		if !ok {
			s.noTables = noTablesError(where)
		}
	}
	return s, nil
}

func connectPostgres(ctx context.Context, rawURL, where string, readOnly bool) (*Store, error) {
	// A password with an unencoded @ or / would make part of it the host:
	// refuse before pgx looks that up.
	if err := compiler.CheckURLAuthority(rawURL); err != nil {
		return nil, fmt.Errorf("metadata URL %s: %w", where, err)
	}
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		// pgx's message may quote the URL, and its redaction is best effort.
		return nil, fmt.Errorf("metadata URL %s: not a valid postgres URL", where)
	}
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to metadata database %s: %w", where, compiler.RedactError(err, cfg.Password))
	}
	if !readOnly {
		if err := createSearchPathSchema(ctx, db, cfg.RuntimeParams["search_path"]); err != nil {
			db.Close()
			return nil, err
		}
	}
	return newStore(db, postgresDialect, where, readOnly), nil
}

func connectSQLite(ctx context.Context, rawURL, dir, where string, readOnly bool) (*Store, error) {
	path, query, _ := strings.Cut(strings.TrimPrefix(rawURL, "sqlite://"), "?")
	if path == "" {
		return nil, fmt.Errorf("metadata URL %q: expected sqlite://PATH", where)
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	q, _ := url.ParseQuery(query)
	q.Add("_pragma", "busy_timeout(10000)")
	if readOnly {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			s := newStore(nil, sqliteDialect, where, true)
			s.noTables = noTablesError(where)
			return s, nil
		}
		q.Set("mode", "ro")
		q.Add("_pragma", "query_only(1)")
	} else {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("metadata database folder: %w", err)
		}
		// IMMEDIATE transactions take SQLite's write lock at BEGIN, which
		// serializes applies; WAL lets readers go on meanwhile.
		q.Set("_txlock", "immediate")
		q.Add("_pragma", "journal_mode(WAL)")
		// With WAL, NORMAL syncs at checkpoints rather than every commit: a
		// power cut may lose the last commits (whose jobs then run again)
		// but never corrupts the file, and runners commit several times a job.
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	q.Add("_pragma", "foreign_keys(1)")
	db, err := sql.Open("sqlite", "file:"+fileURIPath(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open metadata database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to metadata database %s: %w", where, err)
	}
	return newStore(db, sqliteDialect, where, readOnly), nil
}

// noTablesError is what a read-only store of a database without bic's
// tables answers to reads of anything but an empty snapshot.
func noTablesError(where string) error {
	return fmt.Errorf("the metadata database at %s has no bic tables: %w", where, ErrNotMigrated)
}

// fileURIPath escapes the characters that end a path in a file: URI.
func fileURIPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
}

// hasTables reports whether bic's migrations table exists, creating nothing.
func (s *Store) hasTables(ctx context.Context) (bool, error) {
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'bic_schema_migrations'`
	if s.dialect.name == "postgres" {
		// Looked up through the search_path, as the tables would be.
		q = `SELECT CASE WHEN to_regclass('bic_schema_migrations') IS NULL THEN 0 ELSE 1 END`
	}
	var n int
	if err := s.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return false, fmt.Errorf("look for bic's tables: %w", err)
	}
	return n > 0, nil
}

// PostgreSQL error codes that bic tells apart
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const (
	pgUniqueViolation = "23505"
	pgDuplicateSchema = "42P06"
)

// pgCode reports whether err is a PostgreSQL error with one of the codes.
func pgCode(err error, codes ...string) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.Code == c {
			return true
		}
	}
	return false
}

// createSearchPathSchema creates the schema that a postgres URL's
// search_path names first, so that bic can keep its tables apart in a
// shared database.
func createSearchPathSchema(ctx context.Context, db *sql.DB, searchPath string) error {
	schema, _, _ := strings.Cut(searchPath, ",")
	schema = strings.TrimSpace(schema)
	if schema == "" || schema == "public" {
		return nil
	}
	quoted := `"` + strings.ReplaceAll(schema, `"`, `""`) + `"`
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoted); err != nil {
		// Two processes creating it at once: one of them loses the race on
		// the catalog's unique index, and the schema exists either way.
		if pgCode(err, pgUniqueViolation, pgDuplicateSchema) {
			return nil
		}
		return fmt.Errorf("create metadata schema %s: %w", schema, err)
	}
	return nil
}
