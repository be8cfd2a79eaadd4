package compiler

import (
	"fmt"
	"math"
	"regexp"
	"unicode/utf8"

	"cuelang.org/go/cue"
)

// derived is a checker in Go derived from the CUE definitions when the
// schema is compiled: it answers one question, "would CUE accept this
// object?", and answers yes only when it is certain. An object it accepts
// is not unified with CUE at all (unification was most of a large
// project's compile time); any other object is checked by CUE as before,
// so every diagnostic is still CUE's and the walk's own words.
//
// It understands what the definitions are made of today: closed structs of
// required and optional fields, patterned keys ([#Name]: T), open lists
// ([...T]), disjunctions, basic types, literals, regular expressions and
// numeric bounds. A definition with anything else (a comprehension, a
// reference between fields, a constraint it does not know) is marked
// inexact, and objects of that kind always go to CUE. TestDerivedChecker
// proves over every fixture and the fuzz corpus that whatever it accepts,
// CUE accepts too.
type derived struct {
	exact bool
	// kinds are the node kinds the value may have (no alternatives).
	kinds cue.Kind
	alts  []*derived

	fields     map[string]*derivedField
	required   []string
	pattern    *derived
	patternKey *regexp.Regexp
	elem       *derived

	// Scalar constraints, all of which must hold.
	literal *Node // the one value allowed
	regexps []*regexp.Regexp
	bounds  []derivedBound
}

type derivedField struct {
	d *derived
}

type derivedBound struct {
	op cue.Op
	v  float64
}

// derive builds the checker of a shape; what it cannot express makes the
// result inexact.
func derive(s *shape, depth int) *derived {
	if s == nil || depth > 40 {
		return &derived{}
	}
	d := &derived{exact: true, kinds: s.kinds}
	if len(s.alts) > 0 {
		for _, a := range s.alts {
			ad := derive(a, depth+1)
			if !ad.exact {
				return &derived{}
			}
			d.alts = append(d.alts, ad)
		}
		return d
	}
	switch {
	case s.kinds == cue.StructKind:
		if s.fields == nil {
			return &derived{}
		}
		d.fields = make(map[string]*derivedField, len(s.names))
		for _, name := range s.names {
			f := s.fields[name]
			fd := derive(f.shape, depth+1)
			if !fd.exact {
				return &derived{}
			}
			d.fields[name] = &derivedField{d: fd}
			if f.required {
				d.required = append(d.required, name)
			}
		}
		if s.pattern != nil {
			// The walk holds patterned keys to nameRE; the schema's pattern
			// must be exactly that for the two to agree.
			op, args := s.patternKey.Expr()
			if op != cue.RegexMatchOp || len(args) != 1 {
				return &derived{}
			}
			re, err := args[0].String()
			if err != nil || re != nameRE.String() {
				return &derived{}
			}
			d.patternKey = nameRE
			d.pattern = derive(s.pattern, depth+1)
			if !d.pattern.exact {
				return &derived{}
			}
		}
		return d
	case s.kinds == cue.ListKind:
		if s.elem == nil {
			return &derived{}
		}
		d.elem = derive(s.elem, depth+1)
		if !d.elem.exact {
			return &derived{}
		}
		return d
	case s.kinds&(cue.StructKind|cue.ListKind) != 0:
		return &derived{} // a value that may be a struct and a scalar at once
	}
	for _, c := range conjuncts(s.value, 0) {
		if !d.addScalar(c) {
			return &derived{}
		}
	}
	return d
}

// basicTypes are the type names a scalar conjunct may print as.
var basicTypes = map[string]cue.Kind{
	"string": cue.StringKind,
	"int":    cue.IntKind,
	"float":  cue.FloatKind,
	"number": cue.NumberKind,
	"bool":   cue.BoolKind,
}

// addScalar adds one conjunct of a scalar definition, or reports that it
// is not one the checker understands.
func (d *derived) addScalar(c cue.Value) bool {
	op, args := c.Expr()
	switch op {
	case cue.NoOp:
		if c.IsConcrete() {
			n, ok := literalNode(c)
			if !ok || d.literal != nil {
				return false
			}
			d.literal = n
			return true
		}
		k, ok := basicTypes[fmt.Sprint(c)]
		return ok && k == c.IncompleteKind()
	case cue.RegexMatchOp:
		if len(args) != 1 {
			return false
		}
		src, err := args[0].String()
		if err != nil {
			return false
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return false
		}
		d.regexps = append(d.regexps, re)
		return true
	case cue.GreaterThanOp, cue.GreaterThanEqualOp, cue.LessThanOp, cue.LessThanEqualOp:
		if len(args) != 1 || !args[0].IsConcrete() {
			return false
		}
		// Only bounds a float64 holds exactly: comparisons are then exact
		// for every value a Node holds (an int64, or a float64).
		var v float64
		switch args[0].Kind() {
		case cue.IntKind:
			i, err := args[0].Int64()
			if err != nil || i > 1<<53 || i < -(1<<53) {
				return false
			}
			v = float64(i)
		default:
			return false
		}
		d.bounds = append(d.bounds, derivedBound{op: op, v: v})
		return true
	}
	return false
}

// literalNode is a concrete scalar CUE value as a Node, for comparing.
func literalNode(c cue.Value) (*Node, bool) {
	switch c.Kind() {
	case cue.StringKind:
		s, err := c.String()
		return &Node{Kind: KindString, Str: s}, err == nil
	case cue.BoolKind:
		b, err := c.Bool()
		return &Node{Kind: KindBool, Bool: b}, err == nil
	case cue.IntKind:
		i, err := c.Int64()
		return &Node{Kind: KindInt, Int: i}, err == nil
	}
	return nil, false
}

// accepts reports whether CUE certainly accepts n; false means "ask CUE".
func (d *derived) accepts(n *Node) bool {
	if !d.exact {
		return false
	}
	if len(d.alts) > 0 {
		for _, a := range d.alts {
			if a.accepts(n) {
				return true
			}
		}
		return false
	}
	if d.kinds&cueKind(n.Kind) == 0 {
		return false
	}
	switch n.Kind {
	case KindMap:
		if d.fields == nil {
			return false
		}
		for i, key := range n.Keys {
			if !utf8.ValidString(key) {
				return false
			}
			if f, ok := d.fields[key]; ok {
				if !f.d.accepts(n.Values[i]) {
					return false
				}
				continue
			}
			if d.pattern == nil || !d.patternKey.MatchString(key) || !d.pattern.accepts(n.Values[i]) {
				return false
			}
		}
		for _, name := range d.required {
			if n.Get(name) == nil {
				return false
			}
		}
		return true
	case KindList:
		if d.elem == nil {
			return false
		}
		for _, it := range n.Items {
			if !d.elem.accepts(it) {
				return false
			}
		}
		return true
	case KindNull:
		return false
	}
	if d.literal != nil && !sameScalar(d.literal, n) {
		return false
	}
	if n.Kind == KindString && !utf8.ValidString(n.Str) {
		return false
	}
	if len(d.regexps) > 0 {
		if n.Kind != KindString {
			return false
		}
		for _, re := range d.regexps {
			if !re.MatchString(n.Str) {
				return false
			}
		}
	}
	for _, b := range d.bounds {
		var v float64
		switch n.Kind {
		case KindInt:
			if n.Int > 1<<53 || n.Int < -(1<<53) {
				return false
			}
			v = float64(n.Int)
		case KindFloat:
			if math.IsNaN(n.Float) || math.IsInf(n.Float, 0) {
				return false
			}
			v = n.Float
		default:
			return false
		}
		ok := false
		switch b.op {
		case cue.GreaterThanOp:
			ok = v > b.v
		case cue.GreaterThanEqualOp:
			ok = v >= b.v
		case cue.LessThanOp:
			ok = v < b.v
		case cue.LessThanEqualOp:
			ok = v <= b.v
		}
		if !ok {
			return false
		}
	}
	return true
}

func sameScalar(a, b *Node) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case KindString:
		return a.Str == b.Str
	case KindBool:
		return a.Bool == b.Bool
	case KindInt:
		return a.Int == b.Int
	}
	return false
}
