package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// csvTypes returns DECIMAL types for the columns of a CSV file that
// DuckDB's sniffer would read as DOUBLE although every value is written as
// a plain decimal number, such as 31.99: money and other decimals, which as
// DOUBLE would add up to 104995.44000000056 where the file's digits add up
// to 104995.44. Each gets as many decimal places as the file writes, read
// from the whole file rather than the sniffer's sample, so no digit is
// rounded away. A column with an exponent, inf or nan, or more than 38
// digits stays DOUBLE.
func csvTypes(ctx context.Context, db *sql.DB, path string) (map[string]string, error) {
	src := "read_csv_auto(" + quoteString(path) + ")"
	rows, err := db.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+src+")")
	if err != nil {
		return nil, err
	}
	var doubles []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			rows.Close()
			return nil, err
		}
		if typ == "DOUBLE" {
			doubles = append(doubles, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(doubles) == 0 {
		return nil, err
	}
	var header bool
	if err := db.QueryRowContext(ctx, `SELECT "HasHeader" FROM sniff_csv(`+quoteString(path)+`)`).Scan(&header); err != nil {
		return nil, err
	}
	// One pass over the file, the DOUBLE columns read as text: whether each
	// value is a plain decimal, its decimal places and its integer digits.
	var cols, asText []string
	for _, name := range doubles {
		v := "trim(" + quoteIdent(name) + ")"
		cols = append(cols,
			fmt.Sprintf(`coalesce(bool_and(%s IS NULL OR regexp_full_match(%s, '[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)')), false)`, v, v),
			fmt.Sprintf(`coalesce(max(length(split_part(%s, '.', 2))), 0)`, v),
			fmt.Sprintf(`coalesce(max(length(ltrim(split_part(ltrim(%s, '+-'), '.', 1), '0'))), 0)`, v))
		asText = append(asText, quoteString(name)+": 'VARCHAR'")
	}
	probe := fmt.Sprintf("SELECT %s FROM read_csv_auto(%s, header = %t, types = {%s})", strings.Join(cols, ", "), quoteString(path), header, strings.Join(asText, ", "))
	vals := make([]any, len(cols))
	dst := make([]any, len(cols))
	for i := range vals {
		dst[i] = &vals[i]
	}
	if err := db.QueryRowContext(ctx, probe).Scan(dst...); err != nil {
		return nil, err
	}
	types := map[string]string{}
	for i, name := range doubles {
		plain, _ := vals[3*i].(bool)
		scale, digits := toInt(vals[3*i+1]), toInt(vals[3*i+2])
		if !plain || scale == 0 || digits+scale > 38 {
			continue
		}
		width := 18
		if digits+scale > 18 {
			width = 38
		}
		types[name] = fmt.Sprintf("DECIMAL(%d,%d)", width, scale)
	}
	return types, nil
}

func toInt(v any) int {
	switch v := v.(type) {
	case int64:
		return int(v)
	case int32:
		return int(v)
	}
	return 0
}

// typesOption writes the types argument of read_csv_auto, or nothing.
func typesOption(types map[string]string) string {
	if len(types) == 0 {
		return ""
	}
	names := make([]string, 0, len(types))
	for name := range types {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = quoteString(name) + ": " + quoteString(types[name])
	}
	return ", types = {" + strings.Join(parts, ", ") + "}"
}
