package metadata

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bic-dev/bic/compiler"
)

// ErrJobState is the answer to a transition that the job's state does not
// allow: completing a failed job, running a done one.
var ErrJobState = errors.New("the job's state does not allow this")

// JobRow is one job of the outbox, with everything a runner needs to
// compute it without planning the project again: the revision it belongs
// to (whose manifest Manifest returns), the object, the normalised filter
// state and the as_of that relative windows resolve against.
type JobRow struct {
	compiler.Job
	ID       int64
	Env      string
	Revision int // the revision's number
	Status   JobStatus
	Attempts int
	// LastError is the cause the last Fail gave.
	LastError string
	// AsOf is the store's clock when the revision was applied.
	AsOf time.Time
	// RunAt is when the job may be claimed: its creation, a retry's time,
	// or the end of a claim's lease.
	RunAt time.Time
	// RevisionID is the revision's row id: with the job's key it names
	// the job across environments (the dispatcher's message id).
	RevisionID int64
	// StartedAt and FinishedAt are the last attempt's: MarkRunning starts
	// one, Complete or Fail ends it. Zero when it did not happen.
	StartedAt, FinishedAt time.Time
	// Result is what Complete recorded.
	Result JobResult
}

// jobColumns are what scanJob reads, from jobs j joined to revisions r.
const jobColumns = `j.id, j.revision_id, r.env, r.number, j.job_key, j.kind, j.object_id, j.inputs_hash, j.state_key,
	coalesce(j.state, ''), j.as_of, j.run_at, j.status, j.attempts, j.last_error, ` + resultColumns

func scanJob(rows *sql.Rows) (JobRow, error) {
	var (
		j            JobRow
		state        string
		asOf, runAt  any
		kind, status string
		res          resultScan
	)
	dest := []any{&j.ID, &j.RevisionID, &j.Env, &j.Revision, &j.Key, &kind, &j.ObjectID, &j.InputsHash, &j.StateKey,
		&state, &asOf, &runAt, &status, &j.Attempts, &j.LastError}
	if err := rows.Scan(append(dest, res.dest()...)...); err != nil {
		return j, err
	}
	j.Kind, j.Status = compiler.JobKind(kind), JobStatus(status)
	if state != "" {
		j.State = []byte(state)
	}
	var err error
	if j.AsOf, err = scanTime(asOf); err != nil {
		return j, fmt.Errorf("job %s: as_of: %w", j.Key, err)
	}
	if j.RunAt, err = scanTime(runAt); err != nil {
		return j, fmt.Errorf("job %s: run_at: %w", j.Key, err)
	}
	if err := res.fill(&j); err != nil {
		return j, fmt.Errorf("job %s: %w", j.Key, err)
	}
	return j, nil
}

// queryer is a database or a transaction.
type queryer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// readJobs runs a query of jobColumns, on tx or (nil) the database, and
// fills in each job's dependencies. cache says that query is one constant
// string, a statement worth keeping prepared (see stmtCache).
func (s *Store) readJobs(ctx context.Context, tx *sql.Tx, cache bool, query string, args ...any) ([]JobRow, error) {
	run := func(cache bool, q string, args ...any) (*sql.Rows, error) {
		if cache {
			return s.cachedQuery(ctx, tx, q, args...)
		}
		return s.on(tx).QueryContext(ctx, s.dialect.rebind(q), args...)
	}
	rows, err := run(cache, query, args...)
	if err != nil {
		return nil, err
	}
	var out []JobRow
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	revs := map[int64]bool{}
	var ids []any
	for _, j := range out {
		if !revs[j.RevisionID] {
			revs[j.RevisionID] = true
			ids = append(ids, j.RevisionID)
		}
	}
	deps := map[int64]map[string][]string{}
	depQuery := `SELECT revision_id, job_key, depends_on FROM job_dependencies
		WHERE revision_id IN (` + placeholders(len(ids), 1) + `) ORDER BY depends_on`
	if len(out) <= 100 {
		// A few jobs (a runner reading the one it got): their own rows,
		// not the revision's, whose publish job depends on every job.
		ids = ids[:0]
		var or []string
		for _, j := range out {
			or = append(or, "(revision_id = ? AND job_key = ?)")
			ids = append(ids, j.RevisionID, j.Key)
		}
		depQuery = `SELECT revision_id, job_key, depends_on FROM job_dependencies WHERE ` + strings.Join(or, " OR ") + ` ORDER BY depends_on`
	}
	// One job's dependency query is one constant string too.
	drows, err := run(cache && len(out) == 1, depQuery, ids...)
	if err != nil {
		return nil, fmt.Errorf("read job dependencies: %w", err)
	}
	defer drows.Close()
	for drows.Next() {
		var rev int64
		var key, on string
		if err := drows.Scan(&rev, &key, &on); err != nil {
			return nil, fmt.Errorf("read job dependencies: %w", err)
		}
		if deps[rev] == nil {
			deps[rev] = map[string][]string{}
		}
		deps[rev][key] = append(deps[rev][key], on)
	}
	if err := drows.Err(); err != nil {
		return nil, fmt.Errorf("read job dependencies: %w", err)
	}
	for i := range out {
		out[i].DependsOn = deps[out[i].RevisionID][out[i].Key]
	}
	return out, nil
}

// Jobs lists the jobs an environment's revision enqueued, by key.
func (s *Store) Jobs(ctx context.Context, env string, number int) ([]JobRow, error) {
	if s.noTables != nil {
		return nil, s.noTables
	}
	jobs, err := s.readJobs(ctx, nil, false, `SELECT `+jobColumns+` FROM jobs j JOIN revisions r ON r.id = j.revision_id
		WHERE r.env = ? AND r.number = ? ORDER BY j.job_key`, env, number)
	if err != nil {
		return nil, fmt.Errorf("read jobs of %s revision %d: %w", env, number, err)
	}
	return jobs, nil
}

// writeJobs inserts a revision's jobs and what each waits for: the
// dependencies the plan names (a thumbnail waits for its dashboard's chart
// data), and for the publish job every other job of the revision.
func (s *Store) writeJobs(ctx context.Context, tx *sql.Tx, revID int64, jobs []compiler.Job, now time.Time) error {
	keys := map[string]bool{}
	for _, j := range jobs {
		if keys[j.Key] {
			return fmt.Errorf("job %s is planned twice", j.Key)
		}
		keys[j.Key] = true
	}
	rows := make([][]any, len(jobs))
	var deps [][]any
	for i, j := range jobs {
		var state any
		if len(j.State) > 0 {
			state = string(j.State)
		}
		rows[i] = []any{revID, j.Key, string(j.Kind), j.ObjectID, j.InputsHash, j.StateKey, state,
			s.dialect.ts(now), s.dialect.ts(now), string(JobPending), s.dialect.ts(now), s.dialect.ts(now)}
		on := map[string]bool{}
		for _, d := range j.DependsOn {
			if !keys[d] {
				return fmt.Errorf("job %s depends on %s, which the plan does not hold", j.Key, d)
			}
			on[d] = true
		}
		if j.Kind == compiler.JobPublish {
			for _, o := range jobs {
				if o.Kind != compiler.JobPublish {
					on[o.Key] = true
				}
			}
		}
		delete(on, j.Key)
		for _, d := range sortedSet(on) {
			deps = append(deps, []any{revID, j.Key, d})
		}
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO jobs (revision_id, job_key, kind, object_id, inputs_hash, state_key, state, as_of, run_at, status, created_at, updated_at) VALUES `, "", 12, rows); err != nil {
		return fmt.Errorf("write jobs: %w", err)
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO job_dependencies (revision_id, job_key, depends_on) VALUES `, "", 3, deps); err != nil {
		return fmt.Errorf("write job dependencies: %w", err)
	}
	return nil
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Claim takes up to limit runnable jobs for a dispatcher and returns them.
// A job is runnable when it is pending, its revision is pending (a failed
// or superseded revision computes nothing more), every job it depends on
// is done, and its run_at has passed. Claiming moves run_at lease into the
// future: the claimer marks the jobs dispatched within the lease, or they
// become claimable again. Concurrent claimers never get the same job:
// PostgreSQL locks the rows (FOR UPDATE SKIP LOCKED, so claimers do not
// wait for each other), SQLite holds its write lock.
func (s *Store) Claim(ctx context.Context, limit int, lease time.Duration) ([]JobRow, error) {
	if s.readOnly {
		return nil, fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	if limit <= 0 {
		return nil, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: begin: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	rows, err := tx.QueryContext(ctx, s.dialect.rebind(`SELECT j.id FROM jobs j JOIN revisions r ON r.id = j.revision_id
		WHERE j.status = ? AND r.status = ? AND j.run_at <= ?
		AND NOT EXISTS (SELECT 1 FROM job_dependencies d JOIN jobs dj ON dj.revision_id = d.revision_id AND dj.job_key = d.depends_on
			WHERE d.revision_id = j.revision_id AND d.job_key = j.job_key AND dj.status <> ?)
		ORDER BY j.run_at, j.id LIMIT ?`+s.dialect.forUpdate),
		string(JobPending), string(RevisionPending), s.dialect.ts(now), string(JobDone), limit)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim jobs: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	args := append([]any{s.dialect.ts(now.Add(lease)), s.dialect.ts(now)}, ids...)
	if _, err := tx.ExecContext(ctx, s.dialect.rebind(`UPDATE jobs SET run_at = ?, updated_at = ? WHERE id IN (`+placeholders(len(ids), 1)+`)`), args...); err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	jobs, err := s.readJobs(ctx, tx, false, `SELECT `+jobColumns+` FROM jobs j JOIN revisions r ON r.id = j.revision_id
		WHERE j.id IN (`+placeholders(len(ids), 1)+`) ORDER BY j.run_at, j.id`, ids...)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim jobs: commit: %w", err)
	}
	return jobs, nil
}

// MarkDispatched records that claimed jobs were handed to the queue. A
// job moves only while it is as it was claimed (pending, with the same
// attempts): a runner may have taken its message already, and even failed
// it back to pending for a retry, and marking that row dispatched would
// leave it waiting for a message that was consumed. Rows that moved on
// are left as they are.
func (s *Store) MarkDispatched(ctx context.Context, jobs ...JobRow) error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	for len(jobs) > 0 {
		batch := jobs[:min(len(jobs), 200)]
		jobs = jobs[len(batch):]
		args := []any{string(JobDispatched), s.dialect.ts(s.now()), string(JobPending)}
		or := make([]string, len(batch))
		for i, j := range batch {
			or[i] = "(id = ? AND attempts = ?)"
			args = append(args, j.ID, j.Attempts)
		}
		_, err := s.db.ExecContext(ctx, s.dialect.rebind(`UPDATE jobs SET status = ?, updated_at = ? WHERE status = ? AND (`+strings.Join(or, " OR ")+`)`), args...)
		if err != nil {
			return fmt.Errorf("mark %d jobs dispatched: %w", len(batch), err)
		}
	}
	return nil
}

// MarkRunning records that a runner started an attempt at a job: it
// counts the attempt and sets started_at (clearing the previous attempt's
// finished_at), so the job's timing is its last attempt's.
//
// A runner that dies mid-job leaves the row running; JetStream redelivers
// the message once its ack wait passes, and the next runner's MarkRunning
// on the running row succeeds and counts another attempt, so a crash
// costs an attempt the way a Fail does. Nothing else reclaims a running
// row: there is no lease on it, and MarkRunning does not stop at the
// attempts limit (only Fail does), so a job that kills every runner is
// bounded by the stream's MaxDeliver, not by this store. A done or failed
// job is ErrJobState, so a duplicate delivery is dropped.
func (s *Store) MarkRunning(ctx context.Context, id int64) error {
	now := s.dialect.ts(s.now())
	return s.move(ctx, id, JobRunning, "attempts = attempts + 1, started_at = ?, finished_at = NULL, ", []any{now},
		[]JobStatus{JobPending, JobDispatched, JobRunning})
}

// move is a transition of one job that touches nothing else; set, with
// its arguments setArgs, assigns more columns.
func (s *Store) move(ctx context.Context, id int64, to JobStatus, set string, setArgs []any, from []JobStatus) error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	args := append(append([]any{}, setArgs...), string(to), s.dialect.ts(s.now()), id)
	for _, f := range from {
		args = append(args, string(f))
	}
	// One string per caller: its set and its from are constants.
	res, err := s.cachedExec(ctx, nil, `UPDATE jobs SET `+set+`status = ?, updated_at = ? WHERE id = ? AND status IN (`+placeholders(len(from), 1)+`)`, args...)
	if err != nil {
		return fmt.Errorf("mark job %d %s: %w", id, to, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("mark job %d %s: %w", id, to, err)
	}
	if n == 0 {
		return s.notMoved(ctx, id, to)
	}
	return nil
}

// notMoved explains a transition that matched no row.
func (s *Store) notMoved(ctx context.Context, id int64, to JobStatus) error {
	var status string
	err := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT status FROM jobs WHERE id = ?`), id).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("mark job %d %s: no such job: %w", id, to, ErrJobState)
	case err != nil:
		return fmt.Errorf("mark job %d %s: %w", id, to, err)
	}
	return fmt.Errorf("mark job %d %s: it is %s: %w", id, to, status, ErrJobState)
}

// jobInTx is what Complete and Fail read of a job under its environment's lock.
type jobInTx struct {
	kind           compiler.JobKind
	status         JobStatus
	attempts       int
	revID          int64
	number         int
	revisionStatus RevisionStatus
}

// inJobTx runs f under the lock of the job's environment, with the job as
// it is once the lock is held.
func (s *Store) inJobTx(ctx context.Context, id int64, what string, f func(tx *sql.Tx, env string, j jobInTx) error) error {
	var env string
	err := s.cachedQueryRow(ctx, nil, `SELECT r.env FROM jobs j JOIN revisions r ON r.id = j.revision_id WHERE j.id = ?`, id).Scan(&env)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s job %d: no such job: %w", what, id, ErrJobState)
	case err != nil:
		return fmt.Errorf("%s job %d: %w", what, id, err)
	}
	err = s.inEnvTx(ctx, env, func(tx *sql.Tx) error {
		var j jobInTx
		var kind, status, revStatus string
		err := s.cachedQueryRow(ctx, tx, `SELECT j.kind, j.status, j.attempts, r.id, r.number, r.status
			FROM jobs j JOIN revisions r ON r.id = j.revision_id WHERE j.id = ?`, id).
			Scan(&kind, &status, &j.attempts, &j.revID, &j.number, &revStatus)
		if err != nil {
			return fmt.Errorf("read job: %w", err)
		}
		j.kind, j.status, j.revisionStatus = compiler.JobKind(kind), JobStatus(status), RevisionStatus(revStatus)
		return f(tx, env, j)
	})
	if err != nil {
		return fmt.Errorf("%s job %d: %w", what, id, err)
	}
	return nil
}

// Complete records that a job is done, so the jobs that wait for it may
// run. Completing the publish job makes its revision live and the one
// that was live superseded, unless a newer revision is live already: then
// this one is superseded. Completing a done job again changes nothing,
// its first result included. r is what the attempt found (see JobResult).
func (s *Store) Complete(ctx context.Context, id int64, r JobResult) error {
	return s.complete(ctx, id, r, nil)
}

// CompletePublish is Complete for a publish job whose release is written
// but not served yet: flip points the environment's pointer at it. flip
// runs only when the job's revision goes live, under the environment's
// lock and inside the transaction that makes it live, which commits after
// it; when a newer revision is live, or the revision is no longer
// pending, flip does not run and the revision is superseded. Every writer
// of an environment's pointer (this, ApplyPublished, WhileLive) holds that
// lock and checks the live revision under it, so the pointer cannot be
// flipped back to a revision another writer replaced meanwhile. If flip
// fails nothing is recorded; if it succeeded but the commit does not, the
// caller puts the pointer back. flip must not use the store.
func (s *Store) CompletePublish(ctx context.Context, id int64, r JobResult, flip func(ctx context.Context) error) error {
	return s.complete(ctx, id, r, flip)
}

func (s *Store) complete(ctx context.Context, id int64, r JobResult, flip func(ctx context.Context) error) error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	if flip == nil {
		// Any job but a publish touches its own row only: one statement,
		// which moves the row only from a state a runner completes, needs
		// no lock of its environment (every Completer of an environment
		// waited for every other on that lock). The publish job, and a
		// row not in such a state (done already, failed, gone), take the
		// way below, which says what it is.
		args := append(s.doneArgs(r), id, string(compiler.JobPublish), string(JobPending), string(JobDispatched), string(JobRunning))
		res, err := s.cachedExec(ctx, nil, `UPDATE jobs SET `+doneSet+` WHERE id = ? AND kind <> ? AND status IN (?, ?, ?)`, args...)
		if err != nil {
			return fmt.Errorf("complete job %d: mark done: %w", id, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			return nil
		}
	}
	return s.inJobTx(ctx, id, "complete", func(tx *sql.Tx, env string, j jobInTx) error {
		switch j.status {
		case JobDone:
			return nil
		case JobFailed:
			return fmt.Errorf("it failed for good: %w", ErrJobState)
		}
		if _, err := s.cachedExec(ctx, tx, `UPDATE jobs SET `+doneSet+` WHERE id = ?`, append(s.doneArgs(r), id)...); err != nil {
			return fmt.Errorf("mark done: %w", err)
		}
		if j.kind != compiler.JobPublish {
			return nil
		}
		return s.goLive(ctx, tx, env, j, flip)
	})
}

// doneSet is what marking a job done sets, with the arguments doneArgs
// gives: its status, times and result.
const doneSet = `status = ?, last_error = '', updated_at = ?, finished_at = ?, ` + resultSet

func (s *Store) doneArgs(r JobResult) []any {
	now := s.dialect.ts(s.now())
	return append([]any{string(JobDone), now, now}, r.args()...)
}

// liveNumber is the number of env's live revision (0: none), read in tx;
// sql.ErrNoRows when env does not exist.
func (s *Store) liveNumber(ctx context.Context, tx *sql.Tx, env string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, s.dialect.rebind(`SELECT coalesce(l.number, 0)
		FROM environments e LEFT JOIN revisions l ON l.id = e.live_revision WHERE e.name = ?`), env).Scan(&n)
	return n, err
}

// goLive is a publish job's completion: the revision's release is the one
// served now. flip, when set, runs just before the revision is made live.
func (s *Store) goLive(ctx context.Context, tx *sql.Tx, env string, j jobInTx, flip func(ctx context.Context) error) error {
	liveNumber, err := s.liveNumber(ctx, tx, env)
	if err != nil {
		return fmt.Errorf("read live revision: %w", err)
	}
	if j.revisionStatus != RevisionPending || liveNumber > j.number {
		// Published after a newer revision went live: that one stays.
		if _, err := s.exec(ctx, tx, `UPDATE revisions SET status = ? WHERE id = ? AND status = ?`, string(RevisionSuperseded), j.revID, string(RevisionPending)); err != nil {
			return fmt.Errorf("supersede revision %d: %w", j.number, err)
		}
		return nil
	}
	if flip != nil {
		if err := flip(ctx); err != nil {
			return err
		}
	}
	if err := s.setLive(ctx, tx, env, j.revID, j.number); err != nil {
		return err
	}
	return s.audit(ctx, tx, "runner", "live", env, fmt.Sprintf(`{"revision": %d, "previous": %d}`, j.number, liveNumber))
}

// setLive makes revision number (id revID) of env the live one. The one
// that was live, and older revisions still pending, will never be served:
// they are superseded, so their remaining jobs are not claimed any more.
func (s *Store) setLive(ctx context.Context, tx *sql.Tx, env string, revID int64, number int) error {
	if _, err := s.exec(ctx, tx, `UPDATE revisions SET status = ? WHERE env = ? AND number < ? AND status IN (?, ?)`,
		string(RevisionSuperseded), env, number, string(RevisionLive), string(RevisionPending)); err != nil {
		return fmt.Errorf("supersede revisions before %d: %w", number, err)
	}
	if _, err := s.exec(ctx, tx, `UPDATE revisions SET status = ? WHERE id = ?`, string(RevisionLive), revID); err != nil {
		return fmt.Errorf("make revision %d live: %w", number, err)
	}
	if _, err := s.exec(ctx, tx, `UPDATE environments SET live_revision = ? WHERE name = ?`, revID, env); err != nil {
		return fmt.Errorf("make revision %d live: %w", number, err)
	}
	return nil
}

// Fail records that an attempt at a job failed with cause. While attempts
// are left the job is pending again, claimable from retryAt (now, if
// zero); after the last one it has failed for good, and so has its
// revision, whose release is never published: the live revision stays
// live. It returns the job's new state.
func (s *Store) Fail(ctx context.Context, id int64, cause string, retryAt time.Time) (JobStatus, error) {
	return s.fail(ctx, id, cause, retryAt, false)
}

// FailForGood records that a job failed with cause and will not be tried
// again, whatever attempts it has left: its runners kept dying on it, or
// it cannot be computed at all. Its revision fails.
func (s *Store) FailForGood(ctx context.Context, id int64, cause string) error {
	_, err := s.fail(ctx, id, cause, time.Time{}, true)
	return err
}

func (s *Store) fail(ctx context.Context, id int64, cause string, retryAt time.Time, forGood bool) (JobStatus, error) {
	if s.readOnly {
		return "", fmt.Errorf("%s: %w", s.where, ErrReadOnly)
	}
	var to JobStatus
	err := s.inJobTx(ctx, id, "fail", func(tx *sql.Tx, env string, j jobInTx) error {
		if j.status == JobDone || j.status == JobFailed {
			return fmt.Errorf("it is %s: %w", j.status, ErrJobState)
		}
		attempts := j.attempts
		if j.status != JobRunning {
			attempts++ // it failed before a runner started it: that counts too
		}
		now := s.now()
		if retryAt.IsZero() || retryAt.Before(now) {
			retryAt = now
		}
		to = JobPending
		if attempts >= s.maxAttempts || forGood {
			to = JobFailed
		}
		// Only from the state read: a job's row also moves outside its
		// environment's lock (MarkRunning, and Complete of any job but a
		// publish), and a job completed meanwhile stays done.
		res, err := s.exec(ctx, tx, `UPDATE jobs SET status = ?, attempts = ?, last_error = ?, run_at = ?, updated_at = ?, finished_at = ? WHERE id = ? AND status = ? AND attempts = ?`,
			string(to), attempts, strings.TrimSpace(cause), s.dialect.ts(retryAt), s.dialect.ts(now), s.dialect.ts(now), id, string(j.status), j.attempts)
		if err != nil {
			return fmt.Errorf("mark %s: %w", to, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("mark %s: %w", to, err)
		} else if n == 0 {
			return fmt.Errorf("it changed while failing it: %w", ErrJobState)
		}
		if to != JobFailed || j.revisionStatus != RevisionPending {
			return nil
		}
		if _, err := s.exec(ctx, tx, `UPDATE revisions SET status = ? WHERE id = ?`, string(RevisionFailed), j.revID); err != nil {
			return fmt.Errorf("fail revision %d: %w", j.number, err)
		}
		return s.audit(ctx, tx, "runner", "failed", env, fmt.Sprintf(`{"revision": %d, "attempts": %d}`, j.number, attempts))
	})
	if err != nil {
		return "", err
	}
	return to, nil
}
