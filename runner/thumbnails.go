package runner

import (
	"bytes"
	"context"
	"sync"

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
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		sema = make(chan struct{}, 2) // the renderer bounds its tabs too
	)
	for name, d := range rel.Dashboards {
		q := render.Request{Release: rel, Dashboard: name, Width: thumbWidth, Height: thumbHeight, Scale: thumbScale}
		key := q.Key(nil)
		var old release.Dashboard
		if base != nil {
			old = base.Dashboards[name]
		}
		if old.ThumbnailKey == key && old.Thumbnail != "" && !old.ThumbnailStale {
			d.Thumbnail, d.ThumbnailKey = old.Thumbnail, key
			rel.Dashboards[name] = d
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sema <- struct{}{}
			defer func() { <-sema }()
			img, err := w.thumbnail(ctx, q)
			mu.Lock()
			defer mu.Unlock()
			d := rel.Dashboards[name]
			if err != nil {
				w.Log.Warn("thumbnail not drawn; the earlier one is kept", "env", rel.Env, "dashboard", name, "error", err)
				d.Thumbnail, d.ThumbnailKey, d.ThumbnailStale = old.Thumbnail, old.ThumbnailKey, old.Thumbnail != ""
			} else {
				d.Thumbnail, d.ThumbnailKey, d.ThumbnailStale = img, key, false
			}
			rel.Dashboards[name] = d
		}()
	}
	wg.Wait()
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
