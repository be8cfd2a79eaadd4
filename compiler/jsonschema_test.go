package compiler

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileJSONSchema exports the schema and compiles it with an independent
// JSON Schema implementation, as an editor would.
func compileJSONSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := newTestCompilerSchema(t).JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("bic.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("bic.json")
	if err != nil {
		t.Fatalf("the exported JSON Schema does not compile: %v", err)
	}
	return s
}

func newTestCompilerSchema(t *testing.T) *Schema {
	newTestCompiler(t)
	return testSchema
}

// yamlDocument decodes YAML with goccy/go-yaml alone into JSON values, so
// the check does not go through the compiler's own loader.
func yamlDocument(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestJSONSchemaAcceptsExamples validates every YAML file of the example
// projects against the exported JSON Schema.
func TestJSONSchemaAcceptsExamples(t *testing.T) {
	s := compileJSONSchema(t)
	files := map[string][]byte{}
	for _, root := range []string{"../examples", "../cmd/bic/scaffold"} {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) && inProject(root, p) {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				files[p] = b
			}
			return nil
		})
	}
	a, err := txtar.ParseFile("testdata/valid/yaml_project.txtar")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range a.Files {
		files["yaml_project.txtar/"+f.Name] = f.Data
	}
	if len(files) < 8 {
		t.Fatalf("found only %d example files", len(files))
	}
	for name, src := range files {
		t.Run(name, func(t *testing.T) {
			if err := s.Validate(yamlDocument(t, src)); err != nil {
				t.Errorf("rejected by the JSON Schema: %v", err)
			}
		})
	}
}

// inProject reports whether file is part of a bic project under root: a
// folder between them holds bic.yaml (examples/ also holds files of other
// tools, such as a GitHub Actions workflow).
func inProject(root, file string) bool {
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "bic.yaml")); err == nil {
			return true
		}
		if dir == root || dir == "." || dir == string(filepath.Separator) {
			return false
		}
	}
}

// TestJSONSchemaRejects checks that the export keeps the schema's teeth.
func TestJSONSchemaRejects(t *testing.T) {
	s := compileJSONSchema(t)
	tests := map[string]string{
		"unknown key":      "dashboard: sales\ntitle: Sales\ncharts: []\ncolour: red\n",
		"bad chart type":   "dashboard: sales\ntitle: Sales\ncharts: [{name: a, type: pie2, dataset: orders, metrics: [x]}]\n",
		"missing required": "dataset: orders\ntable: orders\n",
		"bad name":         "dataset: Orders\ntable: orders\ndimensions: {}\nmetrics: {}\n",
		"literal secret":   "name: p\nconnections:\n  pg: {type: postgres, host: h, database: d, password: hunter2}\n",
		"width too large":  "dashboard: s\ntitle: S\ncharts: []\nlayout: [[{chart: a, width: 13}]]\n",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			if err := s.Validate(yamlDocument(t, []byte(src))); err == nil {
				t.Errorf("the JSON Schema accepted:\n%s", src)
			}
		})
	}
}
