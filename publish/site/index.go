package site

import (
	"bytes"
	"fmt"
	"time"
)

// IndexEnv is an environment as the index page lists it.
type IndexEnv struct {
	Name        string
	Revision    int
	PublishedAt time.Time
	Dashboards  []IndexDashboard
}

// IndexDashboard is a dashboard on the index page. URL and ThumbnailURL
// are relative to the index page.
type IndexDashboard struct {
	Name, Title, Description, URL, ThumbnailURL string
}

type indexView struct {
	Assets string
	Envs   []indexEnvView
}

type indexEnvView struct {
	IndexEnv
	Published, PublishedISO string
}

// indexAssets is where the index page, at the root of the site, finds the
// assets.
const indexAssets = "assets/"

// RenderIndex renders the page that lists the environments and their
// dashboards, at the root of the site.
func RenderIndex(envs []IndexEnv) ([]byte, error) {
	v := indexView{Assets: indexAssets}
	for _, e := range envs {
		ev := indexEnvView{IndexEnv: e}
		ev.Dashboards = append([]IndexDashboard(nil), e.Dashboards...)
		if !e.PublishedAt.IsZero() {
			ev.Published = e.PublishedAt.UTC().Format("2 Jan 2006 15:04 MST")
			ev.PublishedISO = e.PublishedAt.UTC().Format(time.RFC3339)
		}
		for i, d := range ev.Dashboards {
			for what, u := range map[string]string{"URL": d.URL, "thumbnail URL": d.ThumbnailURL} {
				if err := checkRelative(u); err != nil {
					return nil, fmt.Errorf("render index: %s dashboard %s: %s %q: %w", e.Name, d.Name, what, u, err)
				}
			}
			if d.Title == "" {
				ev.Dashboards[i].Title = d.Name
			}
		}
		v.Envs = append(v.Envs, ev)
	}
	var buf bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&buf, "index.html", v); err != nil {
		return nil, fmt.Errorf("render index: %w", err)
	}
	return buf.Bytes(), nil
}
