package runner

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/site"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner/notify"
	"github.com/bic-dev/bic/runner/render"
	"github.com/bic-dev/bic/runner/schedule"
)

// maxReportCSV bounds one chart's CSV attached to a report.
const maxReportCSV = 32 << 20

// reportTick delivers a report at its tick: its dashboard (or chart)
// drawn as a PNG, its charts' CSV files, or both, in the state its
// filters name, from the environment's live release. A state the release
// did not precompute is computed now through the cache, and its page
// drawn for the picture. A dry run (a preview) sends nothing.
func (w *Worker) reportTick(ctx context.Context, m *compiler.Manifest, msg schedule.Message) error {
	o, ok := m.Report(msg.Name)
	if !ok {
		return fmt.Errorf("no report %q in revision %d", msg.Name, msg.Revision)
	}
	r := o.Spec
	if msg.DryRun {
		w.Log.Info("report not sent: a dry run", "env", msg.Env, "report", r.Name, "tick", msg.Tick)
		return nil
	}
	nm, err := w.reportMessage(ctx, m, r, msg)
	if err != nil {
		return err
	}
	return w.deliver(ctx, m, r.Notify, nm)
}

// reportMessage builds what a report delivers.
func (w *Worker) reportMessage(ctx context.Context, m *compiler.Manifest, r compiler.Report, msg schedule.Message) (notify.Message, error) {
	dash, chart := r.Dashboard, ""
	if r.Chart != "" {
		dash, chart, _ = strings.Cut(r.Chart, "/")
	}
	d, ok := m.Dashboard(dash)
	if !ok {
		return notify.Message{}, fmt.Errorf("report %s: no dashboard %q", r.Name, dash)
	}
	rel, ptr, err := release.Current(ctx, w.Storage, msg.Env)
	if err != nil {
		return notify.Message{}, err
	}
	state, err := m.NormalizeState(dash, r.Filters)
	if err != nil {
		return notify.Message{}, fmt.Errorf("report %s: %w", r.Name, err)
	}
	key := state.Key()
	// A copy of the release holding this state's data, for its page.
	rel = withState(rel, dash)
	var refs []string
	for _, c := range d.Spec.Charts {
		ref := compiler.ChartID(dash, c.Name).Name()
		if chart != "" && c.Name != chart {
			continue
		}
		refs = append(refs, ref)
		rc := rel.Charts[ref]
		if _, ok := rc.States[key]; !ok {
			res, err := w.chartData(ctx, m, ref, state, msg.Tick)
			if err != nil {
				return notify.Message{}, err
			}
			if rc.States == nil {
				rc.States = map[string]release.Data{}
			}
			rc.States[key] = releaseData(res.entry)
			rel.Charts[ref] = rc
		}
	}
	title := r.Description
	for _, n := range r.Notify {
		if n.Subject != "" {
			title = n.Subject
		}
	}
	if title == "" {
		title = "Report: " + r.Name
	}
	nm := notify.Message{Kind: notify.KindReport, Name: r.Name, Env: msg.Env, State: notify.StateReport, Tick: msg.Tick,
		Title: title, Text: r.Description, IdempotencyKey: notify.Key(msg.Env, notify.KindReport, r.Name, msg.Tick, notify.StateReport),
		URL: w.pageURL(msg.Env, dash)}
	if r.Format != "csv" {
		img, err := w.reportImage(ctx, m, rel, ptr.Release, d.Spec, chart, key, r.Filters)
		if err != nil {
			return notify.Message{}, fmt.Errorf("report %s: %w", r.Name, err)
		}
		nm.Images = append(nm.Images, img)
	}
	if r.Format == "csv" || r.Format == "both" {
		for _, ref := range refs {
			data := rel.Charts[ref].States[key]
			b, err := storage.ReadAll(ctx, w.Storage, data.CSV, maxReportCSV)
			if err != nil {
				return notify.Message{}, fmt.Errorf("report %s: %s: %w", r.Name, ref, err)
			}
			_, name, _ := strings.Cut(ref, "/")
			nm.Files = append(nm.Files, notify.Attachment{Name: dash + "-" + name + ".csv", ContentType: "text/csv", Data: b})
		}
	}
	return nm, nil
}

// withState copies rel deeply enough that a report may add a state's data
// and page to dashboard dash without changing the release that serves.
func withState(rel *release.Release, dash string) *release.Release {
	out := *rel
	out.Charts = maps.Clone(rel.Charts)
	for _, ref := range rel.Dashboards[dash].Charts {
		c := out.Charts[ref]
		c.States = maps.Clone(c.States)
		out.Charts[ref] = c
	}
	out.Dashboards = maps.Clone(rel.Dashboards)
	d := out.Dashboards[dash]
	d.StatePages = maps.Clone(d.StatePages)
	if d.StatePages == nil {
		d.StatePages = map[string]string{}
	}
	out.Dashboards[dash] = d
	return &out
}

// reportImage draws the report's dashboard (its whole height) or chart in
// the state key, rendering that state's page first when the release has
// none.
func (w *Worker) reportImage(ctx context.Context, m *compiler.Manifest, rel *release.Release, relKey string, d compiler.Dashboard, chart, key string, chosen map[string]any) (notify.Attachment, error) {
	if w.Renderer == nil {
		return notify.Attachment{}, errNoBrowser
	}
	pub := rel.Dashboards[d.Name]
	page := pub.StatePages[key]
	if def, err := m.DefaultState(d.Name); err == nil && def.Key() == key {
		page = pub.Page
	}
	if page == "" {
		var err error
		page, err = w.statePage(ctx, m, rel, d, key, site.Options{Env: rel.Env, AssetsURL: pageAssetsURL, APIURL: pageAPIURL, State: chosen, StatePage: true})
		if err != nil {
			return notify.Attachment{}, err
		}
		pub.StatePages[key] = page
		rel.Dashboards[d.Name] = pub
	}
	q := render.Request{Release: rel, ReleaseKey: relKey, Dashboard: d.Name, Chart: chart, PageKey: page, Width: 1200, Height: 800, Full: chart == ""}
	if chart != "" {
		q.Width, q.Height, q.Scale = chartPictureWidth, chartPictureHeight, chartPictureScale
	}
	res, err := w.Renderer.Render(ctx, q)
	if err != nil {
		return notify.Attachment{}, err
	}
	name := d.Name
	if chart != "" {
		name += "-" + chart
	}
	return notify.Attachment{Name: name + ".png", ContentType: "image/png", Data: res.PNG}, nil
}
