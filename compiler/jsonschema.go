package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/encoding/jsonschema"

	"github.com/bic-dev/bic/schema"
)

// JSONSchema exports the definitions as a JSON Schema (draft 2020-12) that
// editors use to check and complete bic.yaml and object files; the root
// accepts any of them.
func (s *Schema) JSONSchema() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	expr, err := jsonschema.Generate(s.root.LookupPath(cue.ParsePath("#File")), nil)
	if err != nil {
		return nil, fmt.Errorf("generate JSON Schema: %w", err)
	}
	src, err := format.Node(expr)
	if err != nil {
		return nil, fmt.Errorf("format JSON Schema: %w", err)
	}
	v := s.root.Context().CompileBytes(src)
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("compile JSON Schema: %w", err)
	}
	raw, err := v.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode JSON Schema: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("decode JSON Schema: %w", err)
	}
	doc["title"] = "bic project file"
	doc["$id"] = "https://bic.dev/schema/v" + schema.Version + ".json"
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
