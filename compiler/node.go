package compiler

import (
	"fmt"
	"strconv"
)

// NodeKind is the shape of a value in a project file.
type NodeKind int

const (
	KindNull NodeKind = iota
	KindMap
	KindList
	KindString
	KindInt
	KindFloat
	KindBool
)

// Node is a value read from a YAML or CUE file with the position it came
// from. Both formats become Nodes, so every later stage reports positions the
// same way.
type Node struct {
	Kind   NodeKind
	Pos    Pos // where the value starts
	KeyPos Pos // where its key starts, for a mapping entry

	Keys   []string // mapping keys in source order
	Values []*Node  // mapping values, parallel to Keys
	Items  []*Node  // list items

	Str   string
	Int   int64
	Float float64
	Bool  bool
}

// Get returns the value of key in a mapping, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != KindMap {
		return nil
	}
	for i, k := range n.Keys {
		if k == key {
			return n.Values[i]
		}
	}
	return nil
}

// At follows a path of keys (string) and indexes (int) and returns the
// deepest node that exists on the way, so an error about a missing value
// still points at its parent.
func (n *Node) At(path ...any) *Node {
	cur := n
	for _, p := range path {
		var next *Node
		switch p := p.(type) {
		case string:
			next = cur.Get(p)
		case int:
			if cur.Kind == KindList && p >= 0 && p < len(cur.Items) {
				next = cur.Items[p]
			}
		}
		if next == nil {
			return cur
		}
		cur = next
	}
	return cur
}

// PosAt is the position of the value at path, or of its deepest existing parent.
func (n *Node) PosAt(path ...any) Pos { return n.At(path...).Pos }

// KeyPosAt is the position of the key of the value at path, falling back to the value.
func (n *Node) KeyPosAt(path ...any) Pos {
	m := n.At(path...)
	if m.KeyPos.File != "" {
		return m.KeyPos
	}
	return m.Pos
}

// Any converts the node to plain Go values (map[string]any, []any, string,
// int64, float64, bool, nil) for encoding.
func (n *Node) Any() any {
	switch n.Kind {
	case KindMap:
		m := make(map[string]any, len(n.Keys))
		for i, k := range n.Keys {
			m[k] = n.Values[i].Any()
		}
		return m
	case KindList:
		l := make([]any, len(n.Items))
		for i, it := range n.Items {
			l[i] = it.Any()
		}
		return l
	case KindString:
		return n.Str
	case KindInt:
		return n.Int
	case KindFloat:
		return n.Float
	case KindBool:
		return n.Bool
	default:
		return nil
	}
}

// Describe says what the node is, for "found …" in messages: a string
// only by an excerpt, since it may be a whole file.
func (n *Node) Describe() string {
	switch n.Kind {
	case KindMap:
		return "a mapping"
	case KindList:
		return "a list"
	case KindString:
		return quote(n.Str)
	case KindInt:
		return strconv.FormatInt(n.Int, 10)
	case KindFloat:
		return strconv.FormatFloat(n.Float, 'g', -1, 64)
	case KindBool:
		return strconv.FormatBool(n.Bool)
	default:
		return "null"
	}
}

// String returns the scalar's text; it is for keys and messages.
func (n *Node) String() string {
	if n == nil {
		return ""
	}
	if n.Kind == KindString {
		return n.Str
	}
	return fmt.Sprint(n.Any())
}
