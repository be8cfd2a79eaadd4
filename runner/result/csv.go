package result

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/bic-dev/bic/runner/warehouse"
)

// WriteCSV writes RFC 4180 CSV: UTF-8, a header row of column names, CRLF
// line ends, fields quoted only when they must be. NULL is an empty field.
// A text cell that a spreadsheet would run as a formula (see
// appendCSVText) starts with a single quote. It streams row by row and
// returns the number of data rows written.
func WriteCSV(w io.Writer, rows Rows) (int, error) {
	return encode(rows, csvEncoding(w, rows.Columns()))
}

func csvEncoding(w io.Writer, cols []warehouse.Column) encoding {
	var head []byte
	for i, c := range cols {
		if i > 0 {
			head = append(head, ',')
		}
		head = appendCSVText(head, c.Name)
	}
	head = append(head, '\r', '\n')
	return encoding{w: w, head: head, appendRow: func(buf []byte, _ int, row []any) []byte {
		for i, v := range row {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendCSVValue(buf, v)
		}
		return append(buf, '\r', '\n')
	}}
}

func appendCSVValue(buf []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return buf
	case bool:
		return strconv.AppendBool(buf, v)
	case int64:
		return strconv.AppendInt(buf, v, 10)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return buf
		}
		return strconv.AppendFloat(buf, v, 'f', -1, 64)
	case warehouse.Decimal:
		// A number, so -3.5 stays a number for the spreadsheet.
		return appendCSVField(buf, string(v))
	case string:
		return appendCSVText(buf, v)
	default:
		return appendCSVText(buf, fmt.Sprint(v))
	}
}

// appendCSVText writes a text cell. One that starts with = + - @, a tab or
// a carriage return would run as a formula in a spreadsheet (CSV
// injection), so it is prefixed with a single quote, as OWASP recommends.
// Only text is prefixed: numbers are written as numbers.
func appendCSVText(buf []byte, s string) []byte {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		s = "'" + s
	}
	return appendCSVField(buf, s)
}

// appendCSVField quotes a field that holds a comma, quote, CR or LF, or
// starts or ends with a space, doubling its quotes.
func appendCSVField(buf []byte, s string) []byte {
	if s == "" {
		return buf
	}
	if !strings.ContainsAny(s, ",\"\r\n") && s[0] != ' ' && s[len(s)-1] != ' ' {
		return append(buf, s...)
	}
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			buf = append(buf, '"')
		}
		buf = append(buf, s[i])
	}
	return append(buf, '"')
}
