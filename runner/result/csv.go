package result

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/bic-dev/bic/runner/warehouse"
)

// WriteCSV writes RFC 4180 CSV: UTF-8, a header row of column names, CRLF
// line ends, fields quoted only when they must be. NULL is an empty field.
// It streams row by row and returns the number of data rows written.
func WriteCSV(w io.Writer, rows Rows) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	buf := make([]byte, 0, 256)
	for i, c := range rows.Columns() {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendCSVField(buf, c.Name)
	}
	buf = append(buf, '\r', '\n')
	n := 0
	for rows.Next() {
		for i, v := range rows.Values() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendCSVValue(buf, v)
		}
		buf = append(buf, '\r', '\n')
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
	if _, err := bw.Write(buf); err != nil {
		return n, err
	}
	return n, bw.Flush()
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
		return appendCSVField(buf, string(v))
	case string:
		return appendCSVField(buf, v)
	default:
		return appendCSVField(buf, fmt.Sprint(v))
	}
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
