package publish

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
)

// Defaults and bounds of GCOptions.
const (
	DefaultRetention = 7 * 24 * time.Hour
	DefaultGrace     = time.Hour
	// MinGrace bounds Grace from below: a publish writes its blobs, its
	// release and its pointer within minutes, and a blob younger than the
	// grace period is never removed, so this is what makes gc safe against
	// a publish running at the same time.
	MinGrace = 10 * time.Minute
)

// GCOptions says what GC keeps. A zero Retention or Grace is its default.
type GCOptions struct {
	// Retention is how long a release stays available to bic rollback
	// after it stopped being served.
	Retention time.Duration
	// Grace is the age under which a blob is kept whatever names it: at
	// least MinGrace.
	Grace time.Duration
	// DryRun removes nothing and reports what would go.
	DryRun bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// GCReport is what GC removed (or, on a dry run, would remove) and kept.
type GCReport struct {
	// Removed are the blobs removed, by key.
	Removed      []storage.Info
	RemovedBytes int64
	// Kept counts the blobs kept: named by something that keeps them, or
	// younger than the grace period (Young of them).
	Kept      int
	KeptBytes int64
	Young     int
	// Records are the release records removed, by key.
	Records []string
	// CacheEntries counts the cache entries removed.
	CacheEntries int64
	// Ticks and Deliveries count the rows of the schedule and notification
	// ledgers removed (see metadata.Store.ExpireLedgers).
	Ticks, Deliveries int64
}

// GC removes the blobs that nothing keeps. Kept are, with every blob they
// name (release.Blobs) and the release documents themselves:
//
//   - the release each environment's pointer names, whatever its age;
//   - every release in an environment's history (release.History) that
//     served within Retention: published within it, or replaced by a
//     release published within it;
//   - the blobs of every cache entry of the metadata DB, since a job
//     that hits an entry names its blobs without writing them again;
//   - the PNG of every picture record (release.RenderPrefix,
//     release.ImagePrefix) written within Retention: a thumbnail drawn
//     for a publish to come, an alert's picture that a link leads to.
//
// Ticks and notification deliveries older than Retention go from the
// metadata DB's ledgers (each schedule's latest tick stays). Release
// records that served before Retention (other than the current
// pointers' releases) and picture records written before it are removed, and so are cache entries computed
// before Retention whose blobs no kept release names. Their blobs are
// kept by this run and removed by the next one, once nothing names them:
// a rollback or a job that read such a record or entry just before it
// went has written its own pointer or release by then.
//
// A blob younger than Grace is kept whatever names it (a publish in
// progress has written its blobs and not yet its pointer). After listing
// the blobs, GC reads the pointers, records and cache entries again, so a
// pointer that moved meanwhile keeps what its new release names. Nothing
// outside blobs/, envs/*/releases/, renders/ and images/ is ever removed.
//
// meta may be nil for storage without a metadata DB (a static export's):
// then no cache entry protects a blob, so never run it so on storage that
// runners write to.
func GC(ctx context.Context, store storage.Store, meta *metadata.Store, opts GCOptions) (GCReport, error) {
	if opts.Retention == 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Grace == 0 {
		opts.Grace = DefaultGrace
	}
	if opts.Retention < 0 {
		return GCReport{}, fmt.Errorf("gc: retention %s is negative", opts.Retention)
	}
	if opts.Grace < MinGrace {
		return GCReport{}, fmt.Errorf("gc: a grace period of %s is shorter than %s, which a publish may take", opts.Grace, MinGrace)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	now := opts.Now()
	g := &gcRun{store: store, meta: meta, cutoff: now.Add(-opts.Retention),
		kept: map[string]bool{}, marked: map[string]bool{}, releases: map[string]bool{},
		records: map[string]bool{}, entries: map[string]bool{}}

	// Mark.
	expiredRecords, err := g.markEnvs(ctx)
	if err != nil {
		return GCReport{}, err
	}
	expiredEntries, err := g.markCache(ctx)
	if err != nil {
		return GCReport{}, err
	}
	expiredPictures, err := g.markPictures(ctx)
	if err != nil {
		return GCReport{}, err
	}
	blobs, err := store.List(ctx, "blobs/")
	if err != nil {
		return GCReport{}, fmt.Errorf("gc: list blobs: %w", err)
	}
	// What moved while the blobs were listed keeps its blobs too.
	if _, err := g.markEnvs(ctx); err != nil {
		return GCReport{}, err
	}
	if _, err := g.markCache(ctx); err != nil {
		return GCReport{}, err
	}
	if _, err := g.markPictures(ctx); err != nil {
		return GCReport{}, err
	}

	// Sweep: references first, so a crash leaves blobs without records,
	// never records without blobs.
	var rep GCReport
	remove := func(key string) error {
		if !opts.DryRun {
			if err := store.Delete(ctx, key); err != nil {
				return fmt.Errorf("gc: %w", err)
			}
		}
		rep.Records = append(rep.Records, key)
		return nil
	}
	for _, key := range expiredRecords {
		if _, ok := release.ParseRecordKey(key); !ok {
			return rep, fmt.Errorf("gc: %s is not a release record", key)
		}
		if err := remove(key); err != nil {
			return rep, err
		}
	}
	for _, key := range expiredPictures {
		if err := remove(key); err != nil {
			return rep, err
		}
	}
	if meta != nil && len(expiredEntries) > 0 {
		if opts.DryRun {
			rep.CacheEntries = int64(len(expiredEntries))
		} else if rep.CacheEntries, err = meta.DeleteCacheEntries(ctx, expiredEntries, g.cutoff); err != nil {
			return rep, fmt.Errorf("gc: %w", err)
		}
	}
	if meta != nil && !opts.DryRun {
		if rep.Ticks, rep.Deliveries, err = meta.ExpireLedgers(ctx, g.cutoff); err != nil {
			return rep, fmt.Errorf("gc: %w", err)
		}
	}
	young := now.Add(-opts.Grace)
	for _, b := range blobs {
		switch {
		case !strings.HasPrefix(b.Key, "blobs/"):
			continue
		case g.marked[b.Key]:
		case b.Modified.After(young):
			rep.Young++
		default:
			if !opts.DryRun {
				if err := store.Delete(ctx, b.Key); err != nil {
					return rep, fmt.Errorf("gc: %w", err)
				}
			}
			rep.Removed = append(rep.Removed, b)
			rep.RemovedBytes += b.Size
			continue
		}
		rep.Kept++
		rep.KeptBytes += b.Size
	}
	return rep, nil
}

// gcRun is one GC's marks.
type gcRun struct {
	store  storage.Store
	meta   *metadata.Store
	cutoff time.Time
	// kept are the blobs that pointers and records within retention name;
	// marked adds those of expiring records and of cache entries.
	kept, marked map[string]bool
	// releases are the releases whose blobs are marked; records and
	// entries those already read.
	releases, records, entries map[string]bool
}

// markEnvs marks what every environment's pointer and release records
// name, and returns the records that served before the retention.
// Called again, it marks only what is new.
func (g *gcRun) markEnvs(ctx context.Context) (expired []string, err error) {
	infos, err := g.store.List(ctx, "envs/")
	if err != nil {
		return nil, fmt.Errorf("gc: list environments: %w", err)
	}
	current := map[string]bool{} // releases the pointers name
	byEnv := map[string][]release.Record{}
	for _, info := range infos {
		rest := strings.TrimPrefix(info.Key, "envs/")
		if env, ok := strings.CutSuffix(rest, "/current"); ok && !strings.Contains(env, "/") {
			p, err := release.ReadPointer(ctx, g.store, env)
			if errors.Is(err, release.ErrNone) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("gc: %w", err)
			}
			current[p.Release] = true
			if err := g.markRelease(ctx, p.Release, true, true); err != nil {
				return nil, fmt.Errorf("gc: %s's pointer: %w", env, err)
			}
			continue
		}
		env, ok := release.ParseRecordKey(info.Key)
		if !ok || g.records[info.Key] {
			continue
		}
		rec, err := release.ReadRecord(ctx, g.store, info.Key)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("gc: %w", err)
		}
		g.records[info.Key] = true
		byEnv[env] = append(byEnv[env], rec)
	}
	for _, recs := range byEnv {
		release.SortNewestFirst(recs)
		for i, rec := range recs {
			// A release served until the next one (recs[i-1], published
			// no earlier) replaced it: within the retention if that was.
			served := i == 0 || !recs[i-1].PublishedAt.Before(g.cutoff)
			keep := served || current[rec.Release]
			if !keep {
				expired = append(expired, rec.Key)
			}
			if err := g.markRelease(ctx, rec.Release, false, keep); err != nil {
				return nil, fmt.Errorf("gc: release record %s: %w", rec.Key, err)
			}
		}
	}
	sort.Strings(expired)
	return expired, nil
}

// markRelease marks a release document and the blobs it names; keep says
// whether they are kept (not only marked for this run). A missing release
// is an error when mustExist (a pointer's: gc cannot tell what it
// reaches), else nothing to mark.
func (g *gcRun) markRelease(ctx context.Context, key string, mustExist, keep bool) error {
	if g.releases[key] && (!keep || g.kept[key]) {
		return nil
	}
	rel, err := release.Read(ctx, g.store, key)
	if errors.Is(err, storage.ErrNotFound) && !mustExist {
		return nil
	}
	if err != nil {
		return err
	}
	g.releases[key] = true
	for _, b := range append(rel.Blobs(), key) {
		g.marked[b] = true
		if keep {
			g.kept[b] = true
		}
	}
	return nil
}

// markCache marks the blobs of every cache entry not read yet, and
// returns the entries computed before the retention whose blobs no kept
// release names.
func (g *gcRun) markCache(ctx context.Context) (expired []string, err error) {
	if g.meta == nil {
		return nil, nil
	}
	entries, err := g.meta.CacheEntries(ctx)
	if err != nil {
		return nil, fmt.Errorf("gc: %w", err)
	}
	for _, e := range entries {
		// An entry refreshed since it was read names other blobs.
		id := e.InputKey + " " + e.JSONHash + " " + e.CSVHash
		if g.entries[id] {
			continue
		}
		g.entries[id] = true
		keys := []string{storage.BlobKey(e.JSONHash)}
		if e.CSVHash != "" {
			keys = append(keys, storage.BlobKey(e.CSVHash))
		}
		kept := false
		for _, k := range keys {
			g.marked[k] = true
			kept = kept || g.kept[k]
		}
		if !kept && e.ComputedAt.Before(g.cutoff) {
			expired = append(expired, e.InputKey)
		}
	}
	return expired, nil
}

// markPictures marks the PNG of every picture record, and returns the
// records written before the retention (whose PNG this run still keeps).
// Called again, it marks only what is new.
func (g *gcRun) markPictures(ctx context.Context) (expired []string, err error) {
	for _, prefix := range []string{release.RenderPrefix, release.ImagePrefix} {
		infos, err := g.store.List(ctx, prefix)
		if err != nil {
			return nil, fmt.Errorf("gc: list %s: %w", prefix, err)
		}
		for _, info := range infos {
			if g.records[info.Key] {
				continue
			}
			g.records[info.Key] = true
			if info.Modified.Before(g.cutoff) {
				expired = append(expired, info.Key)
			}
			// A record that is not one bic wrote keeps nothing; one that
			// storage cannot read now stops the run, which would otherwise
			// remove what it names.
			p, err := release.ReadPicture(ctx, g.store, info.Key)
			switch {
			case errors.Is(err, release.ErrNotPicture), errors.Is(err, storage.ErrNotFound):
			case err != nil:
				return nil, fmt.Errorf("gc: %w", err)
			case p.PNG != "":
				g.marked[p.PNG] = true
			}
		}
	}
	return expired, nil
}
