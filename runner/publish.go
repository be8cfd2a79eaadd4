package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
)

// writeRelease writes the release of a revision's publish job, which runs
// once every other job of the revision is done (every chart of the
// revision, with its data blobs, and every dashboard's page drawn with its
// default state), and returns the pointer to it; ok is false when a newer
// revision is live already, so the pointer stays. Whether the release is
// served is decided under the environment's lock, at the flip: the
// publish job's completion (publish.GoLive) or a refresh's
// (publish.Republish).
//
// A chart the revision did not change keeps the data of the release it
// was planned against (the environment's own, or for a new preview its
// base's), when that data was computed for the same chart hash and is
// not older than its dataset's refresh; any other chart's default state is
// computed here, through the cache.
func (w *Worker) writeRelease(ctx context.Context, m *compiler.Manifest, job metadata.JobRow) (p release.Pointer, ok bool, err error) {
	env, err := w.Store.Environment(ctx, job.Env)
	if err != nil || env.Live > job.Revision {
		return release.Pointer{}, false, err // superseded: the pointer stays
	}
	base, err := w.baseRelease(ctx, env)
	if err != nil {
		return release.Pointer{}, false, err
	}
	rel, err := w.draft(ctx, m, job, base, "")
	if err != nil {
		return release.Pointer{}, false, err
	}
	w.thumbnails(ctx, rel, base)
	blob, err := release.Write(ctx, w.Storage, rel)
	if err != nil {
		return release.Pointer{}, false, err
	}
	if err := w.Store.PutArtifact(ctx, metadata.Artifact{ContentHash: blob.Hash, StorageKey: blob.Key, Size: blob.Size, Rows: metadata.NoRows}); err != nil {
		return release.Pointer{}, false, err
	}
	return release.Pointer{Release: blob.Key, Revision: job.Revision}, true, nil
}

// publishJob is a revision's publish job: its release, and how to complete
// the job (nil: as usual, the release superseded): flipping the pointer
// to it and making the revision live in one transaction (publish.GoLive).
func (w *Worker) publishJob(ctx context.Context, m *compiler.Manifest, job metadata.JobRow) (golive func(ctx context.Context, id int64, r metadata.JobResult) error, err error) {
	p, ok, err := w.writeRelease(ctx, m, job)
	if !ok {
		return nil, err
	}
	return func(ctx context.Context, id int64, r metadata.JobResult) error {
		return publish.GoLive(ctx, w.Storage, w.Store, id, r, job.Env, p)
	}, nil
}

// republish is a refresh tick of the live revision job.Revision: a new
// release of it, served while it is still live (publish.Republish).
func (w *Worker) republish(ctx context.Context, m *compiler.Manifest, job metadata.JobRow) error {
	p, ok, err := w.writeRelease(ctx, m, job)
	if !ok {
		return err
	}
	_, err = publish.Republish(ctx, w.Storage, w.Store, job.Env, p)
	return err
}

// draft builds the release a revision's publish job writes, up to its
// pictures: every chart and precomputed state with its data, and every
// dashboard's pages. With only set it builds just what that dashboard's
// default page needs (its charts' default states and that page), the same
// bytes the publish job will write, so a thumbnail job can draw the page
// before the publish and the publish finds the picture by its key.
func (w *Worker) draft(ctx context.Context, m *compiler.Manifest, job metadata.JobRow, base *release.Release, only string) (*release.Release, error) {
	rel := &release.Release{
		Version: release.Version, Env: job.Env, Revision: job.Revision, ManifestHash: m.Hash,
		PublishedAt: w.Now().UTC(), Charts: map[string]release.Chart{},
	}
	jobs, err := w.Store.Jobs(ctx, job.Env, job.Revision)
	if err != nil {
		return nil, err
	}
	// This revision's chart_data results, by chart and state.
	for _, j := range jobs {
		if j.Kind != compiler.JobChartData || j.Result.InputKey == "" {
			continue
		}
		ref := compiler.ObjectID(j.ObjectID).Name()
		if only != "" && !strings.HasPrefix(ref, only+"/") {
			continue
		}
		e, ok, err := w.Store.CacheEntry(ctx, j.Result.InputKey)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // computed again below
		}
		c := rel.Charts[ref]
		if c.States == nil {
			c = release.Chart{Hash: j.InputsHash, States: map[string]release.Data{}}
		}
		c.States[j.StateKey] = releaseData(e)
		rel.Charts[ref] = c
	}
	states := map[string][]compiler.PrecomputedState{} // by dashboard
	for _, d := range m.Dashboards {
		if only != "" && d.Spec.Name != only {
			continue
		}
		if states[d.Spec.Name], err = m.PrecomputedStates(d.Spec.Name); err != nil {
			return nil, fmt.Errorf("dashboard %s: its precomputed states: %w", d.Spec.Name, err)
		}
	}
	for _, co := range m.Charts {
		if only != "" && co.Dashboard != only {
			continue
		}
		ref := compiler.ChartID(co.Dashboard, co.Spec.Name).Name()
		c, ok := rel.Charts[ref]
		if !ok && base != nil {
			if b, ok := base.Charts[ref]; ok && b.Hash == co.Hash {
				c = b
			}
		}
		// Exactly the dashboard's precomputed states: each from this
		// revision's jobs or the base release while fresh, else computed
		// here through the cache.
		out := release.Chart{Hash: co.Hash, States: map[string]release.Data{}}
		fresh, staleAt := w.freshness(m, ref), staleAtOf(m, co.Spec.Dataset)
		for i, st := range states[co.Dashboard] {
			if only != "" && i > 0 {
				break // a default page draws the default state alone
			}
			key := st.State.Key()
			if i == 0 {
				out.Default = key
			}
			d, ok := c.States[key]
			if !ok || !fresh(d.ComputedAt) {
				r, err := w.chartData(ctx, m, ref, st.State, job.AsOf)
				if err != nil {
					return nil, err
				}
				d = releaseData(r.entry)
			}
			d.StaleAt = staleAt(d.ComputedAt)
			out.States[key] = d
		}
		rel.Charts[ref] = out
	}
	if err := w.pages(ctx, m, rel, states, only != ""); err != nil {
		return nil, err
	}
	return rel, nil
}

// baseRelease is the release whose data unchanged charts keep: the
// environment's current one, or a preview's base's before its first.
func (w *Worker) baseRelease(ctx context.Context, env metadata.Environment) (*release.Release, error) {
	rel, _, err := release.Current(ctx, w.Storage, env.Name)
	if errors.Is(err, release.ErrNone) && env.Base != "" {
		rel, _, err = release.Current(ctx, w.Storage, env.Base)
	}
	if errors.Is(err, release.ErrNone) {
		return nil, nil
	}
	return rel, err
}

func releaseData(e metadata.CacheEntry) release.Data {
	return release.Data{JSON: storage.BlobKey(e.JSONHash), CSV: storage.BlobKey(e.CSVHash), Rows: e.Rows, ComputedAt: e.ComputedAt.UTC(), InputKey: e.InputKey}
}
