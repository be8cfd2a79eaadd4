package metadata

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bic-dev/bic/compiler"
)

// StatusReport is what bic status shows: where each environment's
// revisions are, which jobs failed and why, and how fresh their data is.
type StatusReport struct {
	Environments []EnvironmentStatus
}

// EnvironmentStatus is one environment's part of a StatusReport.
type EnvironmentStatus struct {
	Env string
	// Current and Live are revision numbers, as in Environment.
	Current, Live int
	// Revisions, newest first.
	Revisions []RevisionJobs
	// Alerts is the state of each alert evaluated in the environment (a
	// preview's are dry runs), by name.
	Alerts []AlertState
	// FailedDeliveries are the notifications that did not reach their
	// channel, newest first, at most maxFailedDeliveries.
	FailedDeliveries []FailedDelivery
}

// FailedDelivery is a notification that failed on one channel.
type FailedDelivery struct {
	Key, Channel string // the idempotency key (env/kind/name/tick/state) and the channel's name
	Attempts     int
	Error        string
	At           time.Time
}

// maxFailedDeliveries bounds the failed deliveries a status lists.
const maxFailedDeliveries = 20

// RevisionJobs is where one revision's jobs are.
type RevisionJobs struct {
	Number int
	Status RevisionStatus
	// Jobs counts the revision's jobs by status; a status no job is in is absent.
	Jobs map[JobStatus]int
	// Failed are its jobs that failed for good, by key.
	Failed []FailedJob
	// OldestData and NewestData are the oldest and newest computed_at of
	// the cache entries its done jobs recorded: how fresh what it serves
	// is. Zero when no job recorded an input key.
	OldestData, NewestData time.Time
}

// FailedJob is a job that failed for good, with the cause its last attempt gave.
type FailedJob struct {
	ID        int64
	Key       string
	Kind      compiler.JobKind
	ObjectID  string
	Attempts  int
	LastError string
}

// JobTiming is a done job with how long its last attempt took.
type JobTiming struct {
	JobRow
	// Took is the last attempt's finished_at - started_at; its phases are
	// in Result.
	Took time.Duration
}

// envFilter is the WHERE condition (and its arguments) on revisions r
// that selects env, or every environment when env is empty.
func envFilter(env string) (string, []any) {
	if env == "" {
		return "", nil
	}
	return " AND r.env = ?", []any{env}
}

// Status reports on an environment, or on every environment when env is
// empty. An environment that does not exist is ErrNoEnvironment.
func (s *Store) Status(ctx context.Context, env string) (StatusReport, error) {
	var envs []Environment
	if env == "" {
		var err error
		if envs, err = s.Environments(ctx); err != nil {
			return StatusReport{}, err
		}
	} else {
		e, err := s.Environment(ctx, env)
		if err != nil {
			return StatusReport{}, err
		}
		envs = []Environment{e}
	}
	report := StatusReport{Environments: make([]EnvironmentStatus, len(envs))}
	revs := map[string]map[int]*RevisionJobs{}
	for i, e := range envs {
		report.Environments[i] = EnvironmentStatus{Env: e.Name, Current: e.Revision, Live: e.Live}
		revs[e.Name] = map[int]*RevisionJobs{}
	}
	// rev finds a revision's entry; one of an environment created since
	// envs was read is left out.
	rev := func(env string, number int) *RevisionJobs { return revs[env][number] }
	where, args := envFilter(env)

	if err := s.statusCounts(ctx, where, args, revs); err != nil {
		return StatusReport{}, err
	}
	if err := s.statusFailed(ctx, where, args, rev); err != nil {
		return StatusReport{}, err
	}
	if err := s.statusFreshness(ctx, where, args, rev); err != nil {
		return StatusReport{}, err
	}
	for i := range report.Environments {
		e := &report.Environments[i]
		if err := s.statusAlerts(ctx, e); err != nil {
			return StatusReport{}, err
		}
		for _, r := range revs[e.Env] {
			e.Revisions = append(e.Revisions, *r)
		}
		sort.Slice(e.Revisions, func(a, b int) bool { return e.Revisions[a].Number > e.Revisions[b].Number })
	}
	return report, nil
}

// statusCounts reads every revision of the environments, with its jobs
// counted by status.
func (s *Store) statusCounts(ctx context.Context, where string, args []any, revs map[string]map[int]*RevisionJobs) error {
	rows, err := s.query(ctx, `SELECT r.env, r.number, r.status, j.status, count(j.id)
		FROM revisions r LEFT JOIN jobs j ON j.revision_id = r.id WHERE 1 = 1`+where+`
		GROUP BY r.env, r.number, r.status, j.status`, args...)
	if err != nil {
		return fmt.Errorf("read job counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var env, status string
		var number, n int
		var jobStatus sql.NullString
		if err := rows.Scan(&env, &number, &status, &jobStatus, &n); err != nil {
			return fmt.Errorf("read job counts: %w", err)
		}
		byNumber, ok := revs[env]
		if !ok {
			continue
		}
		r := byNumber[number]
		if r == nil {
			r = &RevisionJobs{Number: number, Status: RevisionStatus(status), Jobs: map[JobStatus]int{}}
			byNumber[number] = r
		}
		if jobStatus.Valid {
			r.Jobs[JobStatus(jobStatus.String)] = n
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read job counts: %w", err)
	}
	return nil
}

// statusFailed reads the jobs that failed for good.
func (s *Store) statusFailed(ctx context.Context, where string, args []any, rev func(string, int) *RevisionJobs) error {
	rows, err := s.query(ctx, `SELECT r.env, r.number, j.id, j.job_key, j.kind, j.object_id, j.attempts, j.last_error
		FROM jobs j JOIN revisions r ON r.id = j.revision_id WHERE j.status = ?`+where+`
		ORDER BY r.env, r.number, j.job_key`, append([]any{string(JobFailed)}, args...)...)
	if err != nil {
		return fmt.Errorf("read failed jobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var env, kind string
		var number int
		var f FailedJob
		if err := rows.Scan(&env, &number, &f.ID, &f.Key, &kind, &f.ObjectID, &f.Attempts, &f.LastError); err != nil {
			return fmt.Errorf("read failed jobs: %w", err)
		}
		f.Kind = compiler.JobKind(kind)
		if r := rev(env, number); r != nil {
			r.Failed = append(r.Failed, f)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read failed jobs: %w", err)
	}
	return nil
}

// statusFreshness reads the oldest and newest cache entry of each revision's jobs.
func (s *Store) statusFreshness(ctx context.Context, where string, args []any, rev func(string, int) *RevisionJobs) error {
	rows, err := s.query(ctx, `SELECT r.env, r.number, min(c.computed_at), max(c.computed_at)
		FROM jobs j JOIN revisions r ON r.id = j.revision_id JOIN cache_entries c ON c.input_key = j.input_key
		WHERE j.input_key <> ''`+where+`
		GROUP BY r.env, r.number`, args...)
	if err != nil {
		return fmt.Errorf("read cache freshness: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var env string
		var number int
		var oldest, newest any
		if err := rows.Scan(&env, &number, &oldest, &newest); err != nil {
			return fmt.Errorf("read cache freshness: %w", err)
		}
		r := rev(env, number)
		if r == nil {
			continue
		}
		if r.OldestData, err = scanTime(oldest); err != nil {
			return fmt.Errorf("read cache freshness of %s revision %d: %w", env, number, err)
		}
		if r.NewestData, err = scanTime(newest); err != nil {
			return fmt.Errorf("read cache freshness of %s revision %d: %w", env, number, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read cache freshness: %w", err)
	}
	return nil
}

// Slowest lists the n done jobs whose last attempt took longest, in an
// environment or in every one when env is empty, slowest first: what
// bic status --slow shows, with each job's phases and whether the cache
// answered. Jobs completed without MarkRunning have no start, and are
// not listed.
func (s *Store) Slowest(ctx context.Context, env string, n int) ([]JobTiming, error) {
	if s.noTables != nil {
		return nil, s.noTables
	}
	if n <= 0 {
		return nil, nil
	}
	took := `julianday(j.finished_at) - julianday(j.started_at)`
	if s.dialect.name == "postgres" {
		took = `j.finished_at - j.started_at`
	}
	where, args := envFilter(env)
	jobs, err := s.readJobs(ctx, nil, false, `SELECT `+jobColumns+` FROM jobs j JOIN revisions r ON r.id = j.revision_id
		WHERE j.status = ? AND j.started_at IS NOT NULL AND j.finished_at IS NOT NULL`+where+`
		ORDER BY `+took+` DESC, j.id LIMIT ?`, append(append([]any{string(JobDone)}, args...), n)...)
	if err != nil {
		return nil, fmt.Errorf("read the slowest jobs: %w", err)
	}
	out := make([]JobTiming, len(jobs))
	for i, j := range jobs {
		out[i] = JobTiming{JobRow: j, Took: j.FinishedAt.Sub(j.StartedAt)}
	}
	return out, nil
}

// statusAlerts reads the environment's alert states and its failed
// deliveries (their keys start with the environment's name).
func (s *Store) statusAlerts(ctx context.Context, e *EnvironmentStatus) error {
	rows, err := s.query(ctx, `SELECT alert FROM alert_state WHERE env = ? ORDER BY alert`, e.Env)
	if err != nil {
		return fmt.Errorf("read alert states: %w", err)
	}
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("read alert states: %w", err)
		}
		names = append(names, name)
	}
	rows.Close()
	for _, name := range names {
		st, err := s.AlertState(ctx, e.Env, name)
		if err != nil {
			return err
		}
		e.Alerts = append(e.Alerts, st)
	}
	rows, err = s.query(ctx, `SELECT key, channel, attempts, error, at FROM deliveries
		WHERE status = 'failed' AND key LIKE ? ORDER BY at DESC LIMIT `+fmt.Sprint(maxFailedDeliveries), e.Env+"/%")
	if err != nil {
		return fmt.Errorf("read failed deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d FailedDelivery
		var at any
		if err := rows.Scan(&d.Key, &d.Channel, &d.Attempts, &d.Error, &at); err != nil {
			return fmt.Errorf("read failed deliveries: %w", err)
		}
		if d.At, err = scanTime(at); err != nil {
			return fmt.Errorf("read failed deliveries: %w", err)
		}
		if strings.HasPrefix(d.Key, e.Env+"/") { // LIKE also takes _ for any character
			e.FailedDeliveries = append(e.FailedDeliveries, d)
		}
	}
	return rows.Err()
}
