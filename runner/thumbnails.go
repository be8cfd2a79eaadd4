package runner

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/runner/render"
)

// Renderer draws published pages as PNG images (runner/render, one warm
// headless Chromium per runner).
type Renderer interface {
	Render(ctx context.Context, q render.Request) (render.Result, error)
}

// The size of a dashboard's thumbnail: a laptop's viewport, drawn at half
// scale, so the image is 600×400 (sharp in the index's 300×200 on a
// high-density screen).
const (
	thumbWidth  = 1200
	thumbHeight = 800
	thumbScale  = 0.5
	// thumbBudget bounds the drawing of one publish (at about two
	// pictures a second on two busy cores, some 60 dashboards).
	thumbBudget = 30 * time.Second
)

// dashboardPicture is the request of dashboard name's thumbnail in rel,
// and cellsPicture that of its charts' cards, each found by CellKey.
func dashboardPicture(rel *release.Release, name string) render.Request {
	return render.Request{Release: rel, Dashboard: name, Width: thumbWidth, Height: thumbHeight, Scale: thumbScale}
}

func cellsPicture(rel *release.Release, name string) render.Request {
	return render.Request{Release: rel, Dashboard: name, Width: thumbWidth, Height: thumbHeight, Scale: 1, Cells: true}
}

// drawnFor reports whether old's picture is the fresh one of image key.
func drawnFor(old release.Dashboard, key string) bool {
	return old.ThumbnailKey == key && old.Thumbnail != "" && !old.ThumbnailStale
}

// keepEarlier gives d the earlier picture of old, marked stale.
func keepEarlier(d *release.Dashboard, old release.Dashboard) {
	d.Thumbnail, d.ThumbnailKey, d.ThumbnailStale = old.Thumbnail, old.ThumbnailKey, old.Thumbnail != ""
}

// thumbnails draws each dashboard of rel from its page blobs, before the
// release is written and the pointer flips, so a published release never
// shows a half-drawn or missing picture. A dashboard whose image key (its
// page, the assets, the size) is that of the base release keeps its
// picture without drawing. A drawing that fails (a chart in error, the
// browser down) keeps the base's picture, marked stale, and never fails
// the publish: the failure is logged with the charts it names.
func (w *Worker) thumbnails(ctx context.Context, rel, base *release.Release) {
	if w.Renderer == nil {
		return
	}
	// Drawing stops at the budget: the dashboards not reached keep their
	// earlier picture, marked stale, and the next publish goes on where
	// this one stopped (what was drawn keeps its key).
	ctx, cancel := context.WithTimeout(ctx, thumbBudget)
	defer cancel()
	type drawn struct {
		q        render.Request
		key, img string
		err      error
	}
	var todo []drawn
	for _, name := range slices.Sorted(maps.Keys(rel.Dashboards)) {
		d := rel.Dashboards[name]
		q := dashboardPicture(rel, name)
		key := q.Key(nil)
		if old := base.Dashboard(name); drawnFor(old, key) {
			d.Thumbnail, d.ThumbnailKey = old.Thumbnail, key
			rel.Dashboards[name] = d
			continue
		}
		// Drawn already by the dashboard's thumbnail job (on any runner),
		// or tried there and failed: the publish does not try again.
		if img, failed, ok := w.drawnImage(ctx, key); ok {
			if failed == "" {
				d.Thumbnail, d.ThumbnailKey = img, key
			} else {
				w.Log.Warn("thumbnail not drawn; the earlier one is kept", "env", rel.Env, "dashboard", name, "error", failed)
				keepEarlier(&d, base.Dashboard(name))
			}
			rel.Dashboards[name] = d
			continue
		}
		todo = append(todo, drawn{q: q, key: key})
	}
	for _, name := range slices.Sorted(maps.Keys(rel.Dashboards)) {
		w.chartThumbnails(ctx, rel, base, name)
	}
	// The renders read rel while they run: it is written only once they
	// are all done. The renderer bounds how many run at once (its tabs),
	// and one waiting for a tab gives up at the budget.
	var wg sync.WaitGroup
	for i := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			todo[i].img, todo[i].err = w.thumbnail(ctx, todo[i].q)
		}()
	}
	wg.Wait()
	for _, r := range todo {
		name := r.q.Dashboard
		d := rel.Dashboards[name]
		if r.err != nil {
			w.Log.Warn("thumbnail not drawn; the earlier one is kept", "env", rel.Env, "dashboard", name, "error", r.err)
			keepEarlier(&d, base.Dashboard(name))
		} else {
			d.Thumbnail, d.ThumbnailKey, d.ThumbnailStale = r.img, r.key, false
		}
		rel.Dashboards[name] = d
	}
}

// thumbnail draws one dashboard and stores its PNG, returning its key.
func (w *Worker) thumbnail(ctx context.Context, q render.Request) (string, error) {
	res, err := w.Renderer.Render(ctx, q)
	if err != nil {
		return "", err
	}
	blob, err := w.Storage.PutBlob(ctx, bytes.NewReader(res.PNG))
	if err != nil {
		return "", err
	}
	return blob.Key, nil
}

// thumbnailJob draws one dashboard's thumbnail for a revision, on
// whichever runner takes the job, once its charts' data is computed and
// before the revision's publish job: it builds the dashboard's default
// page exactly as the publish will (the same blob), draws it and records
// the picture under its image key (release.RenderPrefix), where the
// publish finds it.
// A dashboard whose picture is drawn already (in the base release or
// under its key) is not drawn again. A drawing that fails is recorded
// too, so that the publish keeps the earlier picture without trying
// again; it never fails the job, since a picture must not block a publish.
func (w *Worker) thumbnailJob(ctx context.Context, m *compiler.Manifest, job metadata.JobRow) error {
	if w.Renderer == nil {
		return nil
	}
	env, err := w.Store.Environment(ctx, job.Env)
	if err != nil {
		return err
	}
	if env.Live > job.Revision {
		return nil // superseded: its publish will not run
	}
	if late := w.Now().Sub(job.AsOf); late > thumbRevisionBudget {
		// A revision of many dashboards goes live without waiting for all
		// its pictures: the publish draws what it can in its own budget,
		// and keeps the earlier ones of the rest.
		w.Log.Info("thumbnail not drawn: the revision's drawing time is over", "env", job.Env, "dashboard", job.ObjectID, "since apply", late.Round(time.Second).String())
		return nil
	}
	base, err := w.baseRelease(ctx, env)
	if err != nil {
		return err
	}
	name := compiler.ObjectID(job.ObjectID).Name()
	rel, err := w.draft(ctx, m, job, base, name)
	if err != nil {
		return err
	}
	if _, ok := rel.Dashboards[name]; !ok {
		return nil // not a dashboard of this revision's manifest
	}
	// The dashboard, then its charts' cards (from one more page load):
	// whatever the base release or the render index has for its key
	// already is not drawn again.
	old := base.Dashboard(name)
	dash, cells := dashboardPicture(rel, name), cellsPicture(rel, name)
	drawCtx, cancel := context.WithTimeout(ctx, thumbJobBudget)
	defer cancel()
	if key := dash.Key(nil); !drawnFor(old, key) {
		if _, _, ok := w.drawnImage(ctx, key); !ok {
			var rec release.Picture
			if rec.PNG, err = w.thumbnail(drawCtx, dash); err != nil {
				if ctx.Err() != nil {
					return ctx.Err() // the runner is stopping: another one draws it
				}
				w.Log.Warn("thumbnail not drawn", "env", job.Env, "dashboard", name, "error", err)
				rec = release.Picture{Error: err.Error()}
			}
			if err := release.WritePicture(ctx, w.Storage, release.RenderPrefix+key, rec); err != nil {
				return err
			}
		}
	}
	type cell struct{ chart, key string }
	var charts []cell
	for _, ref := range rel.Dashboards[name].Charts {
		_, chart, _ := strings.Cut(ref, "/")
		key := cells.CellKey(chart)
		if th := old.ChartThumbnails[chart]; th.Key == key && th.PNG != "" && !th.Stale {
			continue
		}
		if _, _, ok := w.drawnImage(ctx, key); ok {
			continue
		}
		charts = append(charts, cell{chart, key})
	}
	if len(charts) == 0 {
		return nil
	}
	res, err := w.Renderer.Render(drawCtx, cells)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for _, c := range charts {
		var rec release.Picture
		if png, ok := res.Cells[c.chart]; ok {
			blob, perr := w.Storage.PutBlob(ctx, bytes.NewReader(png))
			if perr != nil {
				return perr
			}
			rec.PNG = blob.Key
		} else {
			why := "not on the page"
			if err != nil {
				why = err.Error()
			}
			w.Log.Warn("chart thumbnail not drawn", "env", job.Env, "dashboard", name, "chart", c.chart, "error", why)
			rec.Error = why
		}
		if err := release.WritePicture(ctx, w.Storage, release.RenderPrefix+c.key, rec); err != nil {
			return err
		}
	}
	return nil
}

// chartThumbnails names in rel each chart's picture of dashboard name (its
// card as the dashboard lays it out at the thumbnail's width),
// as its thumbnail job drew it (found by its key in the render index) or
// as the base release has it for the same key. The publish draws none
// itself: a chart without one keeps the base's, marked stale (a publish
// with no thumbnail job, such as a dataset's refresh, redraws no chart).
func (w *Worker) chartThumbnails(ctx context.Context, rel, base *release.Release, name string) {
	d, old := rel.Dashboards[name], base.Dashboard(name)
	cells := cellsPicture(rel, name)
	for _, ref := range d.Charts {
		_, chart, _ := strings.Cut(ref, "/")
		key := cells.CellKey(chart)
		th, had := old.ChartThumbnails[chart]
		if !had || th.Key != key || th.Stale {
			switch png, failed, ok := w.drawnImage(ctx, key); {
			case ok && failed == "":
				th = release.Thumbnail{PNG: png, Key: key}
			case had:
				th.Stale = true
			default:
				continue
			}
		}
		if d.ChartThumbnails == nil {
			d.ChartThumbnails = map[string]release.Thumbnail{}
		}
		d.ChartThumbnails[chart] = th
	}
	rel.Dashboards[name] = d
}

// thumbJobBudget bounds one thumbnail job's drawing: a page that does
// not draw in it is recorded as failed, and the publish goes on.
// thumbRevisionBudget bounds how long after its apply a revision's
// thumbnail jobs draw, so that a revision of thousands of dashboards is
// not held back for its pictures (some 4 a second on two busy cores).
const (
	thumbJobBudget      = 60 * time.Second
	thumbRevisionBudget = 2 * time.Minute
)

// drawnImage looks an image key up in the render index: the PNG's blob key, or
// the error its drawing failed with. A record whose blob is gone (blob gc
// removed it) or that does not parse is as good as none.
func (w *Worker) drawnImage(ctx context.Context, imageKey string) (png, failed string, ok bool) {
	rec, err := release.ReadPicture(ctx, w.Storage, release.RenderPrefix+imageKey)
	if err != nil {
		return "", "", false
	}
	if rec.Error != "" {
		return "", rec.Error, true
	}
	if _, err := w.Storage.Stat(ctx, rec.PNG); err != nil {
		return "", "", false
	}
	return rec.PNG, "", true
}
