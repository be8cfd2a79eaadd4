package warehouse

import (
	"context"
	"fmt"

	"github.com/bic-dev/bic/compiler"
)

// Run plans nothing: it runs a planned query's SQL on conn, with errors
// that name the chart and the connection.
func Run(ctx context.Context, conn Conn, q *compiler.Query) (Rows, error) {
	s, err := q.SQL()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q.Chart, err)
	}
	rows, err := conn.Query(ctx, s.Text, s.Args)
	if err != nil {
		return nil, fmt.Errorf("%s on connection %s: %w", q.Chart, q.Connection, err)
	}
	return rows, nil
}
