package compiler

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
)

// shape is the structure of a CUE definition, read once from the schema so
// that every object can be walked against it: which keys a mapping allows
// and requires, what a list holds, and which alternatives a disjunction has.
// CUE itself then checks the scalar constraints (enums, bounds, patterns).
type shape struct {
	kinds   cue.Kind
	value   cue.Value
	names   []string // allowed keys, in schema order
	fields  map[string]*field
	pattern *shape // the value of any other key ([#Name]: T)
	// patternKey is the constraint on those keys (#Name), for the derived checker.
	patternKey cue.Value
	elem       *shape // list items
	alts       []*shape
}

type field struct {
	required bool
	shape    *shape
}

func buildShape(v cue.Value, depth int) *shape {
	// A reference such as [...#Cell] must be followed to see its structure.
	v = cue.Dereference(v)
	s := &shape{value: v, kinds: v.IncompleteKind()}
	if depth > 20 {
		return s
	}
	if op, args := v.Expr(); op == cue.OrOp && len(args) > 1 {
		for _, a := range args {
			alt := buildShape(a, depth+1)
			if len(alt.alts) > 0 {
				s.alts = append(s.alts, alt.alts...)
			} else {
				s.alts = append(s.alts, alt)
			}
		}
		return s
	}
	if s.kinds&cue.StructKind != 0 {
		s.fields = map[string]*field{}
		it, err := v.Fields(cue.Optional(true), cue.Patterns(true))
		if err == nil {
			for it.Next() {
				sel := it.Selector()
				if sel.ConstraintType() == cue.PatternConstraint {
					s.pattern = buildShape(it.Value(), depth+1)
					s.patternKey = sel.Pattern()
					continue
				}
				if sel.IsDefinition() || !sel.IsString() {
					continue
				}
				name := sel.Unquoted()
				s.names = append(s.names, name)
				s.fields[name] = &field{
					required: sel.ConstraintType() == cue.RequiredConstraint,
					shape:    buildShape(it.Value(), depth+1),
				}
			}
		}
	}
	if s.kinds&cue.ListKind != 0 {
		if e := v.LookupPath(cue.MakePath(cue.AnyIndex)); e.Exists() {
			s.elem = buildShape(e, depth+1)
		}
	}
	return s
}

// accepts reports whether a node of kind k can be an instance of the shape.
func (s *shape) accepts(k NodeKind) bool {
	return s.kinds&cueKind(k) != 0
}

// pick returns the alternative of a disjunction that a node of kind k can
// be, or nil when none or more than one structure fits.
func (s *shape) pick(k NodeKind) *shape {
	if len(s.alts) == 0 {
		return s
	}
	var found *shape
	for _, a := range s.alts {
		if a.accepts(k) {
			if found != nil && (k == KindMap || k == KindList) {
				return nil
			}
			if found == nil {
				found = a
			}
		}
	}
	return found
}

func cueKind(k NodeKind) cue.Kind {
	switch k {
	case KindMap:
		return cue.StructKind
	case KindList:
		return cue.ListKind
	case KindString:
		return cue.StringKind
	case KindInt:
		return cue.IntKind
	case KindFloat:
		return cue.FloatKind
	case KindBool:
		return cue.BoolKind
	default:
		return cue.NullKind
	}
}

// lookup follows a path of keys and indexes through the shape.
func (s *shape) lookup(path []any, n *Node) *shape {
	cur := s
	for _, p := range path {
		if cur == nil {
			return nil
		}
		var child *Node
		if n != nil {
			switch p := p.(type) {
			case string:
				child = n.Get(p)
			case int:
				if p < len(n.Items) {
					child = n.Items[p]
				}
			}
		}
		if len(cur.alts) > 0 && n != nil {
			cur = cur.pick(n.Kind)
			if cur == nil {
				return nil
			}
		}
		switch p := p.(type) {
		case string:
			if f, ok := cur.fields[p]; ok {
				cur = f.shape
			} else {
				cur = cur.pattern
			}
		case int:
			cur = cur.elem
		}
		n = child
	}
	return cur
}

// knownPatterns names the schema's regular expressions in words.
var knownPatterns = map[string]string{
	`^[a-z][a-z0-9_]*$`:                  "a name of lower case letters, digits and _, starting with a letter",
	`^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$`: "a secret reference such as ${env:PASSWORD} (secrets are never written in the repo)",
	`^[0-9]+(s|m|h|d)$`:                  "a duration such as 30m, 6h or 1d",
	`^[a-z][a-z0-9_]*/[a-z][a-z0-9_]*$`:  "a chart reference DASHBOARD/CHART",
	`^-?[a-z][a-z0-9_]*$`:                "a metric or dimension name, with - in front for descending order",
	`^[^@ ]+@[^@ ]+$`:                    "an email address",
	`^[A-Z]{3}$`:                         "a three-letter currency code such as EUR",
}

// describe says in words what the shape expects.
func (s *shape) describe() string {
	if len(s.alts) > 0 {
		var lits, others []string
		for _, a := range s.alts {
			if lit, ok := literal(a.value); ok {
				lits = append(lits, lit)
			} else {
				others = append(others, a.describe())
			}
		}
		if len(lits) > 0 {
			others = append([]string{"one of " + strings.Join(lits, ", ")}, others...)
		}
		return joinOr(dedupe(others))
	}
	return describeValue(s.value)
}

// enumValues returns the string literals a disjunction allows.
func (s *shape) enumValues() []string {
	var out []string
	for _, a := range s.alts {
		if a.value.IncompleteKind() == cue.StringKind && a.value.IsConcrete() {
			if str, err := a.value.String(); err == nil {
				out = append(out, str)
			}
		}
	}
	return out
}

func literal(v cue.Value) (string, bool) {
	if !v.IsConcrete() {
		return "", false
	}
	switch v.Kind() {
	case cue.StringKind:
		s, _ := v.String()
		return strconv.Quote(s), true
	case cue.BoolKind:
		b, _ := v.Bool()
		return strconv.FormatBool(b), true
	case cue.IntKind, cue.FloatKind:
		return fmt.Sprint(v), true
	}
	return "", false
}

func describeValue(v cue.Value) string {
	if lit, ok := literal(v); ok {
		return lit
	}
	var base, pattern string
	var bounds []string
	var lo, hi string
	for _, p := range conjuncts(v, 0) {
		pop, pargs := p.Expr()
		switch pop {
		case cue.RegexMatchOp:
			if len(pargs) == 1 {
				re, _ := pargs[0].String()
				if name, ok := knownPatterns[re]; ok {
					pattern = name
				} else {
					pattern = "a string matching " + re
				}
			}
		case cue.GreaterThanEqualOp, cue.GreaterThanOp, cue.LessThanEqualOp, cue.LessThanOp:
			if len(pargs) == 1 {
				bounds = append(bounds, fmt.Sprintf("%s %v", pop, pargs[0]))
				switch pop {
				case cue.GreaterThanEqualOp:
					lo = fmt.Sprint(pargs[0])
				case cue.LessThanEqualOp:
					hi = fmt.Sprint(pargs[0])
				}
			}
		default:
			if base == "" {
				base = kindWords(p.IncompleteKind())
			}
		}
	}
	switch {
	case pattern != "":
		return pattern
	case len(bounds) > 0:
		if base == "" {
			base = kindWords(v.IncompleteKind())
		}
		if len(bounds) == 2 && lo != "" && hi != "" {
			return fmt.Sprintf("%s from %s to %s", base, lo, hi)
		}
		return base + " " + strings.Join(bounds, " and ")
	case base != "":
		return base
	}
	return kindWords(v.IncompleteKind())
}

// conjuncts flattens a & b & c into its parts.
func conjuncts(v cue.Value, depth int) []cue.Value {
	op, args := v.Expr()
	if op != cue.AndOp || depth > 10 {
		return []cue.Value{v}
	}
	var out []cue.Value
	for _, a := range args {
		out = append(out, conjuncts(a, depth+1)...)
	}
	return out
}

func kindWords(k cue.Kind) string {
	var out []string
	switch {
	case k&cue.StructKind != 0:
		out = append(out, "a mapping")
	}
	if k&cue.ListKind != 0 {
		out = append(out, "a list")
	}
	if k&cue.StringKind != 0 {
		out = append(out, "a string")
	}
	switch {
	case k&cue.NumberKind == cue.NumberKind:
		out = append(out, "a number")
	case k&cue.IntKind != 0:
		out = append(out, "an integer")
	case k&cue.FloatKind != 0:
		out = append(out, "a number")
	}
	if k&cue.BoolKind != 0 {
		out = append(out, "true or false")
	}
	if len(out) == 0 {
		return "a value"
	}
	return joinOr(out)
}

func joinOr(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func dedupe(items []string) []string {
	seen := map[string]bool{}
	out := items[:0]
	for _, it := range items {
		if !seen[it] {
			seen[it] = true
			out = append(out, it)
		}
	}
	return out
}

// sortedKeys returns a map's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
