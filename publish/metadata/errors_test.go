package metadata

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL errors are told apart by their SQLSTATE code, never by text:
// a message that merely mentions a code is not that error.
func TestPGCodeMatchesCodesNotMessages(t *testing.T) {
	wrapped := fmt.Errorf("create schema: %w", &pgconn.PgError{Code: pgDuplicateSchema, Message: "schema exists"})
	if !pgCode(wrapped, pgUniqueViolation, pgDuplicateSchema) {
		t.Error("a wrapped duplicate_schema error was not recognised")
	}
	if pgCode(errors.New("ERROR: relation 42P06 (SQLSTATE 23505)"), pgUniqueViolation, pgDuplicateSchema) {
		t.Error("an error whose text names a code was taken for that error")
	}
	if pgCode(&pgconn.PgError{Code: "42501"}, pgUniqueViolation) {
		t.Error("another code matched")
	}
}

// A timestamp that does not parse is an error, not a zero time that makes
// a preview look expired.
func TestBadTimestampIsAnError(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite://meta.db", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.db.ExecContext(ctx, `INSERT INTO environments (name, kind, expires_at, created_at) VALUES ('pr-1', 'preview', 'next tuesday', '2026-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Environment(ctx, "pr-1"); err == nil {
		t.Error("an unreadable expires_at was accepted")
	}
	if _, _, err := st.GC(ctx, "test"); err == nil {
		t.Error("gc went on past an unreadable expires_at")
	}
}
