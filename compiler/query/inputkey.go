package query

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/schema"
)

// InputKey is the key of a cache entry (DESIGN.md, "Two keys"): the sha256
// of everything that determines a chart's result, namely the SQL text, its
// bound arguments with their Go types, the connection's name and
// non-secret settings, and the version of the encoder that writes the
// result. Work with the same key is done once, whichever chart,
// environment or preview asks for it.
//
// It is the one function that computes the key; every caller goes
// through it, or through Query.InputKey. It is pure: relative time
// windows were resolved when the query was planned (PlanChart's asOf,
// rounded to each window's grain), so they reach it as arguments.
func InputKey(s SQL, conn compiler.Connection, encoderVersion string) string {
	args := make([]map[string]any, len(s.Args))
	for i, a := range s.Args {
		args[i] = map[string]any{"type": fmt.Sprintf("%T", a), "value": a}
	}
	doc := map[string]any{
		"schema":     schema.Version,
		"sql":        s.Text,
		"args":       args,
		"connection": keyedConnection(conn),
		"encoder":    encoderVersion,
	}
	b, err := compiler.CanonicalJSON(doc)
	if err != nil {
		// Arguments are strings, numbers and booleans that PlanChart binds.
		panic(fmt.Sprintf("query: input key: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// QueryInputKey writes q's SQL for its connection and returns its InputKey.
func (q *Query) InputKey(m *compiler.Manifest, encoderVersion string) (string, error) {
	c, ok := m.Connection(q.Connection)
	if !ok {
		return "", fmt.Errorf("%s: no connection %q", q.Chart, q.Connection)
	}
	s, err := q.SQL()
	if err != nil {
		return "", err
	}
	return InputKey(s, c.Spec, encoderVersion), nil
}

// keyedConnection is the part of a connection that an input key covers:
// what says which warehouse, database and role answer. Secrets are left
// out (in a manifest they are ${env:…} references anyway, whose names say
// nothing of the data), and so are settings that do not change a result:
// the description, the timeout and the pool size.
func keyedConnection(c compiler.Connection) compiler.Connection {
	c.Password, c.PrivateKey, c.CredentialsJSON = "", "", ""
	c.Description, c.Timeout, c.MaxConnections = "", "", 0
	return c
}
