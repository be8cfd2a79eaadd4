package compiler

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// CanonicalJSON encodes v with object keys sorted at every level and no
// insignificant space, so equal values always give equal bytes.
//
// Its bytes are those of decoding json.Marshal's output into plain values
// and encoding them again without HTML escaping (what it did first); it
// gets them by sorting json.Marshal's output in place, which is several
// times faster and allocates a fraction, and falls back to the round trip
// for anything it does not expect (TestCanonicalJSON compares the two).
func CanonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	c := canonicalizer{src: raw, out: make([]byte, 0, len(raw))}
	if c.value() && c.pos == len(raw) {
		return c.out, nil
	}
	return roundTripJSON(raw)
}

// roundTripJSON is the canonical form by decoding and encoding again.
func roundTripJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	// encoding/json writes map keys sorted, which makes this canonical.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// canonicalizer rewrites json.Marshal's compact output: objects' members
// sorted by key, and the escapes Marshal writes but a round trip does not
// (\u003c \u003e \u0026 for HTML, \ufffd for invalid UTF-8) as the
// characters themselves. Any surprise (space, a duplicate key, a malformed
// token) makes it give up, and the caller takes the slow road.
type canonicalizer struct {
	src []byte
	pos int
	out []byte
}

func (c *canonicalizer) value() bool {
	if c.pos >= len(c.src) {
		return false
	}
	switch b := c.src[c.pos]; {
	case b == '{':
		return c.object()
	case b == '[':
		c.pos++
		c.out = append(c.out, '[')
		if c.pos < len(c.src) && c.src[c.pos] == ']' {
			c.pos++
			c.out = append(c.out, ']')
			return true
		}
		for {
			if !c.value() || c.pos >= len(c.src) {
				return false
			}
			switch c.src[c.pos] {
			case ',':
				c.pos++
				c.out = append(c.out, ',')
			case ']':
				c.pos++
				c.out = append(c.out, ']')
				return true
			default:
				return false
			}
		}
	case b == '"':
		_, ok := c.str()
		return ok
	case b == 't':
		return c.word("true")
	case b == 'f':
		return c.word("false")
	case b == 'n':
		return c.word("null")
	case b == '-' || b >= '0' && b <= '9':
		start := c.pos
		for c.pos < len(c.src) && strings.IndexByte("+-.0123456789eE", c.src[c.pos]) >= 0 {
			c.pos++
		}
		c.out = append(c.out, c.src[start:c.pos]...)
		return true
	}
	return false
}

func (c *canonicalizer) word(w string) bool {
	if !bytes.HasPrefix(c.src[c.pos:], []byte(w)) {
		return false
	}
	c.pos += len(w)
	c.out = append(c.out, w...)
	return true
}

// str copies a string token, unescaping what a round trip would; escaped
// says it had escapes, so the caller decodes a key to sort it by.
func (c *canonicalizer) str() (escaped bool, ok bool) {
	c.pos++ // the opening quote
	c.out = append(c.out, '"')
	for c.pos < len(c.src) {
		b := c.src[c.pos]
		switch {
		case b == '"':
			c.pos++
			c.out = append(c.out, '"')
			return escaped, true
		case b == '\\':
			if c.pos+1 >= len(c.src) {
				return false, false
			}
			escaped = true
			if c.src[c.pos+1] != 'u' {
				c.out = append(c.out, c.src[c.pos:c.pos+2]...)
				c.pos += 2
				continue
			}
			if c.pos+6 > len(c.src) {
				return false, false
			}
			switch string(c.src[c.pos+2 : c.pos+6]) {
			case "003c":
				c.out = append(c.out, '<')
			case "003e":
				c.out = append(c.out, '>')
			case "0026":
				c.out = append(c.out, '&')
			case "fffd":
				c.out = utf8.AppendRune(c.out, utf8.RuneError)
			default:
				c.out = append(c.out, c.src[c.pos:c.pos+6]...)
			}
			c.pos += 6
		default:
			c.out = append(c.out, b)
			c.pos++
		}
	}
	return false, false
}

// canonicalMember is one member of an object as written to out: its key
// (without quotes) and its whole text, as offsets.
type canonicalMember struct {
	keyStart, keyEnd int
	start, end       int
}

func (c *canonicalizer) object() bool {
	c.pos++
	c.out = append(c.out, '{')
	if c.pos < len(c.src) && c.src[c.pos] == '}' {
		c.pos++
		c.out = append(c.out, '}')
		return true
	}
	var stack [16]canonicalMember
	members := stack[:0]
	sorted, escapes := true, false
	for {
		if c.pos >= len(c.src) || c.src[c.pos] != '"' {
			return false
		}
		if len(members) > 0 {
			c.out = append(c.out, ',')
		}
		start := len(c.out)
		escaped, ok := c.str()
		if !ok {
			return false
		}
		escapes = escapes || escaped
		m := canonicalMember{keyStart: start + 1, keyEnd: len(c.out) - 1, start: start}
		if c.pos >= len(c.src) || c.src[c.pos] != ':' {
			return false
		}
		c.pos++
		c.out = append(c.out, ':')
		if !c.value() || c.pos >= len(c.src) {
			return false
		}
		m.end = len(c.out)
		if n := len(members); n > 0 && !escapes {
			switch bytes.Compare(c.out[members[n-1].keyStart:members[n-1].keyEnd], c.out[m.keyStart:m.keyEnd]) {
			case 0:
				return false // a duplicate: the round trip keeps the last
			case 1:
				sorted = false
			}
		}
		members = append(members, m)
		switch c.src[c.pos] {
		case ',':
			c.pos++
		case '}':
			c.pos++
			if escapes {
				return c.sortEscaped(members)
			}
			if !sorted {
				key := func(m canonicalMember) []byte { return c.out[m.keyStart:m.keyEnd] }
				if !c.sortMembers(members, func(a, b canonicalMember) int { return bytes.Compare(key(a), key(b)) }) {
					return false
				}
			}
			c.out = append(c.out, '}')
			return true
		default:
			return false
		}
	}
}

// sortEscaped sorts members of which some keys have escapes: by their
// decoded keys, as a round trip does.
func (c *canonicalizer) sortEscaped(members []canonicalMember) bool {
	keys := make(map[int]string, len(members))
	for _, m := range members {
		var key string
		if err := json.Unmarshal(c.out[m.keyStart-1:m.keyEnd+1], &key); err != nil {
			return false
		}
		keys[m.start] = key
	}
	if !c.sortMembers(members, func(a, b canonicalMember) int { return strings.Compare(keys[a.start], keys[b.start]) }) {
		return false
	}
	c.out = append(c.out, '}')
	return true
}

// sortMembers rewrites the members, written one after the other with
// commas between them, in the order cmp gives; two equal keys (which a
// round trip would make one) make it give up.
func (c *canonicalizer) sortMembers(members []canonicalMember, cmp func(a, b canonicalMember) int) bool {
	base := members[0].start
	slices.SortFunc(members, cmp)
	for i := 1; i < len(members); i++ {
		if cmp(members[i-1], members[i]) == 0 {
			return false
		}
	}
	written := slices.Clone(c.out[base:])
	c.out = c.out[:base]
	for i, m := range members {
		if i > 0 {
			c.out = append(c.out, ',')
		}
		c.out = append(c.out, written[m.start-base:m.end-base]...)
	}
	return true
}
