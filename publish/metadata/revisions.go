package metadata

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bic-dev/bic/compiler"
)

// Environment is a named deployment of a project: prod, staging, pr-42.
type Environment struct {
	Name      string
	Kind      string // persistent or preview
	Base      string // previews: the environment they start from
	Revision  int    // the current revision's number, 0 before the first apply
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Revision is one applied version of an environment's definitions.
type Revision struct {
	Env          string
	Number       int
	Status       string // pending, live or failed
	Source       string // apply, rollback or preview
	RollbackOf   int
	ManifestHash string
	GitCommit    string
	GitAuthor    string
	AppliedBy    string
	AppliedAt    time.Time
	Objects      int
	Jobs         int
	Current      bool
}

// Environment reads one environment.
func (s *Store) Environment(ctx context.Context, name string) (Environment, error) {
	envs, err := s.environments(ctx, "WHERE e.name = ?", name)
	if err != nil {
		return Environment{}, err
	}
	if len(envs) == 0 {
		return Environment{}, fmt.Errorf("environment %q: %w", name, ErrNoEnvironment)
	}
	return envs[0], nil
}

// Environments lists every environment by name.
func (s *Store) Environments(ctx context.Context) ([]Environment, error) {
	return s.environments(ctx, "")
}

func (s *Store) environments(ctx context.Context, where string, args ...any) ([]Environment, error) {
	if s.noTables != nil {
		return nil, s.noTables
	}
	rows, err := s.query(ctx, `SELECT e.name, e.kind, coalesce(e.base, ''), coalesce(r.number, 0), e.expires_at, e.created_at
		FROM environments e LEFT JOIN revisions r ON r.id = e.current_revision `+where+` ORDER BY e.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("read environments: %w", err)
	}
	defer rows.Close()
	var out []Environment
	for rows.Next() {
		var e Environment
		var expires, created any
		if err := rows.Scan(&e.Name, &e.Kind, &e.Base, &e.Revision, &expires, &created); err != nil {
			return nil, fmt.Errorf("read environments: %w", err)
		}
		e.ExpiresAt, _ = scanTime(expires)
		e.CreatedAt, _ = scanTime(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Snapshot reads the objects of an environment's current revision. An
// environment that does not exist yet has an empty snapshot at revision 0,
// and so has every environment of a database without bic's tables.
func (s *Store) Snapshot(ctx context.Context, env string) (compiler.Snapshot, error) {
	snap := compiler.Snapshot{Env: env, Objects: map[string]compiler.SnapshotObject{}}
	if s.noTables != nil {
		return snap, nil
	}
	e, err := s.Environment(ctx, env)
	if errors.Is(err, ErrNoEnvironment) {
		return snap, nil
	}
	if err != nil {
		return snap, err
	}
	snap.Revision = e.Revision
	if e.Revision == 0 {
		return snap, nil
	}
	return snap, s.readObjects(ctx, env, e.Revision, snap.Objects)
}

func (s *Store) readObjects(ctx context.Context, env string, number int, into map[string]compiler.SnapshotObject) error {
	rows, err := s.query(ctx, `SELECT ro.object_id, ro.hash FROM revision_objects ro
		JOIN revisions r ON r.id = ro.revision_id WHERE r.env = ? AND r.number = ?`, env, number)
	if err != nil {
		return fmt.Errorf("read objects of %s revision %d: %w", env, number, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, hash string
		if err := rows.Scan(&id, &hash); err != nil {
			return err
		}
		into[id] = compiler.SnapshotObject{Hash: hash}
	}
	return rows.Err()
}

// LoadSpecs fills in the stored specs of the given objects of a snapshot,
// so that a plan can show which fields changed.
func (s *Store) LoadSpecs(ctx context.Context, snap *compiler.Snapshot, ids []string) error {
	if s.noTables != nil && len(ids) > 0 {
		return s.noTables
	}
	for start := 0; start < len(ids); start += 500 {
		batch := ids[start:min(start+500, len(ids))]
		hashes := make([]any, len(batch))
		for i, id := range batch {
			hashes[i] = snap.Objects[id].Hash
		}
		rows, err := s.query(ctx, `SELECT hash, id, spec FROM objects WHERE hash IN (`+placeholders(len(batch), 1)+`)`, hashes...)
		if err != nil {
			return fmt.Errorf("read specs: %w", err)
		}
		for rows.Next() {
			var hash, id, spec string
			if err := rows.Scan(&hash, &id, &spec); err != nil {
				rows.Close()
				return err
			}
			if o, ok := snap.Objects[id]; ok && o.Hash == hash {
				o.Spec = json.RawMessage(spec)
				snap.Objects[id] = o
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// placeholders writes n groups of width question marks: (?, ?), (?, ?) or ?, ?.
func placeholders(n, width int) string {
	group := strings.TrimSuffix(strings.Repeat("?, ", width), ", ")
	if width > 1 {
		group = "(" + group + ")"
	}
	return strings.TrimSuffix(strings.Repeat(group+", ", n), ", ")
}

// History lists an environment's revisions, newest first.
func (s *Store) History(ctx context.Context, env string) ([]Revision, error) {
	e, err := s.Environment(ctx, env)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT r.number, r.status, r.source, coalesce(r.rollback_of, 0), r.manifest_hash,
			r.git_commit, r.git_author, r.applied_by, r.applied_at,
			(SELECT count(*) FROM revision_objects ro WHERE ro.revision_id = r.id),
			(SELECT count(*) FROM jobs j WHERE j.revision_id = r.id)
		FROM revisions r WHERE r.env = ? ORDER BY r.number DESC`, env)
	if err != nil {
		return nil, fmt.Errorf("read history of %s: %w", env, err)
	}
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		r := Revision{Env: env}
		var at any
		if err := rows.Scan(&r.Number, &r.Status, &r.Source, &r.RollbackOf, &r.ManifestHash, &r.GitCommit, &r.GitAuthor, &r.AppliedBy, &at, &r.Objects, &r.Jobs); err != nil {
			return nil, fmt.Errorf("read history of %s: %w", env, err)
		}
		r.AppliedAt, _ = scanTime(at)
		r.Current = r.Number == e.Revision
		out = append(out, r)
	}
	return out, rows.Err()
}

// Manifest reads the manifest a revision was applied with.
func (s *Store) Manifest(ctx context.Context, env string, number int) (*compiler.Manifest, error) {
	if s.noTables != nil {
		return nil, s.noTables
	}
	var raw string
	err := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT manifest FROM revisions WHERE env = ? AND number = ?`), env, number).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s revision %d: %w", env, number, ErrNoRevision)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s revision %d: %w", env, number, err)
	}
	var m compiler.Manifest
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("decode %s revision %d: %w", env, number, err)
	}
	return &m, nil
}

// JobRow is one job of the outbox.
type JobRow struct {
	compiler.Job
	Status   string
	Attempts int
}

// Jobs lists the jobs an environment's revision enqueued.
func (s *Store) Jobs(ctx context.Context, env string, number int) ([]JobRow, error) {
	if s.noTables != nil {
		return nil, s.noTables
	}
	rows, err := s.query(ctx, `SELECT j.job_key, j.kind, j.object_id, j.inputs_hash, j.status, j.attempts
		FROM jobs j JOIN revisions r ON r.id = j.revision_id WHERE r.env = ? AND r.number = ? ORDER BY j.job_key`, env, number)
	if err != nil {
		return nil, fmt.Errorf("read jobs: %w", err)
	}
	defer rows.Close()
	var out []JobRow
	for rows.Next() {
		var j JobRow
		if err := rows.Scan(&j.Key, &j.Kind, &j.ObjectID, &j.InputsHash, &j.Status, &j.Attempts); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}
