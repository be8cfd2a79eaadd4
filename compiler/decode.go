package compiler

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// decode fills a spec struct from a checked node.
//
// It sets the fields straight from the tree when the tree and the struct
// agree exactly (a key per field name, kinds that fit, text that is
// UTF-8), which is what checked objects are; anything else (a key that
// only matches a field when case is ignored, a number that does not fit,
// a type it does not know) takes the road it always took, through JSON,
// so that its result and its error are encoding/json's own.
// TestDecodeDirect compares the two on every fixture and fuzz input.
func decode(n *Node, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		fresh := reflect.New(v.Elem().Type())
		if decodeDirect(n, fresh.Elem(), 0) {
			v.Elem().Set(fresh.Elem())
			return nil
		}
	}
	return decodeJSON(n, out)
}

// decodeJSON is decode by encoding the tree as JSON and decoding that.
func decodeJSON(n *Node, out any) error {
	b, err := json.Marshal(n.Any())
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

var anyType = reflect.TypeFor[any]()

// decodeDirect sets v from n as json.Unmarshal would from n's JSON, or
// reports false (and v is then to be thrown away).
func decodeDirect(n *Node, v reflect.Value, depth int) bool {
	if depth > maxDepth+2 || customDecoding(v.Type()) {
		return false
	}
	if n.Kind == KindNull {
		// JSON null leaves a value as it is, and sets nil where nil can be.
		switch v.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
			v.SetZero()
		}
		return true
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.Type() != anyType {
			return false
		}
		a, ok := plainValue(n, depth)
		if !ok {
			return false
		}
		if a != nil {
			v.Set(reflect.ValueOf(a))
		}
		return true
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if !decodeDirect(n, p.Elem(), depth+1) {
			return false
		}
		v.Set(p)
		return true
	case reflect.String:
		if n.Kind != KindString || !utf8.ValidString(n.Str) {
			return false
		}
		v.SetString(n.Str)
		return true
	case reflect.Bool:
		if n.Kind != KindBool {
			return false
		}
		v.SetBool(n.Bool)
		return true
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n.Kind != KindInt || v.OverflowInt(n.Int) {
			return false
		}
		v.SetInt(n.Int)
		return true
	case reflect.Float64:
		switch n.Kind {
		case KindInt:
			v.SetFloat(float64(n.Int))
		case KindFloat:
			v.SetFloat(n.Float)
		default:
			return false
		}
		return true
	case reflect.Slice:
		if n.Kind != KindList {
			return false
		}
		s := reflect.MakeSlice(v.Type(), len(n.Items), len(n.Items))
		for i, it := range n.Items {
			if !decodeDirect(it, s.Index(i), depth+1) {
				return false
			}
		}
		v.Set(s)
		return true
	case reflect.Map:
		if n.Kind != KindMap || v.Type().Key() != reflect.TypeFor[string]() {
			return false
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Keys))
		et := v.Type().Elem()
		for i, k := range n.Keys {
			if !utf8.ValidString(k) {
				return false
			}
			e := reflect.New(et).Elem()
			if !decodeDirect(n.Values[i], e, depth+1) {
				return false
			}
			m.SetMapIndex(reflect.ValueOf(k), e)
		}
		v.Set(m)
		return true
	case reflect.Struct:
		if n.Kind != KindMap {
			return false
		}
		fields, ok := structFields(v.Type())
		if !ok {
			return false
		}
		for i, k := range n.Keys {
			idx, found := fields.exact[k]
			if !found {
				// encoding/json would also try the names ignoring case.
				if !utf8.ValidString(k) || fields.folded[foldName(k)] {
					return false
				}
				continue
			}
			if !decodeDirect(n.Values[i], v.FieldByIndex(idx), depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// plainValue is n as json.Unmarshal makes it into an any: numbers as
// float64, mappings as map[string]any, lists as []any.
func plainValue(n *Node, depth int) (any, bool) {
	if depth > maxDepth+2 {
		return nil, false
	}
	switch n.Kind {
	case KindNull:
		return nil, true
	case KindString:
		return n.Str, utf8.ValidString(n.Str)
	case KindBool:
		return n.Bool, true
	case KindInt:
		return float64(n.Int), true
	case KindFloat:
		return n.Float, true
	case KindList:
		out := make([]any, len(n.Items))
		for i, it := range n.Items {
			v, ok := plainValue(it, depth+1)
			if !ok {
				return nil, false
			}
			out[i] = v
		}
		return out, true
	case KindMap:
		out := make(map[string]any, len(n.Keys))
		for i, k := range n.Keys {
			v, ok := plainValue(n.Values[i], depth+1)
			if !ok || !utf8.ValidString(k) {
				return nil, false
			}
			out[k] = v
		}
		return out, true
	}
	return nil, false
}

// fieldSet is how JSON keys reach a struct's fields.
type fieldSet struct {
	exact  map[string][]int // a key → the field's index path
	folded map[string]bool  // every name, lower case
}

var fieldSets sync.Map // reflect.Type → *fieldSet, or nil when not supported

// structFields lists the fields JSON decoding reaches in t: by tag name or
// field name, embedded structs' promoted, a shallower one hiding a deeper
// one of the same name. A struct where two fields at one depth share a
// name (whose rules are subtler) is not supported.
func structFields(t reflect.Type) (*fieldSet, bool) {
	if fs, ok := fieldSets.Load(t); ok {
		f, _ := fs.(*fieldSet)
		return f, f != nil
	}
	fs := &fieldSet{exact: map[string][]int{}, folded: map[string]bool{}}
	depthOf := map[string]int{}
	ok := true
	var walk func(t reflect.Type, index []int, depth int)
	walk = func(t reflect.Type, index []int, depth int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if strings.Contains(opts, "string") {
				ok = false
			}
			idx := append(index[:len(index):len(index)], i)
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx, depth+1)
				continue
			}
			if !f.IsExported() || f.Anonymous {
				if f.Anonymous {
					ok = false
				}
				continue
			}
			if name == "" {
				name = f.Name
			}
			if d, seen := depthOf[name]; seen {
				if d == depth {
					ok = false
				}
				if d <= depth {
					continue
				}
			}
			depthOf[name] = depth
			fs.exact[name] = idx
			fs.folded[foldName(name)] = true
		}
	}
	walk(t, nil, 0)
	if !ok {
		fieldSets.Store(t, (*fieldSet)(nil))
		return nil, false
	}
	fieldSets.Store(t, fs)
	return fs, true
}

// foldName is a name as encoding/json compares names ignoring case.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			continue
		}
		b.WriteRune(unicode.ToUpper(unicode.ToLower(r)))
	}
	return b.String()
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	customTypes     sync.Map // reflect.Type → bool
)

// customDecoding reports whether t decodes itself from JSON or text: such
// types take the JSON road.
func customDecoding(t reflect.Type) bool {
	if c, ok := customTypes.Load(t); ok {
		return c.(bool)
	}
	p := reflect.PointerTo(t)
	c := t.Implements(jsonUnmarshaler) || p.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler) || p.Implements(textUnmarshaler)
	customTypes.Store(t, c)
	return c
}
