// Package result encodes query results: a compact JSON document that the
// server hands to ECharts as it is, and RFC 4180 CSV. Both stream from
// warehouse.Rows, so a large result is never held whole in memory.
package result

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/bic-dev/bic/runner/warehouse"
)

// EncoderVersion changes whenever the encoded bytes of a result change; it
// is part of every cache key.
const EncoderVersion = "2"

// Rows is what the encoders read: warehouse.Rows without Close.
type Rows interface {
	Columns() []warehouse.Column
	Next() bool
	Values() []any
	Err() error
}

// WriteJSON writes {"columns":[{"name","type"}…],"rows":[[…]…]}: the
// columns, then every row as an array, the shape of an ECharts dataset
// (dimensions and source). Decimals keep all their digits; times are
// ISO 8601 strings. It returns the number of rows written.
func WriteJSON(w io.Writer, rows Rows) (int, error) {
	head := []byte(`{"columns":[`)
	for i, c := range rows.Columns() {
		if i > 0 {
			head = append(head, ',')
		}
		head = append(head, `{"name":`...)
		head = appendJSONString(head, c.Name)
		head = append(head, `,"type":`...)
		head = appendJSONString(head, c.Type)
		head = append(head, '}')
	}
	head = append(head, `],"rows":[`...)
	return encode(w, rows, head, func(buf []byte, n int, row []any) []byte {
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		for i, v := range row {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONValue(buf, v)
		}
		return append(buf, ']')
	}, []byte("]}\n"))
}

// encode streams rows through a 64 KiB buffer: head, each row as
// appendRow writes it, then tail. Nothing is held but the buffer.
func encode(w io.Writer, rows Rows, head []byte, appendRow func(buf []byte, n int, row []any) []byte, tail []byte) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	buf := append(make([]byte, 0, 256), head...)
	n := 0
	for rows.Next() {
		buf = appendRow(buf, n, rows.Values())
		n++
		if len(buf) > 32<<10 {
			if _, err := bw.Write(buf); err != nil {
				return n, err
			}
			buf = buf[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	buf = append(buf, tail...)
	if _, err := bw.Write(buf); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

func appendJSONValue(buf []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(buf, "null"...)
	case bool:
		return strconv.AppendBool(buf, v)
	case int64:
		return strconv.AppendInt(buf, v, 10)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return append(buf, "null"...)
		}
		return strconv.AppendFloat(buf, v, 'g', -1, 64)
	case warehouse.Decimal:
		if isJSONNumber(string(v)) {
			return append(buf, v...)
		}
		return appendJSONString(buf, string(v))
	case string:
		return appendJSONString(buf, v)
	default:
		return appendJSONString(buf, fmt.Sprint(v))
	}
}

// isJSONNumber accepts the digits warehouses write for decimals.
func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if s[0] == '-' {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && digits > 0:
			dot = true
		default:
			return false
		}
	}
	return digits > 0 && s[len(s)-1] != '.'
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as JSON does, replacing invalid UTF-8.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				// Control characters, and <>& so the JSON can sit in HTML.
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\u202`...)
			buf = append(buf, hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
