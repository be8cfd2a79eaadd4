// Package warehouse defines what every warehouse connector provides: run a
// query with bound parameters under a context and stream typed rows. The
// connectors live in subpackages (postgres, duckdb, snowflake, bigquery) so
// that only the binary that wires them pays for their dependencies.
package warehouse

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"
	"unicode/utf8"

	"github.com/bic-dev/bic/compiler"
)

// Column types of a result. Values of each type are, in Go:
//
//	string   string
//	integer  int64 (Decimal beyond int64's range)
//	number   float64; in a result of Run also int64 or Decimal, exact
//	         digits where the warehouse computed them exactly
//	decimal  Decimal (exact digits)
//	boolean  bool
//	time     string, ISO 8601 with the project time zone's offset
//	date     string, 2006-01-02
//
// and nil for SQL NULL in any column.
const (
	TypeString  = "string"
	TypeInteger = "integer"
	TypeNumber  = "number"
	TypeDecimal = "decimal"
	TypeBoolean = "boolean"
	TypeTime    = "time"
	TypeDate    = "date"
)

// Decimal is an exact number as its decimal digits, such as "1234.50".
type Decimal string

// Column names a result column and its type.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Rows streams a query's result. Values returns the current row, valid
// until the next call to Next.
type Rows interface {
	Columns() []Column
	Next() bool
	Values() []any
	Err() error
	Close() error
}

// Conn runs queries on one warehouse connection. It is safe for concurrent use.
type Conn interface {
	Query(ctx context.Context, sql string, args []any) (Rows, error)
	Close() error
}

// Options are what every connector needs besides its connection's settings.
type Options struct {
	// Env resolves ${env:NAME} references at run time.
	Env func(name string) (string, bool)
	// ProjectDir is where relative paths (DuckDB files, key files) start.
	ProjectDir string
	// Location is the project's time zone: timestamps without a zone are
	// wall-clock times in it, and every time is written with its offset.
	Location *time.Location
}

// ErrConfig marks a connection whose settings cannot work.
var ErrConfig = errors.New("invalid connection settings")

// Expand replaces ${env:NAME} references in s; a reference to a variable
// that is not set is an error naming the variable and the setting.
func (o Options) Expand(conn, setting, s string) (string, error) {
	out, missing := compiler.ExpandEnv(s, o.Env)
	if missing != "" {
		return "", fmt.Errorf("connection %s: %s: environment variable %s is not set: %w", conn, setting, missing, ErrConfig)
	}
	return out, nil
}

// ExpandURL is Expand for a URL: each value is percent-encoded for the part
// of the URL it lands in (see compiler.ExpandURL), so a password holding @,
// /, : or # stays the password.
func (o Options) ExpandURL(conn, setting, s string) (string, error) {
	out, missing := compiler.ExpandURL(s, o.Env)
	if missing != "" {
		return "", fmt.Errorf("connection %s: %s: environment variable %s is not set: %w", conn, setting, missing, ErrConfig)
	}
	if err := compiler.CheckURLAuthority(out); err != nil {
		return "", fmt.Errorf("connection %s: %s: %w: %w", conn, setting, err, ErrConfig)
	}
	return out, nil
}

// FormatTime writes a time value for a result. A timestamp without a zone
// is a wall-clock time in loc; one with a zone is an instant shown in loc.
func FormatTime(t time.Time, hasZone bool, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	if hasZone {
		return t.In(loc).Format(time.RFC3339Nano)
	}
	w := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
	if w.Hour() != t.Hour() || w.Minute() != t.Minute() {
		// A wall-clock time in the gap of a spring-forward change does not
		// exist in loc; keep its label with the offset in force just before.
		_, offset := w.Add(-2 * time.Hour).Zone()
		w = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.FixedZone("", offset))
	}
	return w.Format(time.RFC3339Nano)
}

// Text writes a value of a type without a column type of its own (UUIDs,
// JSON, arrays, intervals, blobs) as readable text rather than Go's
// debugging form.
func Text(v any) string {
	switch v := v.(type) {
	case [16]byte:
		return uuidString(v[:])
	case []byte:
		if utf8.Valid(v) {
			return string(v)
		}
		return "\\x" + hex.EncodeToString(v)
	case fmt.Stringer:
		return v.String()
	case driver.Valuer:
		if dv, err := v.Value(); err == nil {
			switch dv := dv.(type) {
			case nil:
				return ""
			case string:
				return dv
			case []byte:
				return string(dv)
			}
		}
	case map[string]any, []any:
		if b, err := json.Marshal(v); err == nil {
			return string(b)
		}
	default:
		// Other slices and maps (BigQuery REPEATED and RECORD values) as JSON too.
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map {
			if b, err := json.Marshal(v); err == nil {
				return string(b)
			}
		}
	}
	return fmt.Sprint(v)
}

// UUID writes 16 bytes in the canonical 8-4-4-4-12 form.
func UUID(b []byte) string { return uuidString(b) }

func uuidString(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// FormatDate writes a date value for a result.
func FormatDate(t time.Time) string { return t.Format(time.DateOnly) }

// WithTimeout bounds ctx by d, the connection's query timeout, when one is set.
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// Timeout is the connection's query timeout, or zero. The compiler has
// checked its form.
func Timeout(c compiler.Connection) time.Duration {
	if c.Timeout == "" {
		return 0
	}
	d, _ := compiler.ParseDuration(c.Timeout)
	return d
}
