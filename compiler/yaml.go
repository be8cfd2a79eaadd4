package compiler

import (
	"errors"
	"math"
	"strings"

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
// duplicate keys and unknown aliases become diagnostics.
func parseYAML(file string, src []byte, sink *diagSink) []*Node {
	f, err := parser.ParseBytes(src, 0)
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
		sink.errorf(pos, CodeSyntax, "invalid YAML: %s", msg)
		return nil
	}
	c := yamlConverter{file: file, sink: sink, anchors: map[string]*Node{}, sizes: map[*Node]int{}}
	var docs []*Node
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		n := c.convert(doc.Body, 0)
		if size := c.size(n); size > maxValues {
			sink.errorf(n.Pos, CodeSyntax, "invalid YAML: the document expands to more than %d values (aliases of aliases?)", maxValues)
			continue
		}
		docs = append(docs, n)
	}
	return docs
}

// maxValues bounds a document's size once aliases are expanded, so a few
// lines of nested aliases cannot make the compiler build billions of values.
const maxValues = 1_000_000

type yamlConverter struct {
	file    string
	sink    *diagSink
	anchors map[string]*Node
	sizes   map[*Node]int // expanded size of each node, memoized: aliases share nodes
}

// size counts the values of n with every alias expanded, stopping early
// once past maxValues.
func (c *yamlConverter) size(n *Node) int {
	if s, ok := c.sizes[n]; ok {
		return s
	}
	total := 1
	for _, v := range n.Values {
		total += c.size(v)
		if total > maxValues {
			break
		}
	}
	for _, v := range n.Items {
		total += c.size(v)
		if total > maxValues {
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
		c.sink.errorf(c.pos(n), CodeType, "expected a finite number, found %s", n.GetToken().Value)
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
		if v, ok := c.anchors[name]; ok {
			return v
		}
		c.sink.errorf(c.pos(n), CodeSyntax, "invalid YAML: alias *%s names no anchor defined before it", name)
		return &Node{Kind: KindNull, Pos: c.pos(n)}
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
			c.sink.errorf(keyPos, CodeDuplicate, "duplicate key %q (first at line %d)", key, first.Line)
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
