package superset

import (
	"fmt"
	"sort"
	"strings"
)

// filterBox is a legacy filter box chart placed on a dashboard.
type filterBox struct {
	src     *doc
	chartID string // its id in the dashboard's position, the key of default_filters
}

// nativeFilters translates native_filter_configuration: select filters
// (multi_select when multiSelect is on, as it is by default), time range
// filters and numerical range filters, with their defaults.
func (im *importer) nativeFilters(db *dashboard, meta map[string]any, uuidByID map[string]string, names *namer) {
	d := db.src
	for i, f := range list(meta, "native_filter_configuration") {
		fm, ok := f.(map[string]any)
		if !ok {
			continue
		}
		if t := str(fm, "type"); t != "" && t != "NATIVE_FILTER" {
			continue // dividers and section headers
		}
		path := fmt.Sprintf("metadata.native_filter_configuration.%d", i)
		label := str(fm, "name")
		obj := fmt.Sprintf("dashboard %q: native filter %q", db.title, label)
		warn := func(msg string) { im.warn(d, path, obj, msg) }
		var ds *dataset
		var col string
		for _, t := range list(fm, "targets") {
			tm, _ := t.(map[string]any)
			if u := str(tm, "datasetUuid"); u != "" && ds == nil {
				ds = im.datasetByUUID[u]
				col = str(mapping(tm, "column"), "name")
			}
		}
		mask := mapping(fm, "defaultDataMask")
		state := mapping(mask, "filterState")
		extra := mapping(mask, "extraFormData")
		control := mapping(fm, "controlValues")
		var fl node
		switch ft := str(fm, "filterType"); ft {
		case "filter_select", "filter_range":
			if ds == nil {
				warn("its dataset is not in the export; left out")
				continue
			}
			dm := ds.column(col)
			if dm == nil {
				warn(fmt.Sprintf("dataset %q has no column %q; left out", ds.title, col))
				continue
			}
			fl = filterHead(names, label, ds, dm)
			if ft == "filter_range" {
				if dm.typ != "number" {
					warn(fmt.Sprintf("a range filter needs a number column, and %q is a %s one; left out", col, dm.typ))
					continue
				}
				fl.set("type", "number_range")
				if r := rangeDefault(list(state, "value")); len(r) > 0 {
					fl.set("default", flow{r})
				}
				break
			}
			if dm.typ == "time" {
				warn(fmt.Sprintf("a select filter on the time column %q has no bic equivalent (use a time range filter); left out", col))
				continue
			}
			multi := true
			if _, ok := control["multiSelect"]; ok {
				multi = truthy(control, "multiSelect")
			}
			vals := list(state, "value")
			if len(vals) == 0 {
				for _, ef := range list(extra, "filters") {
					if em, ok := ef.(map[string]any); ok {
						vals = list(em, "val")
					}
				}
			}
			im.selectFilter(&fl, dm, multi, vals, func(msg string) { warn(msg) })
			if truthy(control, "enableEmptyFilter") {
				fl.set("required", true)
			}
		case "filter_time":
			ds, dm := im.timeTarget(db, fm, uuidByID)
			if dm == nil {
				warn("no chart in its scope has a time column to filter; left out")
				continue
			}
			fl = filterHead(names, label, ds, dm)
			fl.set("type", "date_range")
			v, _ := state["value"].(string)
			if v == "" {
				v = str(extra, "time_range")
			}
			if tr, msg := timeRange(v); msg != "" {
				warn("default: " + msg)
			} else if tr != "" {
				fl.set("default", tr)
			}
		default:
			warn(fmt.Sprintf("filter type %q has no bic equivalent (bic filters select values, number ranges and time ranges); left out", ft))
			continue
		}
		db.filters = append(db.filters, fl)
	}
}

// filterHead starts a filter: its name, label, dataset and dimension.
func filterHead(names *namer, label string, ds *dataset, dm *dim) node {
	var fl node
	fl.set("name", names.take(slug(label, "filter")))
	if label != "" {
		fl.set("label", label)
	}
	fl.set("dataset", ds.name)
	fl.set("dimension", dm.name)
	return fl
}

// selectFilter completes a select or multi_select filter with its default.
func (im *importer) selectFilter(fl *node, dm *dim, multi bool, vals []any, warn func(string)) {
	var def []any
	for _, v := range vals {
		cv, ok := convertValue(dm.typ, v)
		if !ok {
			warn(fmt.Sprintf("default value %v does not fit the %s column; the default is left out", v, dm.typ))
			def = nil
			break
		}
		def = append(def, cv)
	}
	if multi {
		fl.set("type", "multi_select")
		if len(def) > 0 {
			fl.set("default", flow{def})
		}
		return
	}
	fl.set("type", "select")
	if len(def) > 0 {
		fl.set("default", def[0])
	}
}

// rangeDefault reads a range filter's [min, max].
func rangeDefault(v []any) node {
	var r node
	if len(v) == 2 {
		if f, ok := convertValue("number", v[0]); ok {
			r.set("min", f)
		}
		if f, ok := convertValue("number", v[1]); ok {
			r.set("max", f)
		}
	}
	return r
}

// timeTarget picks the dataset and time column of a time range filter:
// its target when it names one, else the time axis (or the dataset's time
// column) of the first chart in its scope.
func (im *importer) timeTarget(db *dashboard, fm map[string]any, uuidByID map[string]string) (*dataset, *dim) {
	for _, t := range list(fm, "targets") {
		tm, _ := t.(map[string]any)
		if ds := im.datasetByUUID[str(tm, "datasetUuid")]; ds != nil {
			if dm := ds.column(str(mapping(tm, "column"), "name")); dm != nil && dm.typ == "time" {
				return ds, dm
			}
			if dm := ds.defaultTime(); dm != nil {
				return ds, dm
			}
		}
	}
	inScope := map[string]bool{}
	for _, id := range list(fm, "chartsInScope") {
		if u := uuidByID[fmt.Sprint(toIntString(id))]; u != "" {
			inScope[u] = true
		}
	}
	for _, c := range db.charts {
		if len(inScope) > 0 && !inScope[c.uuid] {
			continue
		}
		if dm := c.ds.dimByName(c.x); dm != nil && dm.typ == "time" {
			return c.ds, dm
		}
		if dm := c.ds.defaultTime(); dm != nil {
			return c.ds, dm
		}
	}
	return nil, nil
}

func toIntString(v any) string {
	if f, ok := toNumber(v); ok {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprint(v)
}

// filterBoxFilters turns legacy filter boxes into filters: one per column
// of filter_configs (or of groupby, before Superset 0.36), a time range
// filter when date_filter is on, with defaults from the dashboard's
// default_filters or the box's own defaultValue.
func (im *importer) filterBoxFilters(db *dashboard, meta map[string]any, boxes []filterBox, names *namer) {
	defaults := mapping(meta, "default_filters")
	for _, fb := range boxes {
		d := fb.src
		params := mapping(d.root, "params")
		obj := fmt.Sprintf("filter box %q", str(d.root, "slice_name"))
		ds := im.datasetByUUID[str(d.root, "dataset_uuid")]
		if ds == nil {
			im.warn(d, "dataset_uuid", obj, "its dataset is not in the export; its filters are left out")
			continue
		}
		boxDefaults := mapping(defaults, fb.chartID)
		configs := list(params, "filter_configs")
		if len(configs) == 0 {
			for _, g := range stringList(params, "groupby") {
				configs = append(configs, map[string]any{"column": g, "multiple": true})
			}
		}
		for i, cfg := range configs {
			cm, ok := cfg.(map[string]any)
			if !ok {
				continue
			}
			col := str(cm, "column")
			path := fmt.Sprintf("params.filter_configs.%d", i)
			dm := ds.column(col)
			if dm == nil {
				im.warn(d, path, obj, fmt.Sprintf("dataset %q has no column %q; the filter is left out", ds.title, col))
				continue
			}
			if dm.typ == "time" {
				im.warn(d, path, obj, fmt.Sprintf("a select filter on the time column %q has no bic equivalent; left out", col))
				continue
			}
			label := str(cm, "label")
			if label == "" {
				label = col
			}
			fl := filterHead(names, label, ds, dm)
			multi := true
			if _, ok := cm["multiple"]; ok {
				multi = truthy(cm, "multiple")
			}
			vals := list(boxDefaults, col)
			if len(vals) == 0 {
				if dv := str(cm, "defaultValue"); dv != "" {
					for _, v := range strings.Split(dv, ";") {
						vals = append(vals, v)
					}
				}
			}
			im.selectFilter(&fl, dm, multi, vals, func(msg string) { im.warn(d, path, obj, msg) })
			if _, ok := cm["clearable"]; ok && !truthy(cm, "clearable") {
				fl.set("required", true)
			}
			db.filters = append(db.filters, fl)
		}
		if truthy(params, "date_filter") {
			dm := ds.column(str(params, "granularity_sqla"))
			if dm == nil || dm.typ != "time" {
				dm = ds.defaultTime()
			}
			if dm == nil {
				im.warn(d, "params.date_filter", obj, fmt.Sprintf("its time range filter needs a time column, and dataset %q has none to choose; left out", ds.title))
				continue
			}
			fl := filterHead(names, "Time range", ds, dm)
			fl.set("type", "date_range")
			v := str(boxDefaults, "__time_range")
			if v == "" {
				v = str(params, "time_range")
			}
			if tr, msg := timeRange(v); msg != "" {
				im.warn(d, "params.time_range", obj, "default: "+msg)
			} else if tr != "" {
				fl.set("default", tr)
			}
			db.filters = append(db.filters, fl)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
