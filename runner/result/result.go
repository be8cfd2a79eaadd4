// Package result encodes query results: a compact JSON document that the
// server hands to ECharts as it is, and RFC 4180 CSV. Both stream from
// warehouse.Rows, so a large result is never held whole in memory.
package result

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/bic-dev/bic/runner/warehouse"
)

// EncoderVersion changes whenever the encoded bytes of a result change; it
// is part of every cache key.
const EncoderVersion = "3"

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
	return encode(rows, jsonEncoding(w, rows.Columns()))
}

// WriteJSONAndCSV writes the JSON document of WriteJSON to jsonW and the
// CSV of WriteCSV to csvW in one pass over rows, as a chart_data job does:
// the warehouse is read once and nothing is held but two buffers. It
// returns the number of rows written.
func WriteJSONAndCSV(rows Rows, jsonW, csvW io.Writer) (int, error) {
	cols := rows.Columns()
	return encode(rows, jsonEncoding(jsonW, cols), csvEncoding(csvW, cols))
}

// encoding is one output of encode: head, each row as appendRow writes
// it, then tail.
type encoding struct {
	w         io.Writer
	head      []byte
	appendRow func(buf []byte, n int, row []any) []byte
	tail      []byte
}

func jsonEncoding(w io.Writer, cols []warehouse.Column) encoding {
	head := []byte(`{"columns":[`)
	for i, c := range cols {
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
	return encoding{w: w, head: head, tail: []byte("]}\n"), appendRow: func(buf []byte, n int, row []any) []byte {
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
	}}
}

// flushAt is how much encoded output a buffer holds before it is written.
const flushAt = 32 << 10

// encode streams rows once into every encoding, each through its own
// buffer that is written out whenever it passes flushAt. Nothing is held
// but the buffers.
func encode(rows Rows, encs ...encoding) (int, error) {
	bufs := make([][]byte, len(encs))
	for i, e := range encs {
		bufs[i] = append(make([]byte, 0, flushAt+4<<10), e.head...)
	}
	n := 0
	for rows.Next() {
		row := rows.Values()
		for i, e := range encs {
			bufs[i] = e.appendRow(bufs[i], n, row)
			if len(bufs[i]) > flushAt {
				if _, err := e.w.Write(bufs[i]); err != nil {
					return n, err
				}
				bufs[i] = bufs[i][:0]
			}
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	for i, e := range encs {
		if _, err := e.w.Write(append(bufs[i], e.tail...)); err != nil {
			return n, err
		}
	}
	return n, nil
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
