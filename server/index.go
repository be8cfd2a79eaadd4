package server

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/bic-dev/bic/publish/access"
)

// indexPage lists environments and their dashboards, as cards with their
// thumbnails: the markup and classes of the index that bic publish --out
// writes (publish/site's index.html), so that both look alike with the
// releases' own bic.css, without the server importing the site's
// renderer. Every value goes through html/template, so a title cannot
// inject markup. Under bic dev (Live) the page polls each environment's
// live channel and reloads itself when one serves another release.
var indexPage = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dashboards</title>
<link rel="icon" href="data:,">
{{- if .Envs}}
<link rel="stylesheet" href="assets/bic.css">
{{- end}}
</head>
<body>
<header class="bic-head"><h1>Dashboards</h1></header>
<main class="bic-index">
{{- range .Envs}}
<section class="bic-env-list" id="env-{{.Name}}"{{if $.Live}} data-live-env="{{.Name}}" data-release="{{.Release}}"{{end}}>
<h2>{{.Name}}</h2>
{{- if .Error}}
<p class="bic-empty">{{.Error}}</p>
{{- else}}
<p class="bic-env-meta">revision {{.Revision}}{{if .PublishedISO}}, published <time datetime="{{.PublishedISO}}">{{.Published}}</time>{{end}}</p>
{{- if .Dashboards}}
<ul class="bic-cards">
{{- range .Dashboards}}
<li class="bic-card"><a href="{{.Href}}">{{if .Thumb}}<img src="{{.Thumb}}" alt="" loading="lazy">{{end}}<strong>{{.Title}}</strong></a>{{if .Stale}}<p>The picture is of an earlier release.</p>{{end}}{{with .Description}}<p>{{.}}</p>{{end}}</li>
{{- end}}
</ul>
{{- else}}
<p class="bic-empty">No dashboards published.</p>
{{- end}}
{{- end}}
</section>
{{- else}}
<p class="bic-empty">No environment has a release yet.</p>
{{- end}}
</main>
{{- if .Live}}
<script>
(function () {
  if (!window.fetch) return;
  document.querySelectorAll('[data-live-env]').forEach(function (el) {
    function poll() {
      fetch('e/' + encodeURIComponent(el.dataset.liveEnv) + '/live', { cache: 'no-store' }).then(function (resp) {
        return resp.ok ? resp.json() : null;
      }).then(function (ev) {
        if (ev && ev.release !== el.dataset.release) { location.reload(); return; }
        setTimeout(poll, 500);
      }, function () { setTimeout(poll, 2000); });
    }
    poll();
  });
})();
</script>
{{- end}}
</body>
</html>
`))

type indexEnv struct {
	Name     string
	Error    string
	Revision int
	Release  string // its short name in the live channel
	// Published is when, as people read it and as RFC 3339.
	Published, PublishedISO string
	Dashboards              []indexDashboard
}

type indexDashboard struct {
	Href, Title, Description, Thumb string
	Stale                           bool
}

// serveIndex serves /: every environment with a pointer, and its
// dashboards; under token auth, only the environment of the request's
// bearer token.
func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request, _ []string) {
	var envs []string
	if s.gate != nil {
		// Under token auth, the one environment r may read: no listing.
		only, ok := s.indexEnv(w, r)
		if !ok {
			return
		}
		if validName(only) {
			envs = []string{only}
		}
	} else {
		var err error
		if envs, err = s.envs.list(r.Context()); err != nil {
			s.log.Error("list environments", "error", err)
			writeError(w, r, http.StatusServiceUnavailable, "storage did not answer", nil)
			return
		}
	}
	data := struct {
		Envs []indexEnv
		Live bool
	}{Live: s.live != nil}
	for _, env := range envs {
		ie := indexEnv{Name: env}
		l, err := s.envs.get(r.Context(), env)
		switch {
		case errors.Is(err, errNoEnv):
			continue
		case err != nil:
			s.log.Warn("read release", "env", env, "error", err)
			ie.Error = "its release cannot be read now"
		default:
			ie.Revision, ie.Release = l.rel.Revision, releaseID(l.key)
			if !l.rel.PublishedAt.IsZero() {
				at := l.rel.PublishedAt.UTC()
				ie.Published, ie.PublishedISO = at.Format("2 Jan 2006 15:04 MST"), at.Format(time.RFC3339)
			}
			names := make([]string, 0, len(l.rel.Dashboards))
			for name := range l.rel.Dashboards {
				if validName(name) {
					names = append(names, name)
				}
			}
			slices.Sort(names)
			for _, name := range names {
				d := l.rel.Dashboards[name]
				title := d.Title
				if title == "" {
					title = name
				}
				// Relative: the index is at the server's root.
				id := indexDashboard{Href: access.DashboardPath(env, name)[1:], Title: title, Description: d.Description}
				if d.Thumbnail != "" {
					id.Thumb, id.Stale = access.ThumbnailPath(env, name)[1:], d.ThumbnailStale
				}
				ie.Dashboards = append(ie.Dashboards, id)
			}
		}
		data.Envs = append(data.Envs, ie)
	}
	var buf bytes.Buffer
	if err := indexPage.Execute(&buf, data); err != nil {
		s.log.Error("render index", "error", err)
		writeError(w, r, http.StatusInternalServerError, "internal error", nil)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", cacheRevalid)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}
