package main

import (
	"context"
	"fmt"
	"io"

	"github.com/snowflakedb/gosnowflake"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/warehouse"
	"github.com/bic-dev/bic/runner/warehouse/bigquery"
	"github.com/bic-dev/bic/runner/warehouse/duckdb"
	"github.com/bic-dev/bic/runner/warehouse/postgres"
	"github.com/bic-dev/bic/runner/warehouse/snowflake"
)

// openWarehouse connects to a connection by its type.
func openWarehouse(ctx context.Context, c compiler.Connection, opts warehouse.Options) (warehouse.Conn, error) {
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
