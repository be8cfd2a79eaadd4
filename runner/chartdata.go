package runner

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/compiler/query"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner/result"
	"github.com/bic-dev/bic/runner/schedule"
	"github.com/bic-dev/bic/runner/warehouse"
)

// chartDataResult is a chart's data for one state: the job's result and
// the cache entry that holds its blobs.
type chartDataResult struct {
	result metadata.JobResult
	entry  metadata.CacheEntry
}

// claimPoll is how often a job whose input key another runner is
// computing looks for that runner's cache entry.
const claimPoll = 100 * time.Millisecond

// chartData is a chart_data job: plan the chart for its state as of asOf,
// and give the cache entry of the query's input key, computing it when
// there is none or it is older than the dataset's refresh. Of the runners
// that want the same input key at once, one claims it and asks the
// warehouse; the others wait for its entry.
func (w *Worker) chartData(ctx context.Context, m *compiler.Manifest, ref string, state map[string]any, asOf time.Time) (chartDataResult, error) {
	q, err := query.PlanChart(m, ref, state, asOf)
	if err != nil {
		return chartDataResult{}, err
	}
	return w.cached(ctx, m, q, w.freshness(m, ref))
}

// cached gives the cache entry of q's input key, computing it when there
// is none or fresh says it is too old.
func (w *Worker) cached(ctx context.Context, m *compiler.Manifest, q *query.Query, fresh func(time.Time) bool) (chartDataResult, error) {
	key, err := q.InputKey(m, result.EncoderVersion)
	if err != nil {
		return chartDataResult{}, err
	}
	out := chartDataResult{result: metadata.JobResult{InputKey: key}}
	// hit reports a fresh entry of key, and takes it as the result.
	hit := func() (bool, error) {
		e, ok, err := w.Store.CacheEntry(ctx, key)
		if err != nil || !ok || !fresh(e.ComputedAt) {
			return false, err
		}
		out.entry, out.result.CacheHit, out.result.Rows = e, true, e.Rows
		w.Metrics.CacheLookup(true)
		return true, nil
	}
	// Each computation claims for itself: jobs of one worker that want the
	// same key wait for each other like any others.
	owner := fmt.Sprintf("%s#%d", w.Owner, w.claims.Add(1))
	for {
		if ok, err := hit(); ok || err != nil {
			return out, err
		}
		claimed, err := w.Store.ClaimInput(ctx, key, owner, w.ClaimLease)
		if err != nil {
			return out, err
		}
		if claimed {
			break
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(claimPoll):
		}
	}
	released := false
	defer func() {
		if !released { // a failed computation: others may try now
			_ = w.Store.ReleaseInput(context.WithoutCancel(ctx), key, owner)
		}
	}()
	// The runner that held the claim before may have just written it.
	if ok, err := hit(); ok || err != nil {
		return out, err
	}
	w.Metrics.CacheLookup(false)
	stopRenewing := w.renewClaim(ctx, key, owner)
	defer stopRenewing()
	out, err = w.compute(ctx, m, q, out, owner)
	released = err == nil
	return out, err
}

// renewClaim keeps an input-key claim while its query runs.
func (w *Worker) renewClaim(ctx context.Context, key, owner string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(w.ClaimLease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := w.Store.ClaimInput(ctx, key, owner, w.ClaimLease); err != nil && ctx.Err() == nil {
					w.Log.Warn("renew input claim", "key", key, "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// compute asks the warehouse, writing the JSON result and the whole CSV
// as two blobs from one pass over the rows (each streamed to storage as it
// is encoded, never held whole), then records them and the cache entry.
func (w *Worker) compute(ctx context.Context, m *compiler.Manifest, q *query.Query, out chartDataResult, owner string) (chartDataResult, error) {
	type put struct {
		blob storage.Blob
		err  error
	}
	upload := func(r *io.PipeReader, into chan<- put) {
		b, err := w.Storage.PutBlob(ctx, r)
		r.CloseWithError(err) // unblocks the encoder if storage gave up
		into <- put{b, err}
	}
	jsonR, jsonW := io.Pipe()
	csvR, csvW := io.Pipe()
	jsonDone, csvDone := make(chan put, 1), make(chan put, 1)
	go upload(jsonR, jsonDone)
	go upload(csvR, csvDone)

	timer := &phaseTimer{}
	started := w.Now()
	w.queries.Add(1)
	w.Metrics.WarehouseQuery(q.Connection)
	rows, err := ChartData(ctx, timedOpener{w.pool, timer}, m, q, jsonW, csvW)
	encoded := w.Now()
	jsonW.CloseWithError(err)
	csvW.CloseWithError(err)
	j, c := <-jsonDone, <-csvDone
	if err != nil {
		return out, err
	}
	for _, p := range []put{j, c} {
		if p.err != nil {
			return out, fmt.Errorf("%s: store its data: %w", q.Chart, p.err)
		}
	}
	var arts []metadata.Artifact
	for _, b := range []storage.Blob{j.blob, c.blob} {
		arts = append(arts, metadata.Artifact{ContentHash: b.Hash, StorageKey: b.Key, Size: b.Size, Rows: int64(rows)})
	}
	e := metadata.CacheEntry{InputKey: out.result.InputKey, JSONHash: j.blob.Hash, CSVHash: c.blob.Hash, Rows: int64(rows), ComputedAt: started, ReleaseClaim: owner}
	if err := w.Store.PutCacheEntry(ctx, e, arts...); err != nil {
		return out, err
	}
	out.entry = e
	out.result.Rows = int64(rows)
	out.result.Warehouse = timer.warehouse
	out.result.Encode = max(encoded.Sub(started)-timer.warehouse, 0)
	out.result.Upload = w.Now().Sub(encoded)
	return out, nil
}

// freshness says whether data of a chart computed at a time may be
// served: always, unless its dataset has a refresh schedule with a tick
// since then (the tick makes a new entry for the same key).
func (w *Worker) freshness(m *compiler.Manifest, ref string) func(computedAt time.Time) bool {
	c, ok := m.Chart(ref)
	if !ok {
		return func(time.Time) bool { return true }
	}
	return w.datasetFreshness(m, c.Spec.Dataset)
}

// datasetFreshness is freshness for data of a dataset.
func (w *Worker) datasetFreshness(m *compiler.Manifest, dataset string) func(computedAt time.Time) bool {
	staleAt := staleAtOf(m, dataset)
	return func(at time.Time) bool {
		stale := staleAt(at)
		return stale.IsZero() || stale.After(w.Now())
	}
}

// staleAtOf says when data of dataset computed at a time goes stale: the
// dataset's first refresh tick after it, in the project's time zone, as
// the scheduler ticks it (runner/schedule: the same daylight-saving rules);
// zero for a dataset without a refresh schedule. The schedule is parsed
// once, here, not for every datum it judges.
func staleAtOf(m *compiler.Manifest, dataset string) func(computedAt time.Time) time.Time {
	never := func(time.Time) time.Time { return time.Time{} }
	ds, ok := m.Dataset(dataset)
	if !ok || ds.Spec.Refresh == "" {
		return never
	}
	sched, err := schedule.Parse(ds.Spec.Refresh, m.Project.Defaults.Timezone)
	if err != nil {
		return never // the compiler checked it
	}
	return func(at time.Time) time.Time { return sched.Next(at).UTC() }
}

// phaseTimer adds up the time spent waiting for the warehouse: opening,
// the query until its first row, and fetching every further row.
type phaseTimer struct{ warehouse time.Duration }

type timedOpener struct {
	open  Opener
	timer *phaseTimer
}

func (o timedOpener) Open(ctx context.Context, c compiler.Connection, loc *time.Location) (warehouse.Conn, error) {
	start := time.Now()
	conn, err := o.open.Open(ctx, c, loc)
	o.timer.warehouse += time.Since(start)
	if err != nil {
		return nil, err
	}
	return timedConn{conn, o.timer}, nil
}

type timedConn struct {
	warehouse.Conn
	timer *phaseTimer
}

func (c timedConn) Query(ctx context.Context, sql string, args []any) (warehouse.Rows, error) {
	start := time.Now()
	rows, err := c.Conn.Query(ctx, sql, args)
	c.timer.warehouse += time.Since(start)
	if err != nil {
		return nil, err
	}
	return &timedRows{rows, c.timer}, nil
}

type timedRows struct {
	warehouse.Rows
	timer *phaseTimer
}

func (r *timedRows) Next() bool {
	start := time.Now()
	ok := r.Rows.Next()
	r.timer.warehouse += time.Since(start)
	return ok
}
