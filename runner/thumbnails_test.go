package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"maps"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bic-dev/bic/runner"
	"github.com/bic-dev/bic/runner/render"
	"github.com/bic-dev/bic/runner/servicetest"
)

// countingRenderer counts the renders of a real renderer, and fails them
// while fail is set.
type countingRenderer struct {
	r     *render.Renderer
	n     atomic.Int64
	fail  atomic.Bool
	calls atomic.Int64
}

func (c *countingRenderer) Render(ctx context.Context, q render.Request) (render.Result, error) {
	c.calls.Add(1)
	if c.fail.Load() {
		return render.Result{}, errors.New("the browser is down")
	}
	c.n.Add(1)
	return c.r.Render(ctx, q)
}

// TestEngineThumbnails: the publish job draws each dashboard's page in a
// real headless Chromium before the pointer flips, so the release it
// flips to names a whole PNG; a revision that leaves a dashboard's page
// as it was keeps its picture without drawing (a preview's pages differ:
// they name their environment); a drawing that fails keeps the earlier
// picture, marked stale, and the revision still goes live.
func TestEngineThumbnails(t *testing.T) {
	t.Setenv("BIC_CHROME", servicetest.Chrome(t))
	e := newEngine(t)
	rend, err := render.New(context.Background(), render.Options{Storage: e.storage})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rend.Close() })
	cr := &countingRenderer{r: rend}
	dir := engineDir(t, nil)
	e.worker(t, dir, "w1", func(w *runner.Worker) { w.Renderer = cr })

	e.waitFor(t, "prod", e.apply(t, dir, "prod", ""))
	rel := e.current(t, "prod")
	d := rel.Dashboards["sales"]
	if d.Thumbnail == "" || d.ThumbnailStale || d.ThumbnailKey == "" {
		t.Fatalf("sales after the first publish: thumbnail %q (key %q, stale %v)", d.Thumbnail, d.ThumbnailKey, d.ThumbnailStale)
	}
	img, err := png.Decode(bytes.NewReader(e.readBlob(t, d.Thumbnail)))
	if err != nil {
		t.Fatalf("the thumbnail is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 600 || b.Dy() != 400 {
		t.Errorf("the thumbnail is %dx%d, want 600x400", b.Dx(), b.Dy())
	}
	if got := cr.n.Load(); got != 2 {
		t.Errorf("%d renders for one dashboard of three charts, want 2 (the dashboard, then its charts' cards from one page)", got)
	}
	if len(d.ChartThumbnails) != 3 {
		t.Fatalf("sales's chart thumbnails: %+v, want its three charts", d.ChartThumbnails)
	}
	for chart, th := range d.ChartThumbnails {
		img, err := png.Decode(bytes.NewReader(e.readBlob(t, th.PNG)))
		if err != nil {
			t.Fatalf("chart %s's thumbnail is not a PNG: %v", chart, err)
		}
		if b := img.Bounds(); b.Dx() < 200 || b.Dx() > 1200 || b.Dy() < 100 || th.Stale || th.Key == "" {
			t.Errorf("chart %s's thumbnail: %dx%d, key %q, stale %v; want its card of the 1200-wide page, keyed, fresh", chart, b.Dx(), b.Dy(), th.Key, th.Stale)
		}
		if rec := drawnRecord(t, e, th.Key); rec.PNG != th.PNG {
			t.Errorf("chart %s was not drawn by the thumbnail job: the index has %+v", chart, rec)
		}
	}
	// It was drawn by the dashboard's thumbnail job, before the publish,
	// which found it by its key.
	if rec := drawnRecord(t, e, d.ThumbnailKey); rec.PNG != d.Thumbnail || rec.Error != "" {
		t.Errorf("the thumbnail job recorded %+v for the key, want the published PNG %s", rec, d.Thumbnail)
	}

	// A revision that adds a dashboard leaves sales's page as it was, so
	// its picture is kept; the new one is drawn.
	other := "dashboard: other\ntitle: Other\ncharts:\n  - {name: total, type: big_number, dataset: orders, metrics: [orders]}\n"
	e.waitFor(t, "prod", e.apply(t, engineDir(t, map[string]string{"dashboards/other.yaml": other}), "prod", ""))
	rel = e.current(t, "prod")
	if got := rel.Dashboards["sales"]; got.Thumbnail != d.Thumbnail || got.ThumbnailStale {
		t.Errorf("sales's thumbnail after an unrelated change %q (stale %v), want the same %q", got.Thumbnail, got.ThumbnailStale, d.Thumbnail)
	}
	if rel.Dashboards["other"].Thumbnail == "" {
		t.Error("the new dashboard has no thumbnail")
	}
	if got := cr.n.Load(); got != 4 {
		t.Errorf("%d renders after adding a dashboard of one chart, want 4", got)
	}
	if got := rel.Dashboards["sales"].ChartThumbnails; !maps.Equal(got, d.ChartThumbnails) {
		t.Errorf("sales's chart thumbnails after an unrelated change: %+v, want the same %+v", got, d.ChartThumbnails)
	}

	// A changed page whose drawing fails: published all the same, with the
	// earlier picture marked stale.
	cr.fail.Store(true)
	edited := engineDir(t, map[string]string{"dashboards/other.yaml": other,
		"dashboards/sales.yaml": "dashboard: sales\ntitle: Sales, renamed\n" + engineDashboard[len("dashboard: sales\ntitle: Sales\n"):]})
	e.waitFor(t, "prod", e.apply(t, edited, "prod", ""))
	got := e.current(t, "prod").Dashboards["sales"]
	if got.Title != "Sales, renamed" || got.Thumbnail != d.Thumbnail || !got.ThumbnailStale {
		t.Errorf("after a failed drawing: title %q, thumbnail %q (stale %v); want the new title with the earlier picture, stale", got.Title, got.Thumbnail, got.ThumbnailStale)
	}
	if cr.calls.Load() != 6 {
		t.Errorf("%d render calls, want 6 (the last two failed: once each, in the thumbnail job; the publish did not try again)", cr.calls.Load())
	}
	for chart, th := range got.ChartThumbnails {
		if th.PNG != d.ChartThumbnails[chart].PNG || !th.Stale {
			t.Errorf("chart %s after a failed drawing: %+v, want the earlier picture, stale", chart, th)
		}
	}
	if rec := drawnRecord(t, e, got.ThumbnailKey); rec.PNG != d.Thumbnail {
		t.Errorf("the stale picture's key leads to %+v, want the earlier PNG", rec)
	}
}

// drawnRecord reads what the render index holds for an image key.
func drawnRecord(t *testing.T, e *engine, imageKey string) (rec struct{ PNG, Error string }) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, "renders", imageKey))
	if err != nil {
		t.Fatalf("the render index has no record for %s: %v", imageKey, err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("the render index for %s: %v", imageKey, err)
	}
	return rec
}

// TestEngineThumbnailsLate: a thumbnail job that runs past its revision's
// drawing time draws nothing, so a revision of many dashboards is not held
// back: the publish draws the dashboard within its own budget, and the
// charts go without pictures until a later revision.
func TestEngineThumbnailsLate(t *testing.T) {
	t.Setenv("BIC_CHROME", servicetest.Chrome(t))
	e := newEngine(t)
	rend, err := render.New(context.Background(), render.Options{Storage: e.storage})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rend.Close() })
	cr := &countingRenderer{r: rend}
	dir := engineDir(t, nil)
	e.worker(t, dir, "w1", func(w *runner.Worker) {
		w.Renderer = cr
		w.Now = func() time.Time { return time.Now().Add(3 * time.Minute) }
	})
	e.waitFor(t, "prod", e.apply(t, dir, "prod", ""))
	d := e.current(t, "prod").Dashboards["sales"]
	if d.Thumbnail == "" || d.ThumbnailStale || len(d.ChartThumbnails) != 0 {
		t.Errorf("sales: thumbnail %q (stale %v), %d chart thumbnails; want the publish's own picture and no chart's", d.Thumbnail, d.ThumbnailStale, len(d.ChartThumbnails))
	}
	if got := cr.calls.Load(); got != 1 {
		t.Errorf("%d renders, want 1 (the publish's)", got)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "renders", d.ThumbnailKey)); !os.IsNotExist(err) {
		t.Errorf("the late thumbnail job recorded a picture: %v", err)
	}
}
