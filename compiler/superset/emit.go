package superset

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// node is an ordered YAML mapping: the importer writes its files by hand so
// that keys come in the order a person reads them, short lists stay on one
// line and each object carries a comment saying where it came from.
type node []field

type field struct {
	key     string
	value   any    // string, int, float64, bool, []string, []any, node, flow
	comment string // written on the line above the key
}

// flow writes a mapping or list on one line ({a: 1} or [a, b]).
type flow struct{ v any }

func (n *node) set(key string, v any) { *n = append(*n, field{key: key, value: v}) }

// setc sets key with a comment above it.
func (n *node) setc(key string, v any, comment string) {
	*n = append(*n, field{key: key, value: v, comment: comment})
}

// document renders a YAML document: header comment lines, then the mapping.
func document(header []string, n node) []byte {
	var b bytes.Buffer
	for _, h := range header {
		writeComment(&b, "", h)
	}
	writeMapping(&b, n, 0)
	return b.Bytes()
}

func writeComment(b *bytes.Buffer, indent, text string) {
	for _, line := range strings.Split(text, "\n") {
		b.WriteString(indent)
		b.WriteString("#")
		if line != "" {
			b.WriteString(" ")
			b.WriteString(sanitizeComment(line))
		}
		b.WriteString("\n")
	}
}

// sanitizeComment keeps a comment on its line: control characters from the
// export (names are user text) are replaced.
func sanitizeComment(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
}

func writeMapping(b *bytes.Buffer, n node, depth int) {
	indent := strings.Repeat("  ", depth)
	for _, f := range n {
		if f.comment != "" {
			writeComment(b, indent, f.comment)
		}
		b.WriteString(indent)
		b.WriteString(scalar(f.key, false))
		b.WriteString(":")
		writeValue(b, f.value, depth)
	}
}

// writeValue writes what follows "key:" (or "-") and the line end.
func writeValue(b *bytes.Buffer, v any, depth int) {
	switch v := v.(type) {
	case node:
		if len(v) == 0 {
			b.WriteString(" {}\n")
			return
		}
		b.WriteString("\n")
		writeMapping(b, v, depth+1)
	case []any:
		if len(v) == 0 {
			b.WriteString(" []\n")
			return
		}
		b.WriteString("\n")
		indent := strings.Repeat("  ", depth+1)
		for _, item := range v {
			if m, ok := item.(node); ok && len(m) > 0 && m[0].comment != "" {
				// A comment on the first key goes above the dash.
				writeComment(b, indent, m[0].comment)
				m = append(node{{key: m[0].key, value: m[0].value}}, m[1:]...)
				item = m
			}
			b.WriteString(indent)
			b.WriteString("-")
			if m, ok := item.(node); ok && len(m) > 0 {
				// The first key goes on the dash's line, the rest under it.
				var sub bytes.Buffer
				writeMapping(&sub, m, depth+2)
				s := strings.TrimPrefix(sub.String(), strings.Repeat("  ", depth+2))
				b.WriteString(" ")
				b.WriteString(s)
				continue
			}
			writeValue(b, item, depth+1)
		}
	case []string:
		b.WriteString(" ")
		b.WriteString(flowText(v))
		b.WriteString("\n")
	case flow:
		b.WriteString(" ")
		b.WriteString(flowText(v.v))
		b.WriteString("\n")
	case string:
		if strings.Contains(v, "\n") && literalOK(v) {
			b.WriteString(" |")
			if !strings.HasSuffix(v, "\n") {
				b.WriteString("-")
			}
			b.WriteString("\n")
			indent := strings.Repeat("  ", depth+1)
			for _, line := range strings.Split(strings.TrimSuffix(v, "\n"), "\n") {
				if line != "" {
					b.WriteString(indent)
					b.WriteString(line)
				}
				b.WriteString("\n")
			}
			return
		}
		b.WriteString(" ")
		b.WriteString(scalar(v, false))
		b.WriteString("\n")
	default:
		b.WriteString(" ")
		b.WriteString(flowText(v))
		b.WriteString("\n")
	}
}

// literalOK reports whether s can be a literal block scalar: no leading
// space on its first line, no trailing spaces or control characters, and
// at most one trailing newline.
func literalOK(s string) bool {
	if s == "" || s[0] == ' ' || s[0] == '\t' || strings.HasSuffix(s, "\n\n") {
		return false
	}
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t") {
			return false
		}
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || r == 0x85 || r == 0xfeff || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

func flowText(v any) string {
	switch v := v.(type) {
	case string:
		return scalar(v, true)
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = scalar(s, true)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []any:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = flowText(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case node:
		parts := make([]string, len(v))
		for i, f := range v {
			parts[i] = scalar(f.key, true) + ": " + flowText(f.value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case flow:
		return flowText(v.v)
	case nil:
		return "null"
	}
	return quote("?")
}

// plainRe is what bic's files write unquoted: names, words, SQL without
// YAML's indicators.
var plainRe = regexp.MustCompile(`^[A-Za-z_(][A-Za-z0-9_ .()*/+'-]*$`)

// plainFlowRe is the same inside [ ] and { }, where fewer characters are safe.
var plainFlowRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_ ./-]*$`)

// reserved are words YAML reads as something other than a string.
var reserved = map[string]bool{"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true,
	"null": true, "y": true, "n": true, "~": true}

// scalar writes a string plain when YAML reads it back as the same string,
// else double-quoted (a JSON string is a valid YAML double-quoted scalar).
func scalar(s string, inFlow bool) string {
	re := plainRe
	if inFlow {
		re = plainFlowRe
	}
	if re.MatchString(s) && !reserved[strings.ToLower(s)] && !strings.HasSuffix(s, " ") &&
		!strings.Contains(s, " #") && !strings.Contains(s, ": ") {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return s
		}
	}
	return quote(s)
}

func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
