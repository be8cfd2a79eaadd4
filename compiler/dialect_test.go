package compiler

import (
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"github.com/bic-dev/bic/schema"
)

// connectionTypes reads the connection types the schema allows, so a
// type added there without a dialect fails TestDialectFor.
func connectionTypes(t testing.TB) []string {
	t.Helper()
	v := cuecontext.New().CompileString(schema.Source).LookupPath(cue.MakePath(cue.Def("Connection"), cue.Str("type").Required()))
	if err := v.Err(); err != nil {
		t.Fatalf("schema #Connection.type: %v", err)
	}
	op, alts := v.Expr()
	if op != cue.OrOp {
		t.Fatalf("schema #Connection.type is %v, want a disjunction of strings", op)
	}
	var names []string
	for _, a := range alts {
		s, err := a.String()
		if err != nil {
			t.Fatalf("schema #Connection.type: %v", err)
		}
		names = append(names, s)
	}
	return names
}

func mustDialect(t testing.TB, name string) Dialect {
	t.Helper()
	d, err := DialectFor(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDialectFor(t *testing.T) {
	names := connectionTypes(t)
	if len(names) < 4 {
		t.Fatalf("schema allows connection types %v, want at least duckdb, postgres, snowflake and bigquery", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			d, err := DialectFor(name)
			if err != nil || d == nil {
				t.Fatalf("DialectFor(%q) = %v, %v; want a dialect", name, d, err)
			}
		})
	}
	for _, name := range []string{"", "mysql", "Postgres"} {
		t.Run("unknown "+name, func(t *testing.T) {
			if d, err := DialectFor(name); err == nil {
				t.Errorf("DialectFor(%q) = %v, nil; want an error", name, d)
			}
		})
	}
}
