package server

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// indexPage lists environments and their dashboards. It is plain on
// purpose: the pages of publish/site are the product; this is a way in.
// Every value goes through html/template, so a title cannot inject markup.
var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>bic</title><link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Dashboards</h1>
{{- if not .Envs}}
<p>No environment has a release yet.</p>
{{- end}}
{{- range .Envs}}
<section>
<h2>{{.Name}}</h2>
{{- if .Error}}
<p>{{.Error}}</p>
{{- else}}
<p>revision {{.Revision}}{{if .PublishedAt}}, published {{.PublishedAt}}{{end}}</p>
<ul>
{{- range .Dashboards}}
<li><a href="{{.Href}}">{{if .Thumb}}<img src="{{.Thumb}}" alt="" width="300" height="200" loading="lazy"><br>{{end}}{{.Title}}</a>{{if .Stale}} (picture of an earlier release){{end}}{{if .Description}}: {{.Description}}{{end}}</li>
{{- else}}
<li>no dashboards</li>
{{- end}}
</ul>
{{- end}}
</section>
{{- end}}
</body>
</html>
`))

type indexEnv struct {
	Name        string
	Error       string
	Revision    int
	PublishedAt string
	Dashboards  []indexDashboard
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
	data := struct{ Envs []indexEnv }{}
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
			ie.Revision = l.rel.Revision
			if !l.rel.PublishedAt.IsZero() {
				ie.PublishedAt = l.rel.PublishedAt.UTC().Format(time.RFC3339)
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
				id := indexDashboard{Href: "e/" + env + "/d/" + name, Title: title, Description: d.Description}
				if d.Thumbnail != "" {
					id.Thumb, id.Stale = "e/"+env+"/thumbs/"+name+".png", d.ThumbnailStale
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
