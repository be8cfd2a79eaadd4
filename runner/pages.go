package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/compiler/query"
	"github.com/bic-dev/bic/compiler/query/filterstate"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/site"
	"github.com/bic-dev/bic/publish/storage"
)

// Where a page's references lead, relative to the page's address
// /e/ENV/d/DASHBOARD (or e/ENV/d/DASHBOARD.html in a static export, at
// the same depth): the environment's assets, chart API and CSVs.
const (
	pageAssetsURL = "../assets/"
	pageAPIURL    = "../api/charts/"
	pageCSVURL    = "../csv/"
)

// maxPageData bounds the chart data a page embeds: a chart's result is
// bounded by its limit, so a larger blob is not one bic wrote.
const maxPageData = 64 << 20

// pages renders every dashboard of states as a page drawn with its
// default state's data from rel, and a page per other precomputed state
// unless defaultOnly, stores the pages and the assets they load as blobs,
// and records them in rel.
func (w *Worker) pages(ctx context.Context, m *compiler.Manifest, rel *release.Release, states map[string][]compiler.PrecomputedState, defaultOnly bool) error {
	assets, err := w.assets(ctx)
	if err != nil {
		return err
	}
	rel.Assets = assets
	rel.Dashboards = map[string]release.Dashboard{}
	for _, d := range m.Dashboards {
		name := d.Spec.Name
		states, ok := states[name]
		if !ok {
			continue
		}
		refs := make([]string, 0, len(d.Spec.Charts))
		for _, c := range d.Spec.Charts {
			refs = append(refs, compiler.ChartID(name, c.Name).Name())
		}
		opts := site.Options{Env: rel.Env, AssetsURL: pageAssetsURL, APIURL: pageAPIURL, FilterValues: w.filterValues(ctx, m, d.Spec)}
		for _, st := range states {
			opts.Pages = append(opts.Pages, site.StatePage{Chosen: st.Chosen(), File: site.StatePageFile(name, st.State.Key(), st.IsDefault())})
		}
		filters, _ := m.FilterDashboard(name)
		pub := release.Dashboard{Title: d.Spec.Title, Description: d.Spec.Description, Charts: refs, Filters: filters}
		for _, st := range states {
			o := opts
			o.State, o.StatePage = st.Chosen(), !st.IsDefault()
			key, err := w.statePage(ctx, m, rel, d.Spec, st.State.Key(), o)
			if err != nil {
				return err
			}
			if st.IsDefault() {
				pub.Page = key
				if defaultOnly {
					break
				}
				continue
			}
			if pub.StatePages == nil {
				pub.StatePages = map[string]string{}
			}
			pub.StatePages[st.State.Key()] = key
		}
		rel.Dashboards[name] = pub
	}
	return nil
}

// statePage renders and stores the page of dashboard d drawn with the
// data of one filter state, and returns its blob's key.
func (w *Worker) statePage(ctx context.Context, m *compiler.Manifest, rel *release.Release, d compiler.Dashboard, stateKey string, o site.Options) (string, error) {
	name := d.Name
	data := map[string]site.ChartData{}
	for _, c := range d.Charts {
		ref := compiler.ChartID(name, c.Name).Name()
		st, ok := rel.Charts[ref].States[stateKey]
		if !ok {
			continue
		}
		b, err := storage.ReadAll(ctx, w.Storage, st.JSON, maxPageData)
		if err != nil {
			return "", fmt.Errorf("page of %s: chart %s: %w", name, c.Name, err)
		}
		stale := !st.StaleAt.IsZero() && !st.StaleAt.After(w.Now())
		csv := pageCSVURL + ref
		if o.StatePage && st.CSV != "" {
			// The CSV route serves the default state; another state's page
			// links its CSV blob, which a static export copies too.
			csv = "../" + st.CSV
		}
		data[c.Name] = site.ChartData{JSON: b, CSVURL: csv, ComputedAt: st.ComputedAt, StaleAt: st.StaleAt, Stale: stale}
	}
	html, err := site.RenderDashboard(m, name, data, o)
	if err != nil {
		return "", fmt.Errorf("page of %s: %w", name, err)
	}
	page, err := w.Storage.PutBlob(ctx, bytes.NewReader(html))
	if err != nil {
		return "", fmt.Errorf("store the page of %s: %w", name, err)
	}
	return page.Key, nil
}

// filterValues lists, for each select filter of d that declares no values,
// the distinct values of its dimension, computed through the cache like
// chart data. A filter whose values cannot be computed is left out: its
// control takes typed values instead, and the publish goes on.
func (w *Worker) filterValues(ctx context.Context, m *compiler.Manifest, d compiler.Dashboard) map[string][]any {
	out := map[string][]any{}
	for _, f := range d.Filters {
		if (f.Type != filterstate.Select && f.Type != filterstate.MultiSelect) || len(f.Values) > 0 {
			continue
		}
		values, err := w.distinctValues(ctx, m, d.Name, f)
		if err != nil {
			w.Log.Warn("the values of a filter", "dashboard", d.Name, "filter", f.Name, "err", err)
			continue
		}
		out[f.Name] = values
	}
	return out
}

func (w *Worker) distinctValues(ctx context.Context, m *compiler.Manifest, dashboard string, f compiler.Filter) ([]any, error) {
	q, err := query.PlanFilterValues(m, dashboard, f.Name)
	if err != nil {
		return nil, err
	}
	res, err := w.cached(ctx, m, q, w.datasetFreshness(m, f.Dataset))
	if err != nil {
		return nil, err
	}
	b, err := storage.ReadAll(ctx, w.Storage, storage.BlobKey(res.entry.JSONHash), maxPageData)
	if err != nil {
		return nil, err
	}
	var doc struct{ Rows [][]any }
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	values := make([]any, 0, min(len(doc.Rows), query.MaxFilterValues))
	for _, r := range doc.Rows[:min(len(doc.Rows), query.MaxFilterValues)] {
		if len(r) > 0 {
			values = append(values, r[0])
		}
	}
	return values, nil
}

// assets stores the assets that pages load and names their blobs. They
// are the binary's own, so a worker stores them once, not at every
// publish (ECharts alone is 1 MB to hash and write); a failure is tried
// again by the next publish.
func (w *Worker) assets(ctx context.Context) (map[string]string, error) {
	w.assetsMu.Lock()
	defer w.assetsMu.Unlock()
	if w.assetKeys != nil {
		return maps.Clone(w.assetKeys), nil
	}
	keys := map[string]string{}
	for name, b := range site.Assets() {
		blob, err := w.Storage.PutBlob(ctx, bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("store asset %s: %w", name, err)
		}
		keys[name] = blob.Key
	}
	w.assetKeys = keys
	return maps.Clone(keys), nil
}
