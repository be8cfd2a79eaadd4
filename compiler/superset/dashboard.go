package superset

import (
	"fmt"
	"math"
)

// dashboard is a bic dashboard made from dashboards/NAME.yaml.
type dashboard struct {
	src     *doc
	name    string
	title   string
	desc    string
	tags    []string
	charts  []*chart
	layout  [][]*chart
	filters []node
	stats   DashboardStats
}

// gridUnit is the height of one row of Superset's grid (8 px) and cellUnit
// that of bic's (40 px): a Superset height of 50 is a bic height of 10.
const gridUnit, cellUnit = 8, 40

// maxDepth bounds the walk of a position tree, which a hostile file could
// make cyclic or deep.
const maxDepth = 32

func (im *importer) translateDashboard(d *doc) *dashboard {
	title := str(d.root, "dashboard_title")
	db := &dashboard{src: d, title: title, desc: str(d.root, "description")}
	db.name = im.dashboardNames.take(slug(title, "dashboard"))
	db.tags = stringList(d.root, "tags")
	db.stats = DashboardStats{Title: title, Name: db.name}
	obj := fmt.Sprintf("dashboard %q", title)

	position := mapping(d.root, "position")
	meta := mapping(d.root, "metadata")
	if meta == nil {
		meta = mapping(d.root, "json_metadata")
	}
	if meta == nil {
		meta = map[string]any{}
	}
	chartNames := newNamer()
	uuidByID := map[string]string{} // chartId → chart uuid, for filters that name charts by id
	var filterBoxes []filterBox
	var rows [][]*chart
	markdown := 0
	visited := map[string]bool{}

	// cellsOf turns a component into chart cells; a column's charts are
	// placed side by side, each at the column's width.
	var cellsOf func(id string, width, depth int) []*chart
	cellsOf = func(id string, width, depth int) []*chart {
		comp := mapping(position, id)
		if comp == nil || visited[id] || depth > maxDepth {
			return nil
		}
		visited[id] = true
		cm := mapping(comp, "meta")
		switch str(comp, "type") {
		case "CHART":
			db.stats.Charts++
			uuid := str(cm, "uuid")
			if id := str(cm, "chartId"); id != "" {
				uuidByID[id] = uuid
			}
			src := im.chartByUUID[uuid]
			if src == nil {
				db.stats.Warned++
				im.warn(d, "position."+id, obj, fmt.Sprintf("chart %q (uuid %s) is not in the export; left out", str(cm, "sliceName"), uuid))
				return nil
			}
			if str(src.root, "viz_type") == "filter_box" {
				db.stats.FilterBox++
				filterBoxes = append(filterBoxes, filterBox{src: src, chartID: str(cm, "chartId")})
				return nil
			}
			t := str(cm, "sliceNameOverride")
			if t == "" {
				t = str(src.root, "slice_name")
			}
			c, cw := im.translateChart(src, t)
			if cw != nil {
				db.stats.Warned++
				im.warn(src, cw.path, fmt.Sprintf("chart %q", str(src.root, "slice_name")), cw.msg+fmt.Sprintf(" (on dashboard %q)", title))
				return nil
			}
			db.stats.Translated++
			c.name = chartNames.take(slug(t, "chart"))
			if w, ok := number(cm, "width"); ok && w >= 1 {
				c.width = min(int(w), 12)
			}
			if width > 0 {
				c.width = width
			}
			if h, ok := number(cm, "height"); ok && h > 0 {
				c.height = min(max(int(math.Round(h*gridUnit/cellUnit)), 1), 100)
			}
			db.charts = append(db.charts, c)
			return []*chart{c}
		case "MARKDOWN":
			markdown++
			return nil
		case "COLUMN", "ROW", "TABS", "TAB":
			w := width
			if str(comp, "type") == "COLUMN" {
				if n, ok := number(cm, "width"); ok && n >= 1 {
					w = min(int(n), 12)
				}
			}
			var out []*chart
			for _, child := range stringList(comp, "children") {
				out = append(out, cellsOf(child, w, depth+1)...)
			}
			return out
		}
		return nil
	}
	// rowsOf walks the containers down to the rows.
	var rowsOf func(id string, depth int)
	rowsOf = func(id string, depth int) {
		comp := mapping(position, id)
		if comp == nil || visited[id] || depth > maxDepth {
			return
		}
		switch str(comp, "type") {
		case "ROOT", "GRID", "TABS", "TAB":
			visited[id] = true
			for _, child := range stringList(comp, "children") {
				rowsOf(child, depth+1)
			}
		default:
			if cells := cellsOf(id, 0, depth); len(cells) > 0 {
				rows = append(rows, cells)
			}
		}
	}
	if position == nil {
		im.warn(d, "", obj, "the dashboard has no position (layout): it has no charts")
	} else {
		rowsOf("ROOT_ID", 0)
		// Components the tree does not reach (an export of a hand-made
		// position may lack ROOT_ID), in the file's order.
		for _, id := range sortedKeys(position) {
			if !visited[id] && str(mapping(position, id), "type") == "CHART" {
				if cells := cellsOf(id, 0, 0); len(cells) > 0 {
					rows = append(rows, cells)
				}
			}
		}
	}
	if tabs := countType(position, "TAB"); tabs > 0 {
		im.warn(d, "position", obj, fmt.Sprintf("bic dashboards have no tabs; the charts of its %d tabs are placed one tab after the other", tabs))
	}
	if markdown > 0 {
		im.warn(d, "position", obj, fmt.Sprintf("%d Markdown component(s) have no bic equivalent; left out", markdown))
	}
	db.layout = packRows(rows)

	fn := newNamer()
	im.nativeFilters(db, meta, uuidByID, fn)
	im.filterBoxFilters(db, meta, filterBoxes, fn)
	db.stats.Filters = len(db.filters)
	return db
}

// packRows fits Superset's rows into bic's 12 columns: a row whose cells
// (a column's charts side by side) are wider than 12 continues on the
// next row.
func packRows(rows [][]*chart) [][]*chart {
	var out [][]*chart
	for _, row := range rows {
		var cur []*chart
		used := 0
		for _, c := range row {
			w := c.width
			if w == 0 {
				w = 1
			}
			if used+w > 12 && len(cur) > 0 {
				out = append(out, cur)
				cur, used = nil, 0
			}
			cur = append(cur, c)
			used += w
		}
		if len(cur) > 0 {
			out = append(out, cur)
		}
	}
	return out
}

func countType(position map[string]any, typ string) int {
	n := 0
	for k := range position {
		if str(mapping(position, k), "type") == typ {
			n++
		}
	}
	return n
}

// render writes the dashboard's file.
func (db *dashboard) render() []byte {
	var n node
	n.set("dashboard", db.name)
	n.set("title", db.title)
	if db.desc != "" {
		n.set("description", db.desc)
	}
	if len(db.tags) > 0 {
		n.set("tags", db.tags)
	}
	if len(db.filters) > 0 {
		items := make([]any, len(db.filters))
		for i, f := range db.filters {
			items[i] = f
		}
		n.set("filters", items)
	}
	charts := make([]any, len(db.charts))
	for i, c := range db.charts {
		charts[i] = c.render()
	}
	n.set("charts", charts)
	if len(db.layout) > 0 {
		rows := make([]any, len(db.layout))
		for i, row := range db.layout {
			cells := make([]any, len(row))
			for j, c := range row {
				var cell node
				cell.set("chart", c.name)
				if c.width > 0 {
					cell.set("width", c.width)
				}
				if c.height > 0 {
					cell.set("height", c.height)
				}
				cells[j] = cell
			}
			rows[i] = flow{cells}
		}
		n.set("layout", rows)
	}
	header := []string{
		fmt.Sprintf("Imported from Superset by bic import superset: %s", db.src.file),
		fmt.Sprintf("(dashboard %q, uuid %s).", db.title, str(db.src.root, "uuid")),
	}
	if db.src.root == nil {
		header = []string{"Imported from Superset by bic import superset: the charts of charts/ that no dashboard shows."}
	}
	return document(header, n)
}
