package superset

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// dataset is a bic dataset made from a Superset dataset. Charts add the
// ad-hoc metrics and columns they use to it, so it is written last.
type dataset struct {
	src     *doc
	uuid    string
	title   string // Superset's table_name
	name    string
	conn    *connection
	table   string
	sql     string
	desc    string
	dims    []*dim
	metrics []*metric
	names   *namer // dimension and metric names share one scope
	byCol   map[string]*dim
	byExpr  map[string]*metric
	saved   map[string]*metric // Superset metric_name → metric
	mainDtt string             // main_dttm_col
}

type dim struct {
	name, col, typ, expr, label, desc string
	comment                           string
}

type metric struct {
	name, expr, format, currency, label, desc string
	decimals                                  int
	hasDecimals                               bool
	comment                                   string
}

// jinjaRe finds Jinja templating, which bic does not run.
var jinjaRe = regexp.MustCompile(`\{\{|\{%|\{#`)

func (im *importer) translateDataset(d *doc) *dataset {
	title := str(d.root, "table_name")
	ds := &dataset{src: d, uuid: str(d.root, "uuid"), title: title, names: newNamer(),
		byCol: map[string]*dim{}, byExpr: map[string]*metric{}, saved: map[string]*metric{}}
	ds.name = im.datasetNames.take(slug(title, "dataset"))
	obj := fmt.Sprintf("dataset %q", title)
	ds.conn = im.connByUUID[str(d.root, "database_uuid")]
	if ds.conn == nil {
		ds.conn = im.placeholderConnection()
		im.warn(d, "database_uuid", obj, fmt.Sprintf("its database (uuid %s) is not in the export; it uses the placeholder connection %q", str(d.root, "database_uuid"), ds.conn.name))
	}
	ds.desc = str(d.root, "description")
	if sql := strings.TrimSpace(str(d.root, "sql")); sql != "" {
		ds.sql = sql
		if jinjaRe.MatchString(sql) {
			im.warn(d, "sql", obj, "its SQL uses Jinja templating, which bic does not run; the SQL is copied as it is: rewrite the template parts")
		}
	} else {
		table := sqlName(ds.conn.dialect, title)
		if schema := str(d.root, "schema"); schema != "" {
			table = sqlName(ds.conn.dialect, schema) + "." + table
			if cat := str(d.root, "catalog"); cat != "" {
				table = sqlName(ds.conn.dialect, cat) + "." + table
			}
		}
		ds.table = table
	}
	ds.mainDtt = str(d.root, "main_dttm_col")
	for i, c := range list(d.root, "columns") {
		col, ok := c.(map[string]any)
		if !ok {
			continue
		}
		name := str(col, "column_name")
		if name == "" {
			continue
		}
		dm := &dim{col: name, typ: dimType(col), label: str(col, "verbose_name"), desc: str(col, "description")}
		dm.name = ds.names.take(slug(name, "col"))
		if expr := strings.TrimSpace(str(col, "expression")); expr != "" {
			dm.expr = expr
			if jinjaRe.MatchString(expr) {
				im.warn(d, fmt.Sprintf("columns.%d.expression", i), obj, fmt.Sprintf("column %q uses Jinja templating, which bic does not run; copied as it is", name))
			}
		} else if dm.name != name || !plainIdent(name) {
			dm.expr = sqlName(ds.conn.dialect, name)
		}
		ds.dims = append(ds.dims, dm)
		ds.byCol[name] = dm
	}
	for i, m := range list(d.root, "metrics") {
		mm, ok := m.(map[string]any)
		if !ok {
			continue
		}
		name, expr := str(mm, "metric_name"), strings.TrimSpace(str(mm, "expression"))
		if name == "" || expr == "" {
			continue
		}
		if jinjaRe.MatchString(expr) {
			im.warn(d, fmt.Sprintf("metrics.%d.expression", i), obj, fmt.Sprintf("metric %q uses Jinja templating, which bic does not run; copied as it is", name))
		}
		mt := &metric{name: ds.names.take(slug(name, "metric")), expr: expr, label: str(mm, "verbose_name"), desc: str(mm, "description")}
		if mt.label == "" && mt.name != name {
			mt.label = name
		}
		mt.setFormat(str(mm, "d3format"))
		if cur := mapping(mm, "currency"); cur != nil {
			if sym := strings.ToUpper(str(cur, "symbol")); len(sym) == 3 && isUpper(sym) {
				mt.format, mt.currency = "currency", sym
			}
		}
		ds.metrics = append(ds.metrics, mt)
		ds.saved[name] = mt
		if _, dup := ds.byExpr[strings.ToLower(expr)]; !dup {
			ds.byExpr[strings.ToLower(expr)] = mt
		}
	}
	return ds
}

func isUpper(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// numericTypeRe matches the SQL types of numbers in the spellings of the
// warehouses Superset talks to.
var numericTypeRe = regexp.MustCompile(`^(U?TINYINT|U?SMALLINT|U?MEDIUMINT|U?INT\d*|U?INTEGER|U?BIGINT|HUGEINT|LONGLONG|LONG|SHORT|BYTE|INT64|FLOAT\d*|DOUBLE|DOUBLE PRECISION|REAL|DECIMAL|NUMERIC|NUMBER|BIGNUMERIC|MONEY|SERIAL|BIGSERIAL|NEWDECIMAL)\b`)

// dimType is the bic type of a Superset column: is_dttm marks time
// columns; the SQL type tells numbers and booleans.
func dimType(col map[string]any) string {
	if truthy(col, "is_dttm") {
		return "time"
	}
	t := strings.ToUpper(strings.TrimSpace(str(col, "type")))
	switch {
	case t == "DATE" || strings.HasPrefix(t, "TIMESTAMP") || strings.HasPrefix(t, "DATETIME"):
		return "time"
	case strings.HasPrefix(t, "BOOL"):
		return "boolean"
	case numericTypeRe.MatchString(t):
		return "number"
	}
	return "string"
}

// d3Re reads the precision and type of a d3 number format such as
// "$,.2f", ",.1%" or ".3s".
var d3Re = regexp.MustCompile(`\.(\d+)([a-z%])`)

// setFormat reads a d3 format into bic's format and decimals.
func (m *metric) setFormat(d3 string) {
	d3 = strings.TrimSpace(d3)
	if d3 == "" || strings.EqualFold(d3, "SMART_NUMBER") {
		return
	}
	switch {
	case strings.Contains(d3, "%"):
		m.format = "percent"
	case strings.Contains(d3, "$"):
		m.format, m.currency = "currency", "USD"
	default:
		m.format = "number"
	}
	if sm := d3Re.FindStringSubmatch(d3); sm != nil && (sm[2] == "f" || sm[2] == "%") {
		if n, err := strconv.Atoi(sm[1]); err == nil && n <= 10 {
			m.decimals, m.hasDecimals = n, true
		}
	} else if strings.HasSuffix(d3, "d") {
		m.decimals, m.hasDecimals = 0, true // integers, such as ",d"
	}
}

// column finds a dataset column by the name a chart uses: the same name, or
// one that differs only in case (Superset matches column names without
// regard to case on many databases, and exports keep both spellings), or
// the same bic name.
func (ds *dataset) column(name string) *dim {
	if name == "" {
		return nil
	}
	if d := ds.byCol[name]; d != nil {
		return d
	}
	for _, d := range ds.dims {
		if strings.EqualFold(d.col, name) {
			return d
		}
	}
	s := slug(name, "col")
	for _, d := range ds.dims {
		if d.name == s || slug(d.col, "col") == s {
			return d
		}
	}
	return nil
}

// timeDims are the dataset's time dimensions.
func (ds *dataset) timeDims() []*dim {
	var out []*dim
	for _, d := range ds.dims {
		if d.typ == "time" {
			out = append(out, d)
		}
	}
	return out
}

// defaultTime is the time dimension charts without an explicit one use:
// main_dttm_col, else the only time column.
func (ds *dataset) defaultTime() *dim {
	if d := ds.column(ds.mainDtt); d != nil && d.typ == "time" {
		return d
	}
	if t := ds.timeDims(); len(t) == 1 {
		return t[0]
	}
	return nil
}

// sqlOf is how a dimension is written inside a metric's expression.
func (ds *dataset) sqlOf(d *dim) string {
	if d.expr != "" {
		if d.expr == sqlName(ds.conn.dialect, d.col) {
			return d.expr
		}
		return "(" + d.expr + ")"
	}
	return d.name
}

// addMetric adds a metric for expr, or returns the one the dataset has
// for it. name and label are the wished ones; the first use decides.
func (ds *dataset) addMetric(expr, name, label, comment string) (*metric, bool) {
	key := strings.ToLower(strings.Join(strings.Fields(expr), " "))
	if m := ds.byExpr[key]; m != nil {
		return m, false
	}
	m := &metric{name: ds.names.take(name), expr: expr, label: label, comment: comment}
	ds.metrics = append(ds.metrics, m)
	ds.byExpr[key] = m
	return m, true
}

// addDim adds a dimension computed by a chart's SQL expression (an ad-hoc
// column), or returns the one the dataset has for it.
func (ds *dataset) addDim(expr, label, comment string) *dim {
	for _, d := range ds.dims {
		if d.expr == expr || d.expr == "("+expr+")" {
			return d
		}
	}
	d := &dim{name: ds.names.take(slug(label, "expr")), typ: "string", expr: expr, comment: comment}
	if d.name != label {
		d.label = label
	}
	ds.dims = append(ds.dims, d)
	return d
}

// render writes the dataset's file.
func (ds *dataset) render() []byte {
	var n node
	n.set("dataset", ds.name)
	if ds.desc != "" {
		n.set("description", ds.desc)
	}
	n.set("connection", ds.conn.name)
	if ds.sql != "" {
		n.set("sql", ds.sql+"\n")
	} else {
		n.set("table", ds.table)
	}
	dims := node{}
	for _, d := range ds.dims {
		var v node
		v.set("type", d.typ)
		if d.expr != "" {
			v.set("expr", d.expr)
		}
		if d.label != "" {
			v.set("label", d.label)
		}
		if d.desc != "" {
			v.set("description", d.desc)
		}
		dims = append(dims, field{key: d.name, value: flow{v}, comment: d.comment})
	}
	n.set("dimensions", dims)
	if len(ds.metrics) == 0 {
		ds.addMetric("count(*)", "count", "", "added by the importer: Superset's dataset has no metric, bic needs one")
	}
	ms := node{}
	for _, m := range ds.metrics {
		var v node
		v.set("expr", m.expr)
		if m.format != "" {
			v.set("format", m.format)
		}
		if m.currency != "" {
			v.set("currency", m.currency)
		}
		if m.hasDecimals {
			v.set("decimals", m.decimals)
		}
		if m.label != "" {
			v.set("label", m.label)
		}
		if m.desc != "" {
			v.set("description", m.desc)
		}
		ms = append(ms, field{key: m.name, value: flow{v}, comment: m.comment})
	}
	n.set("metrics", ms)
	header := []string{
		fmt.Sprintf("Imported from Superset by bic import superset: %s", ds.src.file),
		fmt.Sprintf("(dataset %q, uuid %s).", ds.title, ds.uuid),
	}
	return document(header, n)
}
