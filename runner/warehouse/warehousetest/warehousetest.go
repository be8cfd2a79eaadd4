// Package warehousetest loads a project's DuckDB sample data into a fresh
// PostgreSQL schema, for tests that run the same charts on both.
package warehousetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/warehouse"
	"github.com/bic-dev/bic/runner/warehouse/duckdb"
)

// LoadPostgres copies every table of the duckdb connection conn into a new
// schema of the database at pgURL, with the column types DuckDB read from
// the files, and drops the schema when the test ends. It returns the schema.
func LoadPostgres(t testing.TB, pgURL, projectDir string, conn compiler.Connection) string {
	t.Helper()
	ctx := context.Background()
	duck, err := duckdb.Open(ctx, conn, warehouse.Options{ProjectDir: projectDir, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	schema := fmt.Sprintf("bic_test_%d", time.Now().UnixNano())
	admin, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatalf("connect to %s: %v", pgURL, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), pgURL); err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	tables := make([]string, 0, len(conn.Files))
	for table := range conn.Files {
		tables = append(tables, table)
	}
	sort.Strings(tables)
	for _, table := range tables {
		rows, err := duck.DB().QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE "+table+")")
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				t.Fatal(err)
			}
			cols = append(cols, name+" "+pgType(typ))
		}
		rows.Close()
		if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE TABLE %s.%s (%s)", schema, table, strings.Join(cols, ", "))); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(projectDir, conn.Files[table]))
		if err != nil {
			t.Fatal(err)
		}
		_, err = admin.PgConn().CopyFrom(ctx, f, fmt.Sprintf("COPY %s.%s FROM STDIN WITH (FORMAT csv, HEADER true)", schema, table))
		f.Close()
		if err != nil {
			t.Fatalf("load %s: %v", table, err)
		}
	}
	return schema
}

// pgType maps DuckDB's type for a CSV column to PostgreSQL's. Text uses the
// C collation so both databases sort strings the same way.
func pgType(duck string) string {
	if strings.HasPrefix(duck, "DECIMAL(") {
		return "numeric" + strings.TrimPrefix(duck, "DECIMAL") // DECIMAL(18,2) → numeric(18,2)
	}
	switch duck {
	case "BIGINT", "INTEGER", "SMALLINT", "TINYINT":
		return "bigint"
	case "DOUBLE", "FLOAT":
		return "double precision"
	case "BOOLEAN":
		return "boolean"
	case "DATE":
		return "date"
	case "TIMESTAMP":
		return "timestamp"
	default:
		return `text COLLATE "C"`
	}
}
