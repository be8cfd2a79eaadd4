package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL's message is said once, not once by bic and again by the
// driver's error it wraps ("…: ERROR: … (SQLSTATE …)"), and the driver's
// error is still there for errors.As.
func TestErrorIsSaidOnce(t *testing.T) {
	c := open(t, "")
	err := drain(c, context.Background(), "SELECT CAST('-97975-12-01 00:00:00' AS timestamp) AS t")
	if err == nil {
		t.Fatal("an out-of-range timestamp was accepted")
	}
	msg := err.Error()
	if strings.Count(msg, "SQLSTATE") != 1 || !strings.HasPrefix(msg, "postgres: ") {
		t.Errorf("err = %q, want PostgreSQL's message once", msg)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Errorf("err = %v does not wrap the *pgconn.PgError", err)
	}
}
