package compiler

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// object is one project object as loaded, before it is checked.
type object struct {
	kind Kind
	name string
	node *Node
}

// loaded is what the load stage returns: the project settings, every
// object, and the sources for printing diagnostics.
type loaded struct {
	project *Node
	objects []object
	sources Sources
}

// objectDirs hold a project's objects; any YAML or CUE file below them is read.
var objectDirs = []string{"datasets", "dashboards", "alerts", "reports"}

// load reads the project rooted at fsys: bic.yaml (or bic.cue) and every YAML
// and CUE file below the object folders; the root's other CUE files join
// the same CUE package.
func load(fsys fs.FS, sink *diagSink) *loaded {
	l := &loaded{sources: Sources{}}
	var yamlFiles, cueFiles []string
	projectYAML := ""
	for _, name := range []string{"bic.yaml", "bic.yml"} {
		if _, err := fs.Stat(fsys, name); err == nil {
			if projectYAML != "" {
				sink.errorf(Pos{File: name}, CodeDuplicate, "both %s and %s exist; keep one project file", projectYAML, name)
				continue
			}
			projectYAML = name
		}
	}
	if entries, err := fs.ReadDir(fsys, "."); err == nil {
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".cue") {
				cueFiles = append(cueFiles, e.Name())
			}
		}
	} else {
		sink.errorf(Pos{File: "."}, CodeMissingFile, "cannot read the project folder: %v", err)
		return l
	}
	for _, dir := range objectDirs {
		err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == dir {
					return fs.SkipDir // the folder is optional
				}
				sink.errorf(Pos{File: p}, CodeMissingFile, "cannot read: %v", err)
				return nil
			}
			if d.IsDir() {
				if p != dir && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			switch path.Ext(p) {
			case ".yaml", ".yml":
				yamlFiles = append(yamlFiles, p)
			case ".cue":
				cueFiles = append(cueFiles, p)
			}
			return nil
		})
		if err != nil {
			sink.errorf(Pos{File: dir}, CodeMissingFile, "cannot read: %v", err)
		}
	}
	sort.Strings(yamlFiles)
	sort.Strings(cueFiles)

	if projectYAML != "" {
		if src, ok := readFile(fsys, projectYAML, l, sink); ok {
			before := sink.errorCount()
			docs := parseYAML(projectYAML, src, sink)
			switch {
			case len(docs) == 0 && sink.errorCount() > before:
				// The syntax error says what is wrong.
			case len(docs) == 0:
				sink.errorf(Pos{File: projectYAML, Line: 1, Col: 1}, CodeEmptyProject, "%s is empty: expected the project's name and connections", projectYAML)
			case len(docs) > 1:
				sink.errorf(docs[1].Pos, CodeSyntax, "%s must hold one YAML document, found %d", projectYAML, len(docs))
				fallthrough
			default:
				l.project = docs[0]
			}
		}
	}
	// Files are parsed on every core; results are gathered in file order so
	// the outcome does not depend on scheduling.
	type parsed struct {
		src  []byte
		err  error
		docs []*Node
		sink diagSink
	}
	results := make([]parsed, len(yamlFiles))
	parallel(len(yamlFiles), func(i int) {
		r := &results[i]
		if r.src, r.err = fs.ReadFile(fsys, yamlFiles[i]); r.err == nil {
			r.docs = parseYAML(yamlFiles[i], r.src, &r.sink)
		}
	})
	for i, file := range yamlFiles {
		r := &results[i]
		if r.err != nil {
			sink.errorf(Pos{File: file}, CodeMissingFile, "cannot read: %v", r.err)
			continue
		}
		l.sources[file] = r.src
		sink.list = append(sink.list, r.sink.list...)
		if len(r.docs) == 0 && len(r.sink.list) == 0 {
			sink.warnf(Pos{File: file}, CodeEmptyProject, "file is empty")
		}
		for _, doc := range r.docs {
			if obj, ok := identifyYAML(doc, sink); ok {
				l.objects = append(l.objects, obj)
			}
		}
	}
	if len(cueFiles) > 0 {
		loadCUE(fsys, cueFiles, l, sink)
	}
	if l.project == nil && !sink.list.HasErrors(false) {
		sink.errorf(Pos{File: "bic.yaml"}, CodeMissingFile, "no bic.yaml (or bic.cue with a project field) in the project folder: expected the project's name and connections; run `bic init` to create one")
	}
	return l
}

func readFile(fsys fs.FS, name string, l *loaded, sink *diagSink) ([]byte, bool) {
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		sink.errorf(Pos{File: name}, CodeMissingFile, "cannot read: %v", err)
		return nil, false
	}
	l.sources[name] = src
	return src, true
}

// identifyYAML finds the object a YAML document defines from its naming
// key: dataset, dashboard, alert or report.
func identifyYAML(doc *Node, sink *diagSink) (object, bool) {
	if doc.Kind != KindMap {
		sink.errorf(doc.Pos, CodeType, "expected a mapping with one of the keys dataset, dashboard, alert or report, found %s", doc.Describe())
		return object{}, false
	}
	dropHelpers(doc)
	// Alerts and reports also have dataset and dashboard keys, so their own
	// keys decide first.
	var found []Kind
	for _, k := range []Kind{KindAlert, KindReport, KindDashboard, KindDataset} {
		if doc.Get(string(k)) != nil {
			found = append(found, k)
		}
	}
	if len(found) > 1 && (found[0] == KindAlert || found[0] == KindReport) && (len(found) == 2 || found[1] != KindAlert && found[1] != KindReport) {
		found = found[:1]
	}
	switch len(found) {
	case 0:
		hint := ""
		for _, key := range doc.Keys {
			if m := suggest(key, kindNames()); m != "" {
				hint = fmt.Sprintf("; did you mean %q instead of %q?", m, key)
				break
			}
		}
		found := "found keys " + strings.Join(doc.Keys, ", ")
		if len(doc.Keys) == 0 {
			found = "found only _ helper keys"
		}
		sink.errorf(doc.Pos, CodeUnknownObject, "expected one of the keys dataset, dashboard, alert or report naming the object, %s%s", found, hint)
		return object{}, false
	case 1:
		nameNode := doc.Get(string(found[0]))
		return object{kind: found[0], name: nameNode.String(), node: doc}, true
	default:
		second := doc.Get(string(found[1]))
		sink.errorf(second.KeyPos, CodeUnknownObject, "a document defines one object, found both %q and %q keys; separate them with --- or use two files", found[0], found[1])
		return object{}, false
	}
}

// dropHelpers removes top-level keys that start with _: like CUE's hidden
// fields, they hold YAML anchors for the object to reuse and are not part of it.
func dropHelpers(doc *Node) {
	keys, values := doc.Keys[:0:0], doc.Values[:0:0]
	for i, k := range doc.Keys {
		if !strings.HasPrefix(k, "_") {
			keys = append(keys, k)
			values = append(values, doc.Values[i])
		}
	}
	doc.Keys, doc.Values = keys, values
}

func kindNames() []string {
	out := make([]string, len(objectKinds))
	for i, k := range objectKinds {
		out[i] = string(k)
	}
	return out
}
