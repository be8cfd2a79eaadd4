package compiler

import (
	"context"
	"crypto/sha256"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/errors"

	"github.com/bic-dev/bic/schema"
)

// Kind is the kind of a project object.
type Kind string

const (
	KindProject   Kind = "project"
	KindDataset   Kind = "dataset"
	KindDashboard Kind = "dashboard"
	KindAlert     Kind = "alert"
	KindReport    Kind = "report"
)

// objectKinds are the kinds a YAML file names with its first key.
var objectKinds = []Kind{KindDataset, KindDashboard, KindAlert, KindReport}

var definitionOf = map[Kind]string{
	KindProject:   "#Project",
	KindDataset:   "#Dataset",
	KindDashboard: "#Dashboard",
	KindAlert:     "#Alert",
	KindReport:    "#Report",
}

// Schema is the compiled CUE definitions. Compile it once and share it: it
// is safe for concurrent use.
type Schema struct {
	mu     sync.Mutex // guards root's context: a cue.Context is not safe for concurrent use
	root   cue.Value  // the definitions, for describing expectations and exporting
	shapes map[Kind]*shape
	// derived says which objects CUE certainly accepts, so that only the
	// others are unified (see derived.go); onlyCUE turns it off, for the
	// differential test.
	derived map[Kind]*derived
	onlyCUE bool
	// digest stands for the schema and the compiler in cache keys.
	digest [sha256.Size]byte

	// Objects are unified on every core at once, each worker with its own
	// compiled copy of the definitions. Workers are made on first need:
	// a small project never pays for more than one.
	workers chan *cueWorker
	made    atomic.Int32
	max     int32
}

type cueWorker struct {
	ctx  *cue.Context
	root cue.Value
	defs map[Kind]cue.Value
}

// internalErrorPrefix starts the message of a check that failed inside
// bic rather than in the input: such a result is never cached.
const internalErrorPrefix = "internal error"

func newCUEWorker() (*cueWorker, error) {
	ctx := cuecontext.New()
	root := ctx.CompileString(schema.Source, cue.Filename("schema/bic.cue"))
	if err := root.Err(); err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	w := &cueWorker{ctx: ctx, root: root, defs: map[Kind]cue.Value{}}
	for kind, def := range definitionOf {
		v := root.LookupPath(cue.ParsePath(def))
		if err := v.Err(); err != nil {
			return nil, fmt.Errorf("schema definition %s: %w", def, err)
		}
		w.defs[kind] = v
	}
	return w, nil
}

// NewSchema compiles the embedded definitions.
func NewSchema() (*Schema, error) {
	// The shapes and descriptions use a context of their own, guarded by mu.
	first, err := newCUEWorker()
	if err != nil {
		return nil, err
	}
	s := &Schema{root: first.root, shapes: map[Kind]*shape{}, derived: map[Kind]*derived{}, max: int32(runtime.GOMAXPROCS(0)), digest: schemaDigest()}
	for kind, v := range first.defs {
		s.shapes[kind] = buildShape(v, 0)
		s.derived[kind] = derive(s.shapes[kind], 0)
	}
	s.workers = make(chan *cueWorker, s.max)
	return s, nil
}

// worker takes a free worker, making one while fewer than max exist.
func (s *Schema) worker() (*cueWorker, error) {
	select {
	case w := <-s.workers:
		return w, nil
	default:
	}
	if n := s.made.Add(1); n <= s.max {
		w, err := newCUEWorker()
		if err != nil {
			s.made.Add(-1)
			return nil, err
		}
		return w, nil
	}
	s.made.Add(-1)
	return <-s.workers, nil
}

// checkResult says what the schema stage found in an object.
type checkResult int

const (
	checkOK checkResult = iota
	// checkUnknownKeys: the object's only errors are keys the schema does
	// not know; what it does say is sound, so its references are still
	// resolved and every error is reported in one run.
	checkUnknownKeys
	checkFailed
)

// check validates one object's tree against its definition and reports
// every problem found: the walk finds unknown and missing keys and wrong
// shapes; CUE finds values that break a constraint.
func (s *Schema) check(ctx context.Context, kind Kind, n *Node, sink *diagSink) checkResult {
	c := &shapeChecker{sink: sink, kind: kind, reported: map[string]bool{}}
	nameNode := n.Get(string(kind))
	if kind == KindProject {
		nameNode = n.Get("name")
	}
	if nameNode != nil && nameNode.Kind == KindString && nameRE.MatchString(nameNode.Str) {
		c.name = nameNode.Str
	}
	c.walk(n, s.shapes[kind], nil)
	if !c.failed && !s.onlyCUE && s.derived[kind].accepts(n) {
		return checkOK
	}
	issues, err, internal := s.validate(ctx, kind, n)
	if internal != nil {
		c.errorf(n.Pos, CodeInvalid, internalErrorPrefix+": %v", internal)
		return checkFailed
	}
	if err != nil {
		// Describing what was expected reads the shared definitions.
		s.mu.Lock()
		c.reportCUE(issues, err, n, s.shapes[kind])
		s.mu.Unlock()
	}
	switch {
	case c.serious:
		return checkFailed
	case c.failed:
		return checkUnknownKeys
	}
	return checkOK
}

type shapeChecker struct {
	sink   *diagSink
	kind   Kind
	name   string // the object's name, when it has a valid one
	failed bool
	// serious is set by any error but an unknown key.
	serious bool
	// reported holds the paths the walk reported, so CUE's words for the
	// same problem (or one below it) are not added.
	reported map[string]bool
}

func (c *shapeChecker) errorf(pos Pos, code, format string, args ...any) {
	c.failed = true
	if code != CodeUnknownKey {
		c.serious = true
	}
	c.sink.errorf(pos, code, format, args...)
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// ValidName reports whether s may name a project or an object (#Name in
// schema/*.cue): lower case letters, digits and _, starting with a letter.
func ValidName(s string) bool { return nameRE.MatchString(s) }

func (c *shapeChecker) walk(n *Node, s *shape, path []any) {
	if s == nil {
		return
	}
	alt := s.pick(n.Kind)
	if alt == nil || !alt.accepts(n.Kind) {
		c.errorf(n.Pos, CodeType, "%s: expected %s, found %s", c.context(path), s.describe(), n.Describe())
		c.reported[pathKey(path)] = true
		return
	}
	s = alt
	switch n.Kind {
	case KindMap:
		suggested := map[string]bool{}
		// present is needed only against named fields: a mapping of
		// patterned names (charts, datasets) can be very large.
		var present map[string]bool
		if len(s.names) > 0 {
			present = make(map[string]bool, len(n.Keys))
			for _, key := range n.Keys {
				present[key] = true
			}
		}
		// missing is worked out at the first unknown key, which is rare.
		var missing []string
		missingDone := false
		for i, key := range n.Keys {
			v := n.Values[i]
			sub := append(path[:len(path):len(path)], key)
			if f, ok := s.fields[key]; ok {
				c.walk(v, f.shape, sub)
				continue
			}
			if s.pattern != nil {
				if !nameRE.MatchString(key) {
					c.errorf(v.KeyPos, CodeInvalid, "invalid name %s in %s: expected %s", quote(key), c.context(path), knownPatterns[nameRE.String()])
					continue
				}
				c.walk(v, s.pattern, sub)
				continue
			}
			if !missingDone {
				missingDone = true
				for _, name := range s.names {
					if !present[name] {
						missing = append(missing, name)
					}
				}
			}
			hint := suggest(key, missing)
			suggested[hint] = true
			c.errorf(v.KeyPos, CodeUnknownKey, "unknown key %s in %s%s", quote(key), c.context(path), didYouMean(key, s.names))
		}
		for _, name := range s.names {
			if s.fields[name].required && !present[name] {
				c.serious = true
			}
			// A misspelt required key is reported once, as the unknown key.
			if s.fields[name].required && !present[name] && !suggested[name] {
				c.errorf(n.Pos, CodeMissingKey, "missing required key %q in %s", name, c.context(path))
			}
		}
	case KindList:
		for i, it := range n.Items {
			c.walk(it, s.elem, append(path[:len(path):len(path)], i))
		}
	}
}

// reportCUE turns CUE's errors into one diagnostic per offending value,
// keeping the deepest when a disjunction reports both a parent and a child.
// err is CUE's first error, for a message CUE gives without a path.
func (c *shapeChecker) reportCUE(issues []cueIssue, err error, root *Node, top *shape) {
	type item struct {
		path []any
		msgs []string
	}
	byPath := map[string]*item{}
	var order []string
	// hasDeeper holds the paths with an error below them.
	hasDeeper := map[string]bool{}
	for _, is := range issues {
		if strings.Contains(is.msg, "field not allowed") || strings.Contains(is.msg, "field is required") {
			continue
		}
		key := pathKey(is.path)
		it, ok := byPath[key]
		if !ok {
			it = &item{path: is.path}
			byPath[key] = it
			order = append(order, key)
			for i := 1; i < len(is.path); i++ {
				hasDeeper[pathKey(is.path[:i])] = true
			}
		}
		it.msgs = append(it.msgs, is.msg)
	}
	reported := false
	for _, key := range order {
		if c.coveredByWalk(byPath[key].path) || hasDeeper[key] {
			continue
		}
		it := byPath[key]
		n := root.At(it.path...)
		s := top.lookup(it.path, root)
		expected := "a valid value"
		hint := ""
		if s != nil {
			expected = s.describe()
			if n.Kind == KindString {
				hint = didYouMean(n.Str, s.enumValues())
			}
		}
		c.errorf(n.Pos, CodeInvalid, "%s: expected %s, found %s%s", c.context(it.path), expected, n.Describe(), hint)
		reported = true
	}
	if !reported && !c.failed {
		// A constraint CUE reports without a path we know: say it as CUE does.
		c.errorf(root.Pos, CodeInvalid, "invalid %s: %s", c.kind, excerpt(errors.Details(err, nil), 4*maxExcerpt))
	}
}

// coveredByWalk reports whether the walk already reported path or a parent of it.
func (c *shapeChecker) coveredByWalk(path []any) bool {
	for i := 0; i <= len(path); i++ {
		if c.reported[pathKey(path[:i])] {
			return true
		}
	}
	return false
}

// dataPath drops the leading definition selector of a CUE error path.
func dataPath(p []string) []any {
	var out []any
	for i, s := range p {
		if i == 0 && strings.HasPrefix(s, "#") {
			continue
		}
		if n, err := strconv.Atoi(s); err == nil {
			out = append(out, n)
			continue
		}
		out = append(out, strings.Trim(s, `"`))
	}
	return out
}

func pathKey(path []any) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = fmt.Sprint(p)
	}
	return strings.Join(parts, ".")
}

// context names the value at path and its object, such as
// `charts[2].type of dashboard "sales"`.
func (c *shapeChecker) context(path []any) string {
	object := string(c.kind)
	if c.name != "" {
		object = fmt.Sprintf("%s %q", c.kind, c.name)
	}
	if len(path) == 0 {
		return object
	}
	if len(path) == 1 && (path[0] == string(c.kind) || c.kind == KindProject && path[0] == "name") {
		return fmt.Sprintf("the %s's name", c.kind)
	}
	return displayPath(path) + " of " + object
}

// displayPath writes a path as a user would: charts[2].type.
func displayPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(excerpt(fmt.Sprint(p), maxExcerpt))
		}
	}
	return b.String()
}
