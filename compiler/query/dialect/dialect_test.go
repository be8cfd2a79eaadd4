package dialect

import (
	"testing"

	"github.com/bic-dev/bic/compiler/internal/fixture"
)

func TestFor(t *testing.T) {
	names := fixture.ConnectionTypes(t)
	if len(names) < 4 {
		t.Fatalf("schema allows connection types %v, want at least duckdb, postgres, snowflake and bigquery", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			d, err := For(name)
			if err != nil || d == nil {
				t.Fatalf("For(%q) = %v, %v; want a dialect", name, d, err)
			}
		})
	}
	for _, name := range []string{"", "mysql", "Postgres"} {
		t.Run("unknown "+name, func(t *testing.T) {
			if d, err := For(name); err == nil {
				t.Errorf("For(%q) = %v, nil; want an error", name, d)
			}
		})
	}
}
