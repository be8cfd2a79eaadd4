package compiler

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// yamlError is the part of goccy/go-yaml's errors that carries a position.
type yamlError interface {
	GetToken() *token.Token
	GetMessage() string
}

// parseYAML reads every document of a YAML file into Nodes. Syntax errors,
// duplicate keys (every one of them) and unknown aliases become
// diagnostics. It also returns how many values the file's aliases expand
// to, so the load stage can bound the whole project.
func parseYAML(file string, src []byte, sink *diagSink) ([]*Node, int) {
	if line, col, deep := FlowTooDeep(src, maxDepth); deep {
		sink.errorf(Pos{File: file, Line: line, Col: col}, CodeSyntax, "invalid YAML: brackets nested deeper than %d levels", maxDepth)
		return nil, 0
	}
	// Duplicate keys are the converter's to report: the parser would stop
	// at the first.
	f, err := parser.ParseBytes(src, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		pos := Pos{File: file, Line: 1, Col: 1}
		msg := err.Error()
		var ye yamlError
		if errors.As(err, &ye) {
			msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				pos.Line, pos.Col = tk.Position.Line, tk.Position.Column
			}
		}
		sink.errorf(pos, CodeSyntax, "invalid YAML: %s", excerpt(msg, 4*maxExcerpt))
		return nil, 0
	}
	c := yamlConverter{file: file, sink: sink, anchors: map[string]*Node{}, sizes: map[*Node]int{}}
	var docs []*Node
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		n := c.convert(doc.Body, 0)
		if c.overLimit {
			// The document would be expanded by every later stage.
			break
		}
		docs = append(docs, n)
	}
	if c.duplicates {
		return nil, c.expanded
	}
	return docs, c.expanded
}

// parseYAMLWithin is parseYAML, abandoned when ctx is done or it takes
// longer than timeout: the parser cannot be interrupted, and its time grows
// with the square of some inputs (a mapping of 40,000 keys takes 4 s).
func parseYAMLWithin(ctx context.Context, timeout time.Duration, file string, src []byte, sink *diagSink) ([]*Node, int) {
	var (
		docs    []*Node
		aliases int
		own     diagSink
	)
	if !bounded(ctx, timeout, func() { docs, aliases = parseYAML(file, src, &own) }) {
		if ctx.Err() == nil {
			sink.errorf(Pos{File: file}, CodeLimit, "invalid YAML: parsing the file took more than %s and was stopped: a mapping of very many keys?", timeout)
		}
		return nil, 0
	}
	sink.list = append(sink.list, own.list...)
	return docs, aliases
}

// FlowTooDeep reports where src first opens more than limit brackets ([
// and {) that it has not closed, for a YAML reader to refuse it before
// parsing: goccy/go-yaml's time grows with the square of the nesting
// (250,000 brackets took minutes), and the converter refuses more than
// maxDepth levels anyway. Brackets inside strings and comments count too,
// so that no quoting can hide them; only an unbalanced text of more than
// limit brackets is refused for it.
func FlowTooDeep(src []byte, limit int) (line, col int, deep bool) {
	depth, lineStart := 0, 0
	line = 1
	for i, c := range src {
		switch c {
		case '\n':
			line, lineStart = line+1, i+1
		case '[', '{':
			if depth++; depth > limit {
				return line, utf8.RuneCount(src[lineStart:i]) + 1, true
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return 0, 0, false
}

// maxAliasValues bounds the values a file's aliases expand to, so a few
// lines of nested aliases cannot make the compiler build billions of values.
// Values written out count against the file size limit instead.
const maxAliasValues = 1_000_000

type yamlConverter struct {
	file    string
	sink    *diagSink
	anchors map[string]*Node
	sizes   map[*Node]int // expanded size of each node, memoized: aliases share nodes
	// expanded counts the values aliases stand for; overLimit is set once
	// that passes maxAliasValues.
	expanded  int
	overLimit bool
	// duplicates is set by a key given twice in one mapping: which value
	// was meant is unknown, so the file is not loaded.
	duplicates bool
}

// size counts the values of n with every alias expanded, stopping early
// once past maxAliasValues.
func (c *yamlConverter) size(n *Node) int {
	if s, ok := c.sizes[n]; ok {
		return s
	}
	total := 1
	for _, v := range n.Values {
		total += c.size(v)
		if total > maxAliasValues {
			break
		}
	}
	for _, v := range n.Items {
		total += c.size(v)
		if total > maxAliasValues {
			break
		}
	}
	c.sizes[n] = total
	return total
}

func (c *yamlConverter) pos(n ast.Node) Pos {
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{File: c.file}
	}
	return Pos{File: c.file, Line: tk.Position.Line, Col: tk.Position.Column}
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 200

func (c *yamlConverter) convert(n ast.Node, depth int) *Node {
	if depth > maxDepth {
		c.sink.errorf(c.pos(n), CodeSyntax, "invalid YAML: nested deeper than %d levels", maxDepth)
		return &Node{Kind: KindNull, Pos: c.pos(n)}
	}
	switch n := n.(type) {
	case *ast.DocumentNode:
		return c.convert(n.Body, depth+1)
	case *ast.MappingNode:
		pos := c.pos(n)
		if !n.IsFlowStyle && len(n.Values) > 0 {
			// A block mapping starts at its first key, not at the first ':'.
			pos = c.pos(n.Values[0].Key)
		}
		return c.mapping(pos, n.Values, depth)
	case *ast.MappingValueNode:
		return c.mapping(c.pos(n.Key), []*ast.MappingValueNode{n}, depth)
	case *ast.SequenceNode:
		out := &Node{Kind: KindList, Pos: c.pos(n), Items: []*Node{}}
		if n.IsFlowStyle && n.Start != nil {
			out.Pos = c.pos(n)
		}
		for _, v := range n.Values {
			out.Items = append(out.Items, c.convert(v, depth+1))
		}
		return out
	case *ast.StringNode:
		return &Node{Kind: KindString, Pos: c.pos(n), Str: n.Value}
	case *ast.LiteralNode:
		s := ""
		if n.Value != nil {
			s = n.Value.Value
		}
		return &Node{Kind: KindString, Pos: c.pos(n), Str: s}
	case *ast.IntegerNode:
		out := &Node{Kind: KindInt, Pos: c.pos(n)}
		switch v := n.Value.(type) {
		case int64:
			out.Int = v
		case uint64:
			if v <= math.MaxInt64 {
				out.Int = int64(v)
			} else {
				out.Kind, out.Float = KindFloat, float64(v)
			}
		}
		return out
	case *ast.FloatNode:
		return &Node{Kind: KindFloat, Pos: c.pos(n), Float: n.Value}
	case *ast.InfinityNode, *ast.NanNode:
		c.sink.errorf(c.pos(n), CodeType, "expected a finite number, found %s", excerpt(n.GetToken().Value, maxExcerpt))
		return &Node{Kind: KindNull, Pos: c.pos(n)}
	case *ast.BoolNode:
		return &Node{Kind: KindBool, Pos: c.pos(n), Bool: n.Value}
	case *ast.NullNode:
		return &Node{Kind: KindNull, Pos: c.pos(n)}
	case *ast.TagNode:
		return c.convert(n.Value, depth+1)
	case *ast.AnchorNode:
		v := c.convert(n.Value, depth+1)
		if n.Name != nil {
			c.anchors[n.Name.GetToken().Value] = v
		}
		return v
	case *ast.AliasNode:
		name := ""
		if n.Value != nil {
			name = n.Value.GetToken().Value
		}
		v, ok := c.anchors[name]
		if !ok {
			c.sink.errorf(c.pos(n), CodeSyntax, "invalid YAML: alias *%s names no anchor defined before it", excerpt(name, maxExcerpt))
			return &Node{Kind: KindNull, Pos: c.pos(n)}
		}
		if c.overLimit {
			return &Node{Kind: KindNull, Pos: c.pos(n)}
		}
		if c.expanded += c.size(v); c.expanded > maxAliasValues {
			c.overLimit = true
			c.sink.errorf(c.pos(n), CodeSyntax, "invalid YAML: the aliases of this file expand to more than %d values (aliases of aliases?); the rest of the file is not read", maxAliasValues)
			return &Node{Kind: KindNull, Pos: c.pos(n)}
		}
		return v
	case nil:
		return &Node{Kind: KindNull, Pos: Pos{File: c.file}}
	default:
		c.sink.errorf(c.pos(n), CodeSyntax, "invalid YAML: unsupported %s", strings.ToLower(n.Type().String()))
		return &Node{Kind: KindNull, Pos: c.pos(n)}
	}
}

func (c *yamlConverter) mapping(pos Pos, values []*ast.MappingValueNode, depth int) *Node {
	out := &Node{Kind: KindMap, Pos: pos}
	seen := map[string]Pos{}
	add := func(key string, keyPos Pos, v *Node) {
		if first, ok := seen[key]; ok {
			// Worded as the parser words the first one.
			c.sink.errorf(keyPos, CodeSyntax, "invalid YAML: mapping key %s already defined at [%d:%d]", quote(key), first.Line, first.Col)
			c.duplicates = true
			return
		}
		seen[key] = keyPos
		// An alias shares its anchor's node: give this key its own copy, so
		// that errors about either point at the right place.
		cp := *v
		cp.KeyPos = keyPos
		out.Keys = append(out.Keys, key)
		out.Values = append(out.Values, &cp)
	}
	var merges []*Node
	for _, mv := range values {
		keyPos := c.pos(mv.Key)
		if mv.Key.IsMergeKey() {
			m := c.convert(mv.Value, depth+1)
			switch m.Kind {
			case KindMap:
				merges = append(merges, m)
			case KindList:
				// <<: [*a, *b] merges each in turn; earlier ones win.
				for _, it := range m.Items {
					if it.Kind == KindMap {
						merges = append(merges, it)
					} else {
						c.sink.errorf(it.Pos, CodeSyntax, "invalid YAML: << merges mappings, found %s", it.Describe())
					}
				}
			default:
				c.sink.errorf(m.Pos, CodeSyntax, "invalid YAML: << merges a mapping or a list of mappings, found %s", m.Describe())
			}
			continue
		}
		key := c.convert(mv.Key, depth+1)
		if key.Kind == KindMap || key.Kind == KindList {
			c.sink.errorf(keyPos, CodeSyntax, "invalid YAML: a mapping key must be a plain value, found %s", key.Describe())
			continue
		}
		add(key.String(), keyPos, c.convert(mv.Value, depth+1))
	}
	// "<<: *base" copies the keys of base that this mapping does not set itself.
	for _, m := range merges {
		for i, k := range m.Keys {
			if _, ok := seen[k]; !ok {
				add(k, m.Values[i].KeyPos, m.Values[i])
			}
		}
	}
	return out
}
