package superset

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/bic-dev/bic/compiler"
)

// maxValues bounds the values one file may expand to once its aliases are
// followed, so a "billion laughs" file is refused instead of exhausting memory.
const maxValues = 1_000_000

// maxNesting bounds how deep a file's values nest. The parser's time grows
// with the square of the nesting of brackets, so they are counted before
// it runs (as the compiler does for project files).
const maxNesting = 200

// doc is one parsed export file: its values as plain Go values (map[string]any,
// []any, string, int64, float64, bool, nil) and the position of each value by
// its path ("params.metrics.0"), for messages that point into the file.
type doc struct {
	file string
	root map[string]any
	pos  map[string][2]int
}

// at is the line and column of path in the file, or of the nearest parent
// that has one.
func (d *doc) at(path string) (int, int) {
	for {
		if p, ok := d.pos[path]; ok {
			return p[0], p[1]
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			if p, ok := d.pos[""]; ok {
				return p[0], p[1]
			}
			return 0, 0
		}
		path = path[:i]
	}
}

// parseDoc parses one YAML file holding one mapping.
func parseDoc(file string, data []byte) (*doc, error) {
	if line, col, deep := compiler.FlowTooDeep(data, maxNesting); deep {
		return nil, &Error{File: file, Line: line, Column: col, Msg: fmt.Sprintf("invalid YAML: brackets nested deeper than %d levels", maxNesting)}
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(file, err)
	}
	d := &doc{file: file, pos: map[string][2]int{}}
	var body ast.Node
	for _, dn := range f.Docs {
		if dn == nil || dn.Body == nil {
			continue
		}
		if body != nil {
			return nil, &Error{File: file, Line: line(dn.Body), Column: column(dn.Body), Msg: "expected one YAML document, found several"}
		}
		body = dn.Body
	}
	if body == nil {
		return nil, &Error{File: file, Msg: "file is empty"}
	}
	c := &converter{d: d, anchors: map[string]anchored{}}
	v, err := c.value(body, "", 0)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{File: file, Line: line(body), Column: column(body), Msg: fmt.Sprintf("expected a mapping, found %s", kindOf(v))}
	}
	d.root = m
	return d, nil
}

// yamlError turns a go-yaml error into an Error with the file and line:col.
func yamlError(file string, err error) *Error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &Error{File: file, Msg: "invalid YAML: " + ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
		}
		return e
	}
	return &Error{File: file, Msg: "invalid YAML: " + err.Error()}
}

type anchored struct {
	v    any
	size int
}

type converter struct {
	d       *doc
	anchors map[string]anchored
	size    int
}

func line(n ast.Node) int {
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

func column(n ast.Node) int {
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Column
	}
	return 0
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (c *converter) value(n ast.Node, path string, depth int) (any, error) {
	if depth > maxNesting {
		return nil, &Error{File: c.d.file, Line: line(n), Column: column(n), Msg: fmt.Sprintf("invalid YAML: nested deeper than %d levels", maxNesting)}
	}
	c.size++
	if c.size > maxValues {
		return nil, &Error{File: c.d.file, Line: line(n), Column: column(n), Msg: fmt.Sprintf("the file expands to more than %d values", maxValues)}
	}
	if _, seen := c.d.pos[path]; !seen {
		c.d.pos[path] = [2]int{line(n), column(n)}
	}
	switch n := n.(type) {
	case *ast.NullNode:
		return nil, nil
	case *ast.StringNode:
		return n.Value, nil
	case *ast.LiteralNode:
		return n.Value.Value, nil
	case *ast.IntegerNode:
		switch v := n.Value.(type) {
		case int64:
			return v, nil
		case uint64:
			return float64(v), nil
		}
		return nil, nil
	case *ast.FloatNode:
		return n.Value, nil
	case *ast.InfinityNode, *ast.NanNode:
		return nil, &Error{File: c.d.file, Line: line(n), Column: column(n), Msg: "expected a finite number"}
	case *ast.BoolNode:
		return n.Value, nil
	case *ast.TagNode:
		return c.value(n.Value, path, depth)
	case *ast.AnchorNode:
		before := c.size
		v, err := c.value(n.Value, path, depth)
		if err != nil {
			return nil, err
		}
		c.anchors[n.Name.String()] = anchored{v: v, size: c.size - before}
		return v, nil
	case *ast.AliasNode:
		a, ok := c.anchors[n.Value.String()]
		if !ok {
			return nil, &Error{File: c.d.file, Line: line(n), Column: column(n), Msg: fmt.Sprintf("invalid YAML: alias %q comes before its anchor", n.Value.String())}
		}
		c.size += a.size
		if c.size > maxValues {
			return nil, &Error{File: c.d.file, Line: line(n), Column: column(n), Msg: fmt.Sprintf("the file expands to more than %d values once its aliases are followed", maxValues)}
		}
		return a.v, nil
	case *ast.MappingNode:
		return c.mapping(n.Values, path, depth)
	case *ast.MappingValueNode:
		return c.mapping([]*ast.MappingValueNode{n}, path, depth)
	case *ast.SequenceNode:
		out := make([]any, 0, len(n.Values))
		for i, item := range n.Values {
			v, err := c.value(item, join(path, strconv.Itoa(i)), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, &Error{File: c.d.file, Line: line(n), Column: column(n), Msg: fmt.Sprintf("unsupported YAML node %s", n.Type())}
}

func (c *converter) mapping(values []*ast.MappingValueNode, path string, depth int) (any, error) {
	out := make(map[string]any, len(values))
	for _, mv := range values {
		if mk, ok := mv.Key.(*ast.MappingKeyNode); ok && mk.IsMergeKey() || mv.Key.Type() == ast.MergeKeyType {
			v, err := c.value(mv.Value, path, depth+1)
			if err != nil {
				return nil, err
			}
			merge := []any{v}
			if list, ok := v.([]any); ok {
				merge = list
			}
			for _, m := range merge {
				mm, ok := m.(map[string]any)
				if !ok {
					return nil, &Error{File: c.d.file, Line: line(mv), Column: column(mv), Msg: "invalid YAML: << merges mappings"}
				}
				for k, x := range mm {
					if _, set := out[k]; !set {
						out[k] = x
					}
				}
			}
			continue
		}
		key := mv.Key.String()
		if s, ok := mv.Key.(*ast.StringNode); ok {
			key = s.Value
		}
		if _, dup := out[key]; dup {
			return nil, &Error{File: c.d.file, Line: line(mv.Key), Column: column(mv.Key), Msg: fmt.Sprintf("duplicate key %q", key)}
		}
		c.d.pos[join(path, key)] = [2]int{line(mv.Key), column(mv.Key)}
		v, err := c.value(mv.Value, join(path, key), depth+1)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	return out, nil
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	case nil:
		return "nothing"
	case bool:
		return "a boolean"
	}
	return "a number"
}
