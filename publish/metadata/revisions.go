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
	Name     string
	Kind     EnvKind
	Base     string // previews: the environment they start from
	Revision int    // the current revision's number, 0 before the first apply
	// Live is the number of the revision whose release is served, 0 until
	// a publish job is done. It differs from Revision while jobs run, and
	// after a revision failed.
	Live      int
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Revision is one applied version of an environment's definitions.
type Revision struct {
	Env          string
	Number       int
	Status       RevisionStatus
	Source       string // apply, rollback or preview
	RollbackOf   int
	ManifestHash string
	GitCommit    string
	GitAuthor    string
	AppliedBy    string
	AppliedAt    time.Time
	Objects      int
	Jobs         int
	// Current: the environment's latest definitions, what plan diffs
	// against. Live: the revision whose release is served.
	Current bool
	Live    bool
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
	rows, err := s.query(ctx, `SELECT e.name, e.kind, coalesce(e.base, ''), coalesce(r.number, 0), coalesce(l.number, 0), e.expires_at, e.created_at
		FROM environments e LEFT JOIN revisions r ON r.id = e.current_revision LEFT JOIN revisions l ON l.id = e.live_revision `+where+` ORDER BY e.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("read environments: %w", err)
	}
	defer rows.Close()
	var out []Environment
	for rows.Next() {
		var e Environment
		var expires, created any
		if err := rows.Scan(&e.Name, &e.Kind, &e.Base, &e.Revision, &e.Live, &expires, &created); err != nil {
			return nil, fmt.Errorf("read environments: %w", err)
		}
		if e.ExpiresAt, err = scanTime(expires); err != nil {
			return nil, fmt.Errorf("read environment %s: expires_at: %w", e.Name, err)
		}
		if e.CreatedAt, err = scanTime(created); err != nil {
			return nil, fmt.Errorf("read environment %s: created_at: %w", e.Name, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read environments: %w", err)
	}
	return out, nil
}

// Snapshot is what a plan of env diffs against. Its Revision is the
// current revision's number (an apply of the plan checks that it is still
// current); its objects are those of the newest revision of env that has
// not failed — normally the current one. After a failed revision that is
// the live one (or a newer pending one), so everything the failed
// revision changed is planned again, its failed jobs included, instead of
// being hidden behind the failed revision's hashes. An environment whose
// every revision failed, one that does not exist yet, and every
// environment of a database without bic's tables, have no objects.
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
	var against sql.NullInt64
	if err := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT max(number) FROM revisions WHERE env = ? AND status <> ?`),
		env, RevisionFailed).Scan(&against); err != nil {
		return snap, fmt.Errorf("read the newest revision of %s that has not failed: %w", env, err)
	}
	if !against.Valid {
		return snap, nil
	}
	return snap, s.readObjects(ctx, env, int(against.Int64), snap.Objects)
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
			return fmt.Errorf("read objects of %s revision %d: %w", env, number, err)
		}
		into[id] = compiler.SnapshotObject{Hash: hash}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read objects of %s revision %d: %w", env, number, err)
	}
	return nil
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
				return fmt.Errorf("read specs: %w", err)
			}
			if o, ok := snap.Objects[id]; ok && o.Hash == hash {
				o.Spec = json.RawMessage(spec)
				snap.Objects[id] = o
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read specs: %w", err)
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
		if r.AppliedAt, err = scanTime(at); err != nil {
			return nil, fmt.Errorf("read history of %s: revision %d: applied_at: %w", env, r.Number, err)
		}
		r.Current = r.Number == e.Revision
		r.Live = r.Number == e.Live
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read history of %s: %w", env, err)
	}
	return out, nil
}

// Manifest reads the manifest a revision was applied with. Manifests are
// cached by their hash, so the jobs of one revision (and revisions that
// share definitions) decode it once; the result is shared and must not be
// modified.
func (s *Store) Manifest(ctx context.Context, env string, number int) (*compiler.Manifest, error) {
	if s.noTables != nil {
		return nil, s.noTables
	}
	var hash string
	err := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT manifest_hash FROM revisions WHERE env = ? AND number = ?`), env, number).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s revision %d: %w", env, number, ErrNoRevision)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s revision %d: %w", env, number, err)
	}
	if m := s.cachedManifest(hash); m != nil {
		return m, nil
	}
	var raw string
	err = s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT manifest FROM revisions WHERE env = ? AND number = ?`), env, number).Scan(&raw)
	if err != nil {
		return nil, fmt.Errorf("read %s revision %d: %w", env, number, err)
	}
	var m compiler.Manifest
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("decode %s revision %d: %w", env, number, err)
	}
	s.decodes.Add(1)
	s.cacheManifest(hash, &m)
	return &m, nil
}

// JobManifest is Manifest for a job's revision, found by the revision's
// id, which is never reused (AUTOINCREMENT on SQLite, a sequence on
// PostgreSQL): a runner reads each revision's manifest hash once, not once
// per job.
func (s *Store) JobManifest(ctx context.Context, j JobRow) (*compiler.Manifest, error) {
	s.manifestMu.Lock()
	hash, ok := s.revisionHashes[j.RevisionID]
	s.manifestMu.Unlock()
	if ok {
		if m := s.cachedManifest(hash); m != nil {
			return m, nil
		}
	}
	m, err := s.Manifest(ctx, j.Env, j.Revision)
	if err != nil {
		return nil, err
	}
	s.manifestMu.Lock()
	defer s.manifestMu.Unlock()
	if len(s.revisionHashes) >= 4096 {
		clear(s.revisionHashes)
	}
	s.revisionHashes[j.RevisionID] = m.Hash
	return m, nil
}

// manifestCacheSize bounds the manifest cache: a runner works on a few
// revisions at a time.
const manifestCacheSize = 16

func (s *Store) cachedManifest(hash string) *compiler.Manifest {
	s.manifestMu.Lock()
	defer s.manifestMu.Unlock()
	return s.manifests[hash]
}

func (s *Store) cacheManifest(hash string, m *compiler.Manifest) {
	s.manifestMu.Lock()
	defer s.manifestMu.Unlock()
	if len(s.manifests) >= manifestCacheSize {
		clear(s.manifests)
	}
	s.manifests[hash] = m
}
