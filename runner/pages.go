package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/site"
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

// pages renders every dashboard of m as a page drawn with its default
// state's data from rel, stores the pages and the assets they load as
// blobs, and records them in rel.
func (w *Worker) pages(ctx context.Context, m *compiler.Manifest, rel *release.Release) error {
	assets := site.Assets()
	names := make([]string, 0, len(assets))
	for name := range assets {
		names = append(names, name)
	}
	sort.Strings(names)
	rel.Assets = map[string]string{}
	for _, name := range names {
		b, err := w.Storage.PutBlob(ctx, bytes.NewReader(assets[name]))
		if err != nil {
			return fmt.Errorf("store asset %s: %w", name, err)
		}
		rel.Assets[name] = b.Key
	}
	rel.Dashboards = map[string]release.Dashboard{}
	for _, d := range m.Dashboards {
		name := d.Spec.Name
		data := map[string]site.ChartData{}
		refs := make([]string, 0, len(d.Spec.Charts))
		for _, c := range d.Spec.Charts {
			ref := compiler.ChartID(name, c.Name).Name()
			refs = append(refs, ref)
			rc, ok := rel.Charts[ref]
			if !ok {
				continue
			}
			st, ok := rc.States[rc.Default]
			if !ok {
				continue
			}
			b, err := w.readBlob(ctx, st.JSON)
			if err != nil {
				return fmt.Errorf("page of %s: chart %s: %w", name, c.Name, err)
			}
			data[c.Name] = site.ChartData{JSON: b, CSVURL: pageCSVURL + ref, ComputedAt: st.ComputedAt, Stale: !w.freshness(m, ref)(st.ComputedAt)}
		}
		html, err := site.RenderDashboard(m, name, data, site.Options{Env: rel.Env, AssetsURL: pageAssetsURL, APIURL: pageAPIURL})
		if err != nil {
			return fmt.Errorf("page of %s: %w", name, err)
		}
		page, err := w.Storage.PutBlob(ctx, bytes.NewReader(html))
		if err != nil {
			return fmt.Errorf("store the page of %s: %w", name, err)
		}
		filters, _ := m.FilterDashboard(name)
		rel.Dashboards[name] = release.Dashboard{Title: d.Spec.Title, Description: d.Spec.Description, Page: page.Key, Charts: refs, Filters: filters}
	}
	return nil
}

func (w *Worker) readBlob(ctx context.Context, key string) ([]byte, error) {
	rc, err := w.Storage.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxPageData+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	if len(b) > maxPageData {
		return nil, fmt.Errorf("read %s: larger than %d bytes", key, maxPageData)
	}
	return b, nil
}
