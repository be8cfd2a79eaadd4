package metadata

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/bic-dev/bic/compiler"
)

// ApplyRequest is one revision to write.
type ApplyRequest struct {
	Env      string
	Plan     *compiler.Plan
	Manifest *compiler.Manifest

	Source     string // apply, rollback, promote or preview
	RollbackOf int
	GitCommit  string
	GitAuthor  string
	AppliedBy  string

	// Preview, when set, creates or renews the environment as a preview.
	Preview *PreviewOptions
}

// PreviewOptions describe an ephemeral environment.
type PreviewOptions struct {
	Base string
	TTL  time.Duration
}

// Apply writes a new revision of an environment — the revision, the
// objects it holds and the jobs its plan implies — in one transaction, and
// makes it current: the definitions the next plan diffs against. It is
// pending, not live: it goes live when its publish job is done (see
// Complete), and the live revision keeps serving until then. Every job
// carries the store's clock at apply time as its as_of. Writers of one environment are serialized; a plan made
// against a revision that is no longer current fails with ErrStale, and a
// plan without changes with ErrNoChanges, writing nothing. If anything
// fails, or ctx is cancelled, nothing is written and the previous revision
// stays current.
func (s *Store) Apply(ctx context.Context, req ApplyRequest) (Revision, error) {
	return s.apply(ctx, req, req.Plan.Jobs, nil)
}

// apply writes a revision with the given jobs in one transaction; then,
// when set, runs inside that transaction once the revision is written.
func (s *Store) apply(ctx context.Context, req ApplyRequest, jobs []compiler.Job, then func(tx *sql.Tx, rev *Revision) error) (Revision, error) {
	if req.Source == "" {
		req.Source = "apply"
	}
	manifestJSON, err := json.Marshal(req.Manifest)
	if err != nil {
		return Revision{}, fmt.Errorf("encode manifest: %w", err)
	}
	var rev Revision
	err = s.inEnvTx(ctx, req.Env, func(tx *sql.Tx) error {
		var err error
		if rev, err = s.writeRevision(ctx, tx, req, manifestJSON, jobs); err != nil || then == nil {
			return err
		}
		return then(tx, &rev)
	})
	if err != nil {
		return Revision{}, fmt.Errorf("apply to %s: %w", req.Env, err)
	}
	return rev, nil
}

// writeRevision is Apply's work inside its transaction: the revision,
// its objects and the given jobs (the plan's, or none for a revision
// that is published already).
func (s *Store) writeRevision(ctx context.Context, tx *sql.Tx, req ApplyRequest, manifestJSON []byte, jobs []compiler.Job) (Revision, error) {
	now := s.now()

	var (
		kind    string
		current sql.NullInt64
		number  int
	)
	err := tx.QueryRowContext(ctx, s.dialect.rebind(`SELECT e.kind, e.current_revision, coalesce(r.number, 0)
		FROM environments e LEFT JOIN revisions r ON r.id = e.current_revision WHERE e.name = ?`), req.Env).Scan(&kind, &current, &number)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		kind = string(EnvPersistent)
		var expires any
		var base any
		if req.Preview != nil {
			kind = string(EnvPreview)
			expires = s.dialect.ts(now.Add(req.Preview.TTL))
			base = req.Preview.Base
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO environments (name, kind, base, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
			req.Env, kind, base, expires, s.dialect.ts(now)); err != nil {
			return Revision{}, fmt.Errorf("create environment %s: %w", req.Env, err)
		}
	case err != nil:
		return Revision{}, fmt.Errorf("read environment: %w", err)
	}
	if number != req.Plan.BaseRevision {
		return Revision{}, fmt.Errorf("%w: %s is at revision %d, but this plan was made against revision %d; run bic plan again", ErrStale, req.Env, number, req.Plan.BaseRevision)
	}
	// The plan decides (a first revision is written even without changes);
	// number is its BaseRevision here.
	if !req.Plan.WritesRevision() {
		return Revision{}, ErrNoChanges
	}
	if req.Preview != nil {
		if kind != string(EnvPreview) {
			return Revision{}, fmt.Errorf("%s is %w, not a preview; choose another name", req.Env, ErrPersistent)
		}
		if _, err := s.exec(ctx, tx, `UPDATE environments SET expires_at = ? WHERE name = ?`, s.dialect.ts(now.Add(req.Preview.TTL)), req.Env); err != nil {
			return Revision{}, fmt.Errorf("renew preview %s: %w", req.Env, err)
		}
	}

	rev := Revision{Env: req.Env, Number: number + 1, Status: RevisionPending, Source: req.Source, RollbackOf: req.RollbackOf,
		ManifestHash: req.Manifest.Hash, GitCommit: req.GitCommit, GitAuthor: req.GitAuthor, AppliedBy: req.AppliedBy, AppliedAt: now, Current: true}
	var rollbackOf any
	if req.RollbackOf > 0 {
		rollbackOf = req.RollbackOf
	}
	var revID int64
	err = tx.QueryRowContext(ctx, s.dialect.rebind(`INSERT INTO revisions (env, number, status, source, rollback_of, manifest_hash, manifest, git_commit, git_author, applied_by, applied_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		req.Env, rev.Number, string(rev.Status), rev.Source, rollbackOf, rev.ManifestHash, string(manifestJSON), rev.GitCommit, rev.GitAuthor, rev.AppliedBy, s.dialect.ts(now)).Scan(&revID)
	if err != nil {
		return Revision{}, fmt.Errorf("write revision: %w", err)
	}

	specs := req.Manifest.ObjectSpecs()
	// Only new content is stored; unchanged objects are already there.
	var newObjects [][]any
	for _, c := range req.Plan.Changes {
		if c.Action == compiler.ActionDelete {
			continue
		}
		o := specs[c.ID]
		newObjects = append(newObjects, []any{o.Hash, o.Kind, c.ID, string(o.JSON())})
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO objects (hash, kind, id, spec) VALUES `, ` ON CONFLICT (hash) DO NOTHING`, 4, newObjects); err != nil {
		return Revision{}, fmt.Errorf("write objects: %w", err)
	}
	ids := make([]string, 0, len(specs))
	for id := range specs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	members := make([][]any, len(ids))
	for i, id := range ids {
		members[i] = []any{revID, id, specs[id].Hash}
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO revision_objects (revision_id, object_id, hash) VALUES `, "", 3, members); err != nil {
		return Revision{}, fmt.Errorf("write revision objects: %w", err)
	}
	if s.afterObjects != nil {
		s.afterObjects()
	}
	if err := s.writeJobs(ctx, tx, revID, jobs, now); err != nil {
		return Revision{}, err
	}
	if _, err := s.exec(ctx, tx, `UPDATE environments SET current_revision = ? WHERE name = ?`, revID, req.Env); err != nil {
		return Revision{}, fmt.Errorf("make revision current: %w", err)
	}
	create, update, del := req.Plan.Counts()
	detail := fmt.Sprintf(`{"revision": %d, "create": %d, "update": %d, "delete": %d, "jobs": %d}`, rev.Number, create, update, del, len(jobs))
	if err := s.audit(ctx, tx, req.AppliedBy, req.Source, req.Env, detail); err != nil {
		return Revision{}, err
	}
	rev.Objects, rev.Jobs = len(members), len(jobs)
	return rev, nil
}

// insertRows inserts rows in batches of multi-row VALUES lists.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, prefix, suffix string, width int, rows [][]any) error {
	const batch = 500
	for start := 0; start < len(rows); start += batch {
		part := rows[start:min(start+batch, len(rows))]
		args := make([]any, 0, len(part)*width)
		for _, r := range part {
			args = append(args, r...)
		}
		if _, err := s.exec(ctx, tx, prefix+placeholders(len(part), width)+suffix, args...); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) audit(ctx context.Context, tx *sql.Tx, actor, action, env, detail string) error {
	if _, err := s.exec(ctx, tx, `INSERT INTO audit_log (at, actor, action, env, detail) VALUES (?, ?, ?, ?, ?)`,
		s.dialect.ts(s.now()), actor, action, env, detail); err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}
