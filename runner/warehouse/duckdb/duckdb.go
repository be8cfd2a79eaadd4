// Package duckdb runs queries in an embedded DuckDB database: a database
// file opened read-only, or CSV, Parquet and JSON files of the project
// exposed as tables. It is bic's embedded default warehouse.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/warehouse"
	"github.com/bic-dev/bic/runner/warehouse/sqlrows"
)

// Conn is an open DuckDB database.
type Conn struct {
	db      *sql.DB
	timeout time.Duration
	loc     *time.Location
}

// Open opens the connection's database and creates a table (or, for a
// large or Parquet file, a view) for each file.
// CSV columns of plain decimal numbers are read as DECIMAL (see csvTypes).
func Open(ctx context.Context, c compiler.Connection, opts warehouse.Options) (*Conn, error) {
	if c.Path != "" && len(c.Files) > 0 {
		return nil, fmt.Errorf("connection %s: set path or files, not both: %w", c.Name, warehouse.ErrConfig)
	}
	dsn := ""
	if c.Path != "" {
		dsn = filepath.Join(opts.ProjectDir, c.Path) + "?access_mode=read_only"
	}
	// Every connection works in the project's time zone, so date_trunc
	// and comparisons of TIMESTAMPTZ values happen on its wall clock.
	zone := "UTC"
	if opts.Location != nil {
		zone = opts.Location.String()
	}
	connector, err := duckdb.NewConnector(dsn, func(execer driver.ExecerContext) error {
		_, err := execer.ExecContext(context.Background(), "SET TimeZone = "+quoteString(zone), nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("connection %s: open duckdb: %w", c.Name, err)
	}
	db := sql.OpenDB(connector)
	conn := &Conn{db: db, timeout: warehouse.Timeout(c), loc: opts.Location}
	names := make([]string, 0, len(c.Files))
	for name := range c.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, table := range names {
		path := filepath.Join(opts.ProjectDir, filepath.FromSlash(c.Files[table]))
		var types map[string]string
		if reader(path) == "read_csv_auto" {
			types, err = csvTypes(ctx, db, path)
		}
		stmt := fmt.Sprintf("CREATE %s %s AS SELECT * FROM %s(%s%s)", relationKind(path), quoteIdent(table), reader(path), quoteString(path), typesOption(types))
		if err == nil {
			_, err = db.ExecContext(ctx, stmt)
		}
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("connection %s: table %s from %s: %w", c.Name, table, c.Files[table], err)
		}
	}
	return conn, nil
}

// loadBelow is the size under which a CSV or JSON file is loaded into a
// table when the connection opens, instead of read again by every query
// through a view: sniffing and parsing a file costs milliseconds a query,
// and a runner keeps its connections open across jobs. A larger file, and
// Parquet (which DuckDB scans cheaply), stay views. Either way a
// connection answers from the files as they were when it was opened.
const loadBelow = 256 << 20

func relationKind(path string) string {
	if reader(path) == "read_parquet" {
		return "VIEW"
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() >= loadBelow {
		return "VIEW" // a missing file is reported by the view's own read
	}
	return "TABLE"
}

func reader(path string) string {
	p := strings.TrimSuffix(strings.ToLower(path), ".gz")
	switch {
	case strings.HasSuffix(p, ".parquet"):
		return "read_parquet"
	case strings.HasSuffix(p, ".json"):
		return "read_json_auto"
	default:
		return "read_csv_auto"
	}
}

func quoteIdent(s string) string  { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// DB is the underlying database, for tests and loading data.
func (c *Conn) DB() *sql.DB { return c.db }

// Close closes the database.
func (c *Conn) Close() error { return c.db.Close() }

// Query runs sql with args bound as parameters ($1, $2, …).
func (c *Conn) Query(ctx context.Context, query string, args []any) (warehouse.Rows, error) {
	rows, err := sqlrows.Query(ctx, c.db, c.timeout, query, args, columnType, c.normalize)
	if err != nil {
		return nil, fmt.Errorf("duckdb: %w", err)
	}
	return rows, nil
}

func columnType(dbType string) string {
	t := strings.ToUpper(dbType)
	switch {
	case t == "BOOLEAN":
		return warehouse.TypeBoolean
	case t == "TINYINT" || t == "SMALLINT" || t == "INTEGER" || t == "BIGINT" || t == "UTINYINT" || t == "USMALLINT" || t == "UINTEGER":
		return warehouse.TypeInteger
	case t == "UBIGINT" || t == "HUGEINT" || t == "UHUGEINT" || strings.HasPrefix(t, "DECIMAL"):
		return warehouse.TypeDecimal
	case t == "FLOAT" || t == "DOUBLE":
		return warehouse.TypeNumber
	case t == "DATE":
		return warehouse.TypeDate
	case strings.HasPrefix(t, "TIMESTAMP"):
		return warehouse.TypeTime
	default:
		return warehouse.TypeString
	}
}

func (c *Conn) normalize(col warehouse.Column, dbType string, v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case uint8:
		return int64(v)
	case uint16:
		return int64(v)
	case uint32:
		return int64(v)
	case uint64:
		return warehouse.Decimal(fmt.Sprint(v))
	case *big.Int:
		return warehouse.Decimal(v.String())
	case float32:
		return float64(v)
	case duckdb.Decimal:
		return warehouse.Decimal(v.String())
	case time.Time:
		if col.Type == warehouse.TypeDate {
			return warehouse.FormatDate(v)
		}
		if col.Type == warehouse.TypeTime {
			return warehouse.FormatTime(v, strings.Contains(strings.ToUpper(dbType), "TIME ZONE") || strings.HasSuffix(strings.ToUpper(dbType), "TZ"), c.loc)
		}
		return v.Format("15:04:05.999999")
	case int64, float64, bool, string:
		return v
	case []byte:
		if strings.ToUpper(dbType) == "UUID" && len(v) == 16 {
			return warehouse.UUID(v)
		}
		return warehouse.Text(v)
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d microseconds", v.Months, v.Days, v.Micros)
	default:
		return warehouse.Text(v)
	}
}
