package compiler

import (
	"fmt"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue/scanner"
	"cuelang.org/go/cue/token"
)

// CodeNotChecked is the code of the note that stands for the references to
// an object that were not checked because the object itself has errors:
// one mistake is reported once, not again at every place that uses it.
const CodeNotChecked = "not-checked"

// objKey names one object: a dataset, dashboard, alert, report or chart
// (DASHBOARD/CHART).
type objKey struct {
	kind Kind
	name string
}

const kindChart Kind = "chart"

// cascade remembers the objects with errors of their own and counts the
// references to them that were not checked.
type cascade struct {
	// failed holds objects that exist but failed their own checks, at the
	// place the note about them goes.
	failed map[objKey]Pos
	// unloaded holds objects that a file which did not load (a syntax error,
	// a duplicate key, a file that cannot be read) probably defined.
	unloaded map[objKey]unloadedAt
	// via holds objects left unchecked because of another one (a chart
	// whose dataset has errors): references to them count for that one.
	via     map[objKey]objKey
	skipped map[objKey]*skippedRefs
	refs    int // references counted in skipped, all told
}

// unloadedAt says where an object that did not load is defined, and which
// file's error stopped it: another file when a CUE file stops its package.
type unloadedAt struct {
	defined, failed string
}

type skippedRefs struct {
	count int
	files []string
}

func newCascade() *cascade {
	return &cascade{failed: map[objKey]Pos{}, unloaded: map[objKey]unloadedAt{}, via: map[objKey]objKey{}, skipped: map[objKey]*skippedRefs{}}
}

// markFailed records an object that failed its own checks; its references
// are counted from now on, and the note about them goes at pos.
func (c *cascade) markFailed(kind Kind, name string, pos Pos) {
	if _, ok := c.failed[objKey{kind, name}]; !ok {
		c.failed[objKey{kind, name}] = pos
	}
}

// unchecked reports whether the object a reference at from names has
// errors of its own or was in a file that did not load; if so, the
// reference is counted for the note instead of reported.
func (r *resolver) unchecked(kind Kind, name string, from Pos) bool {
	key := objKey{kind, name}
	if cause, ok := r.cascade.via[key]; ok {
		key = cause
	}
	_, failed := r.cascade.failed[key]
	_, unloaded := r.cascade.unloaded[key]
	if !failed && !unloaded {
		return false
	}
	s := r.cascade.skipped[key]
	if s == nil {
		s = &skippedRefs{}
		r.cascade.skipped[key] = s
	}
	s.count++
	r.cascade.refs++
	if !contains(s.files, from.File) {
		s.files = append(s.files, from.File)
	}
	return true
}

// reportUnchecked adds one note per object whose references were not
// checked, in the file of the error that explains why.
func (r *resolver) reportUnchecked() {
	keys := make([]objKey, 0, len(r.cascade.skipped))
	for k := range r.cascade.skipped {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].kind != keys[j].kind {
			return keys[i].kind < keys[j].kind
		}
		return keys[i].name < keys[j].name
	})
	for _, k := range keys {
		s := r.cascade.skipped[k]
		sort.Strings(s.files)
		files := s.files
		if len(files) > maxNotedFiles {
			files = append(files[:maxNotedFiles:maxNotedFiles], fmt.Sprintf("%d more %s", len(s.files)-maxNotedFiles, plural(len(s.files)-maxNotedFiles, "file")))
		}
		refs := fmt.Sprintf("%d %s to it were not checked (in %s)", s.count, plural(s.count, "reference"), joinAnd(files))
		if s.count == 1 {
			refs = fmt.Sprintf("the reference to it was not checked (in %s)", s.files[0])
		}
		if pos, ok := r.cascade.failed[k]; ok {
			r.sink.warnf(pos, CodeNotChecked, "%s %q has errors, so %s", k.kind, k.name, refs)
			continue
		}
		u := r.cascade.unloaded[k]
		where := ""
		if u.defined != u.failed {
			where = " in " + u.defined
		}
		r.sink.warnf(Pos{File: u.failed}, CodeNotChecked, "%s %q%s did not load, so %s", k.kind, k.name, where, refs)
	}
}

// maxNotedFiles is how many of the referring files a note names.
const maxNotedFiles = 4

func joinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// findUnloaded returns the objects that files which did not load probably
// defined, with the file of each: read from the naming keys of the file's
// text (dataset: NAME), or else from its path (datasets/NAME.yaml). The
// load stage has run, so list holds its errors; objects that did load
// are left out, so a reference to them is still checked as usual.
func findUnloaded(l *loaded, list Diagnostics) map[objKey]unloadedAt {
	failedFiles := map[string]bool{}
	cueFailed := ""
	for _, d := range list {
		if d.Severity != SeverityError || d.Pos.File == "" {
			continue
		}
		failedFiles[d.Pos.File] = true
		if d.Code == CodeSyntax && path.Ext(d.Pos.File) == ".cue" && cueFailed == "" {
			cueFailed = d.Pos.File
		}
	}
	loadedObjs := map[objKey]bool{}
	loadedFiles := map[string]bool{}
	for _, o := range l.objects {
		loadedObjs[objKey{o.kind, o.name}] = true
		loadedFiles[o.namePos.File] = true
	}
	out := map[objKey]unloadedAt{}
	add := func(k objKey, defined, failed string) {
		if _, ok := out[k]; !ok && !loadedObjs[k] {
			out[k] = unloadedAt{defined: defined, failed: failed}
		}
	}
	files := sortedKeys(failedFiles)
	for _, file := range files {
		var keys []objKey
		switch src, ok := l.sources[file]; {
		case !ok:
		case path.Ext(file) == ".yaml" || path.Ext(file) == ".yml":
			keys = yamlObjectNames(src)
		case path.Ext(file) == ".cue":
			keys = cueObjectNames(src)
		}
		if len(keys) == 0 && !loadedFiles[file] {
			if k, ok := objectFromPath(file); ok {
				keys = []objKey{k}
			}
		}
		for _, k := range keys {
			add(k, file, file)
		}
	}
	// A CUE syntax error stops the whole CUE package, so every CUE file's
	// objects are missing, not only the broken file's.
	if cueFailed != "" {
		for _, file := range sortedKeys(l.sources) {
			if path.Ext(file) == ".cue" {
				for _, k := range cueObjectNames(l.sources[file]) {
					add(k, file, cueFailed)
				}
			}
		}
	}
	return out
}

// yamlNamingKey is a top-level naming key with a plain or quoted name.
var yamlNamingKey = regexp.MustCompile(`^(dataset|dashboard|alert|report)[ \t]*:[ \t]*(?:"([^"]*)"|'([^']*)'|([^\s#'"]+))[ \t]*(?:#.*)?$`)

// yamlObjectNames reads the object each document of a YAML file names,
// from its text alone, as identifyYAML would from the parsed document:
// an alert's or report's own key wins over its dataset or dashboard key.
func yamlObjectNames(src []byte) []objKey {
	var out []objKey
	found := map[Kind]string{}
	flush := func() {
		for _, k := range []Kind{KindAlert, KindReport, KindDashboard, KindDataset} {
			if name, ok := found[k]; ok {
				out = append(out, objKey{k, name})
				break
			}
		}
		found = map[Kind]string{}
	}
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasPrefix(line, "---") || strings.HasPrefix(line, "...") {
			flush()
			continue
		}
		m := yamlNamingKey.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if _, dup := found[Kind(m[1])]; !dup {
			found[Kind(m[1])] = m[2] + m[3] + m[4]
		}
	}
	flush()
	return out
}

// objectFromPath guesses the object a file under an object folder defines
// from its path, as datasets/orders.yaml defines dataset "orders".
func objectFromPath(file string) (objKey, bool) {
	dir, rest, ok := strings.Cut(file, "/")
	kind, known := cueSections[dir]
	if !ok || !known {
		return objKey{}, false
	}
	name := strings.TrimSuffix(path.Base(rest), path.Ext(rest))
	if !nameRE.MatchString(name) {
		return objKey{}, false
	}
	return objKey{kind, name}, true
}

// cueObjectNames reads the objects a CUE file defines, as
// datasets: orders: {…} or datasets: {orders: {…}}, from its tokens alone:
// the file need not parse.
func cueObjectNames(src []byte) []objKey {
	var s scanner.Scanner
	s.Init(token.NewFile("", -1, len(src)), src, func(token.Pos, string, []any) {}, 0)
	type frame struct {
		labels []string
		list   bool // inside [ ] or ( ): no object is named there
	}
	var (
		stack   []frame
		chain   []string // labels of the field being read: a: b: c
		label   string
		isLabel bool
		out     []objKey
	)
	for {
		_, tok, lit := s.Scan()
		switch tok {
		case token.EOF:
			return out
		case token.IDENT, token.STRING:
			label, isLabel = lit, true
			if tok == token.STRING {
				label, _ = strconv.Unquote(lit)
			}
			continue
		case token.OPTION, token.NOT:
			continue // a?: and a!: are labels too
		case token.COLON:
			if !isLabel {
				break
			}
			chain = append(chain, label)
			var full []string
			inList := false
			for _, f := range stack {
				full = append(full, f.labels...)
				inList = inList || f.list
			}
			full = append(full, chain...)
			if kind, ok := cueSections[full[0]]; ok && len(full) == 2 && !inList && nameRE.MatchString(full[1]) {
				out = append(out, objKey{kind, full[1]})
			}
		case token.LBRACE:
			stack = append(stack, frame{labels: chain})
			chain = nil
		case token.LBRACK, token.LPAREN:
			stack = append(stack, frame{list: true})
			chain = nil
		case token.RBRACE, token.RBRACK, token.RPAREN:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			chain = nil
		case token.COMMA:
			chain = nil
		}
		isLabel = false
	}
}

// misspelt returns, for each of names that n lacks, the value of the key of
// n that was probably meant to be it: a key the schema stage reported as
// unknown, with that name as its suggestion. The checks of a rule about a
// missing key skip it then: the misspelt key is the one mistake.
func (r *resolver) misspelt(n *Node, names []string) map[string]*Node {
	var out map[string]*Node
	for i, key := range n.Keys {
		if kp := n.Values[i].KeyPos; kp.File == "" || !r.unknownKeys[kp] {
			continue
		}
		if m := suggest(key, names); m != "" && n.Get(m) == nil {
			if out == nil {
				out = map[string]*Node{}
			}
			out[m] = n.Values[i]
		}
	}
	return out
}

// nodeStrings is the string, or the strings of the list, that n holds.
func nodeStrings(n *Node) []string {
	switch n.Kind {
	case KindString:
		return []string{n.Str}
	case KindList:
		var out []string
		for _, it := range n.Items {
			if it.Kind == KindString {
				out = append(out, it.Str)
			}
		}
		return out
	}
	return nil
}

// The keys of each kind of object, as the schema names them.
var (
	datasetKeys = jsonKeys(Dataset{})
	chartKeys   = jsonKeys(Chart{})
	alertKeys   = jsonKeys(Alert{})
	reportKeys  = jsonKeys(Report{})
)

func jsonKeys(v any) []string {
	t := reflect.TypeOf(v)
	var out []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}
