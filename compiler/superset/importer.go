package superset

import (
	"context"
	"fmt"
	"sort"
)

// importer holds one import's state: what was read, the names handed out
// and the warnings so far.
type importer struct {
	b    *bundle
	opts Options

	connNames, datasetNames, dashboardNames *namer

	conns         []*connection
	placeholder   *connection
	connByUUID    map[string]*connection
	datasets      []*dataset
	datasetByUUID map[string]*dataset
	chartByUUID   map[string]*doc
	dashboards    []*dashboard
	warnings      []Warning
}

func newImporter(b *bundle, opts Options) *importer {
	return &importer{b: b, opts: opts,
		connNames: newNamer(), datasetNames: newNamer(), dashboardNames: newNamer(),
		connByUUID: map[string]*connection{}, datasetByUUID: map[string]*dataset{}, chartByUUID: map[string]*doc{},
		warnings: append([]Warning(nil), b.warnings...)}
}

// warn records a warning at path in d about obj.
func (im *importer) warn(d *doc, path, obj, msg string) {
	line, col := d.at(path)
	im.warnings = append(im.warnings, Warning{File: d.file, Line: line, Column: col, Object: obj, Message: msg})
}

// uuidOf is a file's uuid, or a warning when it has none or a repeated
// one (the first file in path order wins).
func (im *importer) uuidOf(d *doc, seen map[string]string, kind string) (string, bool) {
	u := str(d.root, "uuid")
	if u == "" {
		im.warn(d, "", kind, "the file has no uuid, so nothing can refer to it; left out")
		return "", false
	}
	if first, dup := seen[u]; dup {
		im.warn(d, "uuid", kind, fmt.Sprintf("uuid %s is also that of %s; this file is left out", u, first))
		return "", false
	}
	seen[u] = d.file
	return u, true
}

func (im *importer) run(ctx context.Context) error {
	seen := map[string]string{}
	for _, d := range im.b.databases {
		u, ok := im.uuidOf(d, seen, fmt.Sprintf("database %q", str(d.root, "database_name")))
		if !ok {
			continue
		}
		c := im.translateDatabase(d)
		im.conns = append(im.conns, c)
		im.connByUUID[u] = c
	}
	for _, d := range im.b.datasets {
		u, ok := im.uuidOf(d, seen, fmt.Sprintf("dataset %q", str(d.root, "table_name")))
		if !ok {
			continue
		}
		ds := im.translateDataset(d)
		im.datasets = append(im.datasets, ds)
		im.datasetByUUID[u] = ds
	}
	for _, d := range im.b.charts {
		if u, ok := im.uuidOf(d, seen, fmt.Sprintf("chart %q", str(d.root, "slice_name"))); ok {
			im.chartByUUID[u] = d
		}
	}
	placed := map[string]bool{}
	for _, d := range im.b.dashboards {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, ok := im.uuidOf(d, seen, fmt.Sprintf("dashboard %q", str(d.root, "dashboard_title"))); !ok {
			continue
		}
		db := im.translateDashboard(d)
		for _, c := range db.charts {
			placed[c.uuid] = true
		}
		for _, u := range chartUUIDs(d) {
			placed[u] = true
		}
		im.dashboards = append(im.dashboards, db)
	}
	im.orphanCharts(placed)
	return nil
}

// chartUUIDs are the charts a dashboard's position names.
func chartUUIDs(d *doc) []string {
	var out []string
	pos := mapping(d.root, "position")
	for _, k := range sortedKeys(pos) {
		comp := mapping(pos, k)
		if str(comp, "type") == "CHART" {
			out = append(out, str(mapping(comp, "meta"), "uuid"))
		}
	}
	return out
}

// orphanCharts puts the charts that no dashboard shows (an export of
// charts, rather than of dashboards) on a dashboard of their own, since
// every bic chart belongs to a dashboard.
func (im *importer) orphanCharts(placed map[string]bool) {
	var docs []*doc
	for _, d := range im.b.charts {
		if u := str(d.root, "uuid"); !placed[u] && im.chartByUUID[u] == d && str(d.root, "viz_type") != "filter_box" {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		return
	}
	db := &dashboard{src: &doc{file: "charts/"}, title: "Charts imported from Superset"}
	db.name = im.dashboardNames.take("superset_charts")
	db.stats = DashboardStats{Title: db.title, Name: db.name}
	names := newNamer()
	for _, d := range docs {
		db.stats.Charts++
		t := str(d.root, "slice_name")
		c, cw := im.translateChart(d, t)
		if cw != nil {
			db.stats.Warned++
			im.warn(d, cw.path, fmt.Sprintf("chart %q", t), cw.msg)
			continue
		}
		db.stats.Translated++
		c.name = names.take(slug(t, "chart"))
		db.charts = append(db.charts, c)
	}
	db.desc = "The charts of the Superset export that no dashboard shows."
	im.dashboards = append(im.dashboards, db)
}

// placeholderConnection is the connection of datasets whose database is not
// in the export.
func (im *importer) placeholderConnection() *connection {
	if im.placeholder == nil {
		c := &connection{name: im.connNames.take("missing_database"), dialect: "postgres"}
		env := envName(c.name)
		c.body.set("type", "postgres")
		c.body.set("description", "TODO: the database of some datasets was not in the Superset export; point "+env+"_URL at it.")
		c.body.set("url", "${env:"+env+"_URL}")
		im.placeholder = c
		im.conns = append(im.conns, c)
	}
	return im.placeholder
}

func (im *importer) result() *Result {
	r := &Result{Files: map[string][]byte{}}
	// bic.yaml
	var n node
	n.set("name", im.opts.Project)
	n.set("description", "Imported from a Superset export by bic import superset.")
	conns := node{}
	for _, c := range im.conns {
		comment := "the placeholder for datasets whose database is missing"
		if c.src != nil {
			comment = fmt.Sprintf("from %s (database %q, uuid %s)", c.src.file, c.title, str(c.src.root, "uuid"))
		}
		conns = append(conns, field{key: c.name, value: c.body, comment: comment})
	}
	if len(conns) == 0 {
		// A project needs a connection; an export of dashboards alone has none.
		c := im.placeholderConnection()
		conns = append(conns, field{key: c.name, value: c.body})
	}
	n.set("connections", conns)
	r.Files["bic.yaml"] = document([]string{"Imported from Superset by bic import superset (metadata.yaml, databases/)."}, n)
	for _, ds := range im.datasets {
		r.Files["datasets/"+ds.name+".yaml"] = ds.render()
	}
	for _, db := range im.dashboards {
		r.Files["dashboards/"+db.name+".yaml"] = db.render()
		r.Dashboards = append(r.Dashboards, db.stats)
	}
	sort.SliceStable(im.warnings, func(i, j int) bool {
		a, b := im.warnings[i], im.warnings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	// A chart on two dashboards is translated twice; say each thing once.
	seen := map[Warning]bool{}
	for _, w := range im.warnings {
		if !seen[w] {
			seen[w] = true
			r.Warnings = append(r.Warnings, w)
		}
	}
	return r
}
