package runner

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"sync"
	"time"

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
		q := render.Request{Release: rel, Dashboard: name, Width: thumbWidth, Height: thumbHeight, Scale: thumbScale}
		key := q.Key(nil)
		if old := base.Dashboard(name); old.ThumbnailKey == key && old.Thumbnail != "" && !old.ThumbnailStale {
			d.Thumbnail, d.ThumbnailKey = old.Thumbnail, key
			rel.Dashboards[name] = d
			continue
		}
		todo = append(todo, drawn{q: q, key: key})
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
		d, old := rel.Dashboards[name], base.Dashboard(name)
		if r.err != nil {
			w.Log.Warn("thumbnail not drawn; the earlier one is kept", "env", rel.Env, "dashboard", name, "error", r.err)
			d.Thumbnail, d.ThumbnailKey, d.ThumbnailStale = old.Thumbnail, old.ThumbnailKey, old.Thumbnail != ""
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
