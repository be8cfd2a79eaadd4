package metadata

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNoJob is JobByID's answer for an id no job has (any more: destroying
// an environment deletes its jobs), so a runner can drop the message.
var ErrNoJob = errors.New("no such job")

// JobResult is what a job's attempt found, recorded by Complete for
// bic status: which input key it computed, whether the cache answered,
// how many rows, and how long each phase took.
type JobResult struct {
	// InputKey is the cache entry's key; empty for a job that looked
	// nothing up (publish, schedule), which records no CacheHit or Rows.
	InputKey string
	CacheHit bool
	// Rows is the result's row count; NoRows when it has none.
	Rows int64
	// The phases: waiting in the queue, asking the warehouse, encoding
	// JSON and CSV, writing blobs. A phase that did not happen is zero
	// (a cache hit has no warehouse phase) and is stored as NULL.
	Queue, Warehouse, Encode, Upload time.Duration
}

// resultColumns are a job's result, in the order resultScan reads them.
const resultColumns = `j.started_at, j.finished_at, j.queue_ms, j.warehouse_ms, j.encode_ms, j.upload_ms, j.cache_hit, j.rows, j.input_key`

// resultSet assigns a result, with the arguments args gives.
const resultSet = `queue_ms = ?, warehouse_ms = ?, encode_ms = ?, upload_ms = ?, cache_hit = ?, rows = ?, input_key = ?`

// args are resultSet's arguments.
func (r JobResult) args() []any {
	var hit, rows any
	if r.InputKey != "" {
		hit, rows = r.CacheHit, nullRows(r.Rows)
	}
	return []any{millis(r.Queue), millis(r.Warehouse), millis(r.Encode), millis(r.Upload), hit, rows, r.InputKey}
}

// millis is a phase's duration as a query argument: NULL when it did not happen.
func millis(d time.Duration) any {
	if d <= 0 {
		return nil
	}
	return d.Milliseconds()
}

// resultScan receives resultColumns.
type resultScan struct {
	started, finished                any
	queue, warehouse, encode, upload sql.NullInt64
	hit                              sql.NullBool
	rows                             sql.NullInt64
	inputKey                         string
}

func (r *resultScan) dest() []any {
	return []any{&r.started, &r.finished, &r.queue, &r.warehouse, &r.encode, &r.upload, &r.hit, &r.rows, &r.inputKey}
}

func (r *resultScan) fill(j *JobRow) error {
	var err error
	if j.StartedAt, err = scanTime(r.started); err != nil {
		return fmt.Errorf("started_at: %w", err)
	}
	if j.FinishedAt, err = scanTime(r.finished); err != nil {
		return fmt.Errorf("finished_at: %w", err)
	}
	ms := func(n sql.NullInt64) time.Duration { return time.Duration(n.Int64) * time.Millisecond }
	j.Result = JobResult{InputKey: r.inputKey, CacheHit: r.hit.Bool, Rows: rowsOf(r.rows),
		Queue: ms(r.queue), Warehouse: ms(r.warehouse), Encode: ms(r.encode), Upload: ms(r.upload)}
	return nil
}

// JobByID reads one job, for a runner that received a message naming it.
// A job that is not there is ErrNoJob.
func (s *Store) JobByID(ctx context.Context, id int64) (JobRow, error) {
	if s.noTables != nil {
		return JobRow{}, s.noTables
	}
	jobs, err := s.readJobs(ctx, nil, true, `SELECT `+jobColumns+` FROM jobs j JOIN revisions r ON r.id = j.revision_id WHERE j.id = ?`, id)
	if err != nil {
		return JobRow{}, fmt.Errorf("read job %d: %w", id, err)
	}
	if len(jobs) == 0 {
		return JobRow{}, fmt.Errorf("read job %d: %w", id, ErrNoJob)
	}
	return jobs[0], nil
}
