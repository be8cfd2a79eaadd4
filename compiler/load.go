package compiler

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// object is one project object as loaded, before it is checked.
type object struct {
	kind Kind
	name string
	// node is the object's tree; nil when it is still in its cache entry
	// (lazy), to decode on first use: see tree.
	node *Node
	lazy *lazyDocs
	doc  int
	// namePos is where its name is: its naming key's value.
	namePos Pos
	// cleanFile: the object's file was read and parsed without a
	// diagnostic.
	cleanFile bool
	// cached is the schema stage's verdict from the file cache, when the
	// object's file was unchanged.
	cached *objectCheck
	// key names the object's document in the cache: its file's key and
	// its place in the file ("" without a cache, and for CUE objects).
	key string
}

// newObject is the object of kind and name that tree defines.
func newObject(kind Kind, name string, tree *Node) object {
	return object{kind: kind, name: name, node: tree, namePos: tree.PosAt(string(kind))}
}

// tree returns the object's tree, decoding it from its cache entry on
// first use.
func (o *object) tree() *Node {
	if o.node == nil && o.lazy != nil {
		return o.lazy.doc(o.doc)
	}
	return o.node
}

// loaded is what the load stage returns: the project settings, every
// object, and the sources for printing diagnostics.
type loaded struct {
	project *Node
	objects []object
	sources Sources
	// toCache are the files read without the cache, to record once checked.
	toCache []pendingEntry
	cached  int // files whose entry was used
}

// pendingEntry is a file to record in the cache once its objects are
// checked: the objects are l.objects[first:first+count].
type pendingEntry struct {
	key, file    string
	entry        fileEntry
	first, count int
}

// objectDirs hold a project's objects; any YAML or CUE file below them is read.
var objectDirs = []string{"datasets", "dashboards", "alerts", "reports"}

// load reads the project rooted at fsys: bic.yaml (or bic.cue) and every YAML
// and CUE file below the object folders; the root's other CUE files join
// the same CUE package. It reads only regular files, within limits (see
// files.go), and stops between files when ctx is done.
func load(ctx context.Context, fsys fs.FS, limits Limits, fc *fileCacher, sink *diagSink) *loaded {
	l := &loaded{sources: Sources{}}
	pl := &projectLister{fsys: fsys, sink: sink}
	projectYAML, yamlFiles, cueFiles, ok := pl.list()
	if !ok {
		return l
	}
	fr := &fileReader{fsys: fsys, limits: limits}
	var all []string
	if projectYAML != "" {
		all = append(all, projectYAML)
	}
	all = append(append(all, yamlFiles...), cueFiles...)
	// Files are admitted in path order, so which ones a size limit refuses
	// does not depend on scheduling; then read and parsed on every core.
	type parsed struct {
		src     []byte
		docs    []*Node
		aliases int // values the file's aliases expand to
		sink    diagSink
		read    bool
		key     string     // the file's cache key, when it may be cached
		entry   *fileEntry // what the cache held for it
	}
	results := make(map[string]*parsed, len(all))
	var admitted []string
	for _, file := range all {
		r := &parsed{}
		results[file] = r
		if fr.admit(file, pl.entries[file], &r.sink) {
			admitted = append(admitted, file)
		}
	}
	parallel(ctx, len(admitted), func(i int) {
		file := admitted[i]
		r := results[file]
		r.src, r.read = fr.read(file, &r.sink)
		if !r.read || file == projectYAML || !isYAML(file) {
			return
		}
		if fc != nil {
			r.key = fileKey(fc.digest, file, r.src)
			if e := fc.get(r.key, file, r.src, limits.StepTimeout); e != nil {
				r.entry = e
				r.docs, r.aliases = e.docs, e.aliases
				r.sink.list = append(r.sink.list, e.diags...)
				return
			}
		}
		r.docs, r.aliases = parseYAMLWithin(ctx, limits.StepTimeout, file, r.src, &r.sink)
	})
	if ctx.Err() != nil {
		return l
	}

	if projectYAML != "" {
		r := results[projectYAML]
		sink.list = append(sink.list, r.sink.list...)
		if r.read {
			l.sources[projectYAML] = r.src
			before := sink.errorCount()
			docs, _ := parseYAMLWithin(ctx, limits.StepTimeout, projectYAML, r.src, sink)
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
	aliases := 0
	for _, file := range yamlFiles {
		r := results[file]
		sink.list = append(sink.list, r.sink.list...)
		if !r.read {
			continue
		}
		l.sources[file] = r.src
		if aliases += r.aliases; aliases > maxProjectAliasValues {
			sink.errorf(Pos{File: file}, CodeSyntax, "invalid YAML: the aliases of the project's files expand to more than %d values; this file is not read", maxProjectAliasValues)
			continue
		}
		lazy := r.entry != nil && r.entry.lazy != nil
		if len(r.docs) == 0 && !lazy && len(r.sink.list) == 0 {
			sink.warnf(Pos{File: file}, CodeEmptyProject, "file is empty")
		}
		first := len(l.objects)
		if lazy {
			// The entry says what each document defines; the trees wait.
			for i, eo := range r.entry.objects {
				l.objects = append(l.objects, object{kind: eo.kind, name: eo.name, namePos: eo.namePos, lazy: r.entry.lazy, doc: i})
			}
		} else {
			for _, doc := range r.docs {
				if obj, ok := identifyYAML(doc, sink); ok {
					l.objects = append(l.objects, obj)
				}
			}
		}
		for i := range l.objects[first:] {
			o := &l.objects[first+i]
			o.cleanFile = len(r.sink.list) == 0
			if r.key != "" {
				o.key = r.key + "#" + strconv.Itoa(i)
			}
		}
		switch objs := l.objects[first:]; {
		case r.entry != nil && len(r.entry.checks) == len(objs):
			l.cached++
			for i := range objs {
				objs[i].cached = &r.entry.checks[i]
			}
		case r.entry == nil && r.key != "" && r.aliases <= maxCachedAliases:
			l.toCache = append(l.toCache, pendingEntry{key: r.key, file: file, first: first, count: len(objs),
				entry: fileEntry{diags: r.sink.list, aliases: r.aliases, docs: r.docs}})
		}
	}
	var cue []cueFile
	for _, file := range cueFiles {
		r := results[file]
		sink.list = append(sink.list, r.sink.list...)
		if r.read {
			l.sources[file] = r.src
			cue = append(cue, cueFile{name: file, src: r.src})
		}
	}
	if len(cue) > 0 {
		loadCUE(ctx, cue, limits.StepTimeout, l, sink)
	}
	if l.project == nil && !sink.list.HasErrors(false) {
		sink.errorf(Pos{File: "bic.yaml"}, CodeMissingFile, "no bic.yaml (or bic.cue with a project field) in the project folder: expected the project's name and connections; run `bic init` to create one")
	}
	return l
}

// maxProjectAliasValues bounds what the aliases of all YAML files expand
// to, as maxAliasValues does for one.
const maxProjectAliasValues = 4 * maxAliasValues

func isYAML(file string) bool {
	ext := path.Ext(file)
	return ext == ".yaml" || ext == ".yml"
}

// projectLister finds a project's files: it walks the folders without
// opening any file, and keeps each file's directory entry so that the
// reader can refuse what is not a regular file before opening it.
type projectLister struct {
	fsys    fs.FS
	sink    *diagSink
	entries map[string]fs.DirEntry
}

func (pl *projectLister) list() (projectYAML string, yamlFiles, cueFiles []string, ok bool) {
	pl.entries = map[string]fs.DirEntry{}
	root, err := fs.ReadDir(pl.fsys, ".")
	if err != nil {
		pl.sink.errorf(Pos{File: "."}, CodeMissingFile, "cannot read the project folder: %v", err)
		return "", nil, nil, false
	}
	top := map[string]fs.DirEntry{}
	for _, e := range root {
		top[e.Name()] = e
	}
	for _, name := range []string{"bic.yaml", "bic.yml"} {
		e, found := top[name]
		if !found {
			continue
		}
		if projectYAML != "" {
			pl.sink.errorf(Pos{File: name}, CodeDuplicate, "both %s and %s exist; keep one project file", projectYAML, name)
			continue
		}
		projectYAML = name
		pl.entries[name] = e
	}
	for _, e := range root {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".cue") && pl.named(e.Name()) {
			cueFiles = append(cueFiles, e.Name())
			pl.entries[e.Name()] = e
		}
	}
	for _, dir := range objectDirs {
		e, found := top[dir]
		if !found {
			continue // the folder is optional
		}
		if e.Type()&fs.ModeSymlink != 0 {
			if target, outside := linkLeaves(pl.fsys, dir); outside {
				pl.sink.errorf(Pos{File: dir}, CodeMissingFile, "cannot read: a symbolic link to %s, outside the project folder; bic reads only files inside it", quoteN(target, 4*maxExcerpt))
				continue
			}
		}
		err := fs.WalkDir(pl.fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				pl.sink.errorf(Pos{File: pl.display(p)}, CodeMissingFile, "cannot read: %v", err)
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if p != dir && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			switch {
			case isYAML(p) && pl.named(p):
				yamlFiles = append(yamlFiles, p)
				pl.entries[p] = d
			case path.Ext(p) == ".cue" && pl.named(p):
				cueFiles = append(cueFiles, p)
				pl.entries[p] = d
			}
			return nil
		})
		if err != nil {
			pl.sink.errorf(Pos{File: dir}, CodeMissingFile, "cannot read: %v", err)
		}
	}
	sort.Strings(yamlFiles)
	sort.Strings(cueFiles)
	return projectYAML, yamlFiles, cueFiles, true
}

// named reports whether a file's name can be printed as it is: a name with
// control characters would reach the terminal in every message about it.
func (pl *projectLister) named(p string) bool {
	if d := pl.display(p); d != p {
		pl.sink.errorf(Pos{File: d}, CodeMissingFile, "cannot read: the file name has control characters or is not UTF-8; rename the file")
		return false
	}
	return true
}

// display is a path as messages print it: escaped.
func (pl *projectLister) display(p string) string { return excerpt(p, 4096) }

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
				hint = fmt.Sprintf("; did you mean %q instead of %s?", m, quote(key))
				break
			}
		}
		found := "found keys " + listExcerpt(doc.Keys)
		if len(doc.Keys) == 0 {
			found = "found only _ helper keys"
		}
		sink.errorf(doc.Pos, CodeUnknownObject, "expected one of the keys dataset, dashboard, alert or report naming the object, %s%s", found, hint)
		return object{}, false
	case 1:
		nameNode := doc.Get(string(found[0]))
		return newObject(found[0], nameNode.String(), doc), true
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

// listExcerpt joins the first few of names for a message, each cut short.
func listExcerpt(names []string) string {
	const most = 10
	parts := make([]string, 0, min(len(names), most+1))
	for i, n := range names {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(names)-most))
			break
		}
		parts = append(parts, excerpt(n, maxExcerpt))
	}
	return strings.Join(parts, ", ")
}

func kindNames() []string {
	out := make([]string, len(objectKinds))
	for i, k := range objectKinds {
		out[i] = string(k)
	}
	return out
}
