package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"
)

// cloneProject writes into dst a copy of the project in src whose YAML
// dashboards are repeated until the project has at least minCharts
// charts. Every clone differs from the others and from its original: the
// dashboard, each chart and its layout cells are renamed, titles and
// descriptions get the clone's number, limits change and filters get new
// labels, so that no stage can profit from identical input. Datasets,
// alerts and reports are copied unchanged, so every reference resolves.
// It returns the number of charts written.
func cloneProject(src, dst string, minCharts int) (int, error) {
	type dash struct {
		file string
		docs []yaml.MapSlice
	}
	var dashes []dash
	charts := 0
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		ext := path.Ext(rel)
		top, _, _ := strings.Cut(rel, "/")
		if !d.Type().IsRegular() || ext == ".go" || ext == ".md" {
			return nil // generators, READMEs: not read by the compiler
		}
		// Data files are copied too: the compiler checks that the files a
		// DuckDB connection names exist.
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if top == "dashboards" && ext != ".cue" {
			docs, n, err := dashboardDocs(data)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			if n > 0 {
				dashes = append(dashes, dash{file: rel, docs: docs})
				charts += n
			}
		}
		return writeFile(dst, rel, data)
	})
	if err != nil {
		return 0, err
	}
	if charts == 0 {
		return 0, fmt.Errorf("%s has no YAML dashboards with charts to clone", src)
	}
	for k := 1; charts < minCharts; k++ {
		for _, d := range dashes {
			var out bytes.Buffer
			for i, doc := range d.docs {
				c, n := cloneDashboard(doc, k)
				b, err := yaml.Marshal(c)
				if err != nil {
					return 0, fmt.Errorf("clone %s: %w", d.file, err)
				}
				if i > 0 {
					out.WriteString("---\n")
				}
				out.Write(b)
				charts += n
			}
			ext := path.Ext(d.file)
			name := fmt.Sprintf("%s_c%04d%s", strings.TrimSuffix(d.file, ext), k, ext)
			if err := writeFile(dst, name, out.Bytes()); err != nil {
				return 0, err
			}
		}
	}
	return charts, nil
}

func writeFile(root, rel string, data []byte) error {
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// dashboardDocs reads a dashboard file's documents, keeping key order, and
// counts their charts.
func dashboardDocs(data []byte) ([]yaml.MapSlice, int, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.UseOrderedMap())
	var docs []yaml.MapSlice
	charts := 0
	for {
		var doc yaml.MapSlice
		if err := dec.Decode(&doc); err != nil {
			if err.Error() == "EOF" || strings.HasSuffix(err.Error(), "EOF") {
				break
			}
			return nil, 0, err
		}
		if get(doc, "dashboard") == nil {
			continue
		}
		if cs, ok := get(doc, "charts").([]any); ok {
			charts += len(cs)
		}
		docs = append(docs, doc)
	}
	return docs, charts, nil
}

func get(m yaml.MapSlice, key string) any {
	for _, it := range m {
		if it.Key == key {
			return it.Value
		}
	}
	return nil
}

// set replaces key's value in m, or adds it.
func set(m yaml.MapSlice, key string, v any) yaml.MapSlice {
	for i, it := range m {
		if it.Key == key {
			m[i].Value = v
			return m
		}
	}
	return append(m, yaml.MapItem{Key: key, Value: v})
}

// cloneDashboard returns clone k of a dashboard document and its chart count.
func cloneDashboard(doc yaml.MapSlice, k int) (yaml.MapSlice, int) {
	suffix := fmt.Sprintf("_c%d", k)
	out := yaml.MapSlice{}
	renamed := map[string]string{}
	charts := 0
	for _, it := range doc {
		key, _ := it.Key.(string)
		v := it.Value
		switch key {
		case "dashboard":
			v = fmt.Sprint(v) + suffix
		case "title":
			v = fmt.Sprintf("%v (copy %d)", v, k)
		case "description":
			v = fmt.Sprintf("%v Copy %d of the original, for the benchmark.", v, k)
		case "filters":
			if fs, ok := v.([]any); ok {
				var nf []any
				for _, f := range fs {
					if fm, ok := f.(yaml.MapSlice); ok {
						fm = cloneMap(fm)
						fm = set(fm, "label", fmt.Sprintf("%v %d", orDefault(get(fm, "label"), get(fm, "name")), k))
						f = fm
					}
					nf = append(nf, f)
				}
				v = nf
			}
		case "charts":
			if cs, ok := v.([]any); ok {
				var nc []any
				for i, c := range cs {
					if cm, ok := c.(yaml.MapSlice); ok {
						cm = cloneMap(cm)
						if name, ok := get(cm, "name").(string); ok {
							renamed[name] = name + suffix
							cm = set(cm, "name", name+suffix)
						}
						cm = set(cm, "title", fmt.Sprintf("%v, view %d", orDefault(get(cm, "title"), get(cm, "name")), k))
						if lim := get(cm, "limit"); lim != nil {
							cm = set(cm, "limit", 1+(toInt(lim)+k+i)%1000)
						}
						c = cm
					}
					nc = append(nc, c)
					charts++
				}
				v = nc
			}
		}
		out = append(out, yaml.MapItem{Key: it.Key, Value: v})
	}
	// Layout cells name charts: follow the renames.
	for i, it := range out {
		if it.Key != "layout" {
			continue
		}
		rows, ok := it.Value.([]any)
		if !ok {
			continue
		}
		var nr []any
		for _, row := range rows {
			cells, ok := row.([]any)
			if !ok {
				nr = append(nr, row)
				continue
			}
			var ncells []any
			for _, cell := range cells {
				switch c := cell.(type) {
				case string:
					if r, ok := renamed[c]; ok {
						cell = r
					}
				case yaml.MapSlice:
					c = cloneMap(c)
					if name, ok := get(c, "chart").(string); ok && renamed[name] != "" {
						c = set(c, "chart", renamed[name])
					}
					cell = c
				}
				ncells = append(ncells, cell)
			}
			nr = append(nr, ncells)
		}
		out[i].Value = nr
	}
	return out, charts
}

func cloneMap(m yaml.MapSlice) yaml.MapSlice { return append(yaml.MapSlice{}, m...) }

func orDefault(v, def any) any {
	if v == nil {
		return def
	}
	return v
}

func toInt(v any) int {
	switch v := v.(type) {
	case int:
		return v
	case int64:
		return int(v)
	case uint64:
		return int(v)
	case float64:
		return int(v)
	}
	return 0
}
