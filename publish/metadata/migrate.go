package metadata

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrations embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func (s *Store) migrations() ([]migration, error) {
	dir := path.Join("migrations", s.dialect.name)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s: expected NNNN_name.sql", e.Name())
		}
		b, err := migrations.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// latestVersion is the newest migration this binary knows. The migrations
// are embedded: one that cannot be read is a broken build, not a runtime
// condition, so it panics rather than pretend the schema is at version 0.
func (s *Store) latestVersion() int {
	ms, err := s.migrations()
	if err != nil {
		panic(fmt.Sprintf("metadata: %v", err))
	}
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// Version returns the schema version the database is at. It only reads: a
// database without bic's tables yet is an error.
func (s *Store) Version(ctx context.Context) (int, error) {
	if s.noTables != nil {
		return 0, s.noTables
	}
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(version) FROM bic_schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// Migrate applies the migrations the database lacks, all in one
// transaction, and returns how many it applied. A database migrated by a
// newer bic is an error: this binary would not understand it.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	ms, err := s.migrations()
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	n := 0
	// Two processes starting at once must not both migrate. The lock's key
	// holds a space, which environment names never do.
	err = s.inEnvTx(ctx, "schema migrations", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bic_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
			return fmt.Errorf("create migrations table: %w", err)
		}
		var cur sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(version) FROM bic_schema_migrations`).Scan(&cur); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		latest := ms[len(ms)-1].version
		if int(cur.Int64) > latest {
			return fmt.Errorf("%w: it is at schema version %d, this bic knows up to %d; upgrade bic", ErrSchemaTooNew, cur.Int64, latest)
		}
		for _, m := range ms {
			if m.version <= int(cur.Int64) {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, s.dialect.rebind(`INSERT INTO bic_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`), m.version, m.name, s.now().UTC().Format("2006-01-02T15:04:05Z")); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	return n, nil
}
