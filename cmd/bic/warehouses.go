package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/snowflakedb/gosnowflake"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/warehouse"
	"github.com/bic-dev/bic/runner/warehouse/bigquery"
	"github.com/bic-dev/bic/runner/warehouse/duckdb"
	"github.com/bic-dev/bic/runner/warehouse/postgres"
	"github.com/bic-dev/bic/runner/warehouse/snowflake"
)

// warehouses is the runner.Opener of the CLI: it connects with every
// connector linked into the binary, resolving ${env:…} references from
// env and relative paths from the project folder dir.
type warehouses struct {
	env func(name string) (string, bool)
	dir string
}

// Open connects to c with the connector of its type, writing result times
// in loc.
func (w warehouses) Open(ctx context.Context, c compiler.Connection, loc *time.Location) (warehouse.Conn, error) {
	opts := warehouse.Options{Env: w.env, ProjectDir: w.dir, Location: loc}
	switch c.Type {
	case "postgres":
		return postgres.Open(ctx, c, opts)
	case "duckdb":
		return duckdb.Open(ctx, c, opts)
	case "snowflake":
		// gosnowflake logs every failure itself; bic reports the error once.
		gosnowflake.GetLogger().SetOutput(io.Discard)
		return snowflake.Open(ctx, c, opts)
	case "bigquery":
		return bigquery.Open(ctx, c, opts)
	}
	return nil, fmt.Errorf("connection %s: unknown type %q", c.Name, c.Type)
}
