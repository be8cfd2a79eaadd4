package compiler

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"cuelang.org/go/cue"
	"github.com/google/go-cmp/cmp"
)

var (
	cueOnlyOnce   sync.Once
	cueOnlySchema *Schema
)

// newCUEOnlyCompiler is a compiler that unifies every object with CUE, as
// before the derived checker.
func newCUEOnlyCompiler(t testing.TB) *Compiler {
	t.Helper()
	cueOnlyOnce.Do(func() {
		s, err := NewSchema()
		if err != nil {
			panic(err)
		}
		s.onlyCUE = true
		cueOnlySchema = s
	})
	return New(cueOnlySchema)
}

// differentialProjects are every fixture, the examples and every input of
// the fuzz corpus, each as the project the tests compile it in.
func differentialProjects(t *testing.T) map[string]fs.FS {
	t.Helper()
	out := map[string]fs.FS{}
	archives, _ := filepath.Glob("testdata/*/*.txtar")
	for _, a := range archives {
		out[a] = fixtureFS(t, a)
	}
	examples, _ := filepath.Glob("../examples/*/bic.yaml")
	for _, e := range examples {
		out[e] = os.DirFS(filepath.Dir(e))
	}
	for dir, name := range map[string]string{"FuzzCompileYAML": "dashboards/fuzz.yaml", "FuzzCompileCUE": "bic_fuzz.cue"} {
		files, _ := filepath.Glob(filepath.Join("testdata/fuzz", dir, "*"))
		for _, f := range files {
			data, err := readCorpusFile(f)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			fsys := fuzzProject(nil, name, data)
			out[f] = fsys
		}
	}
	if len(out) < 100 {
		t.Fatalf("only %d projects found: run the test from the compiler folder", len(out))
	}
	return out
}

// readCorpusFile reads the one []byte value of a Go fuzz corpus file.
func readCorpusFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.SplitN(string(b), "\n", 2)
	if len(lines) < 2 || strings.TrimSpace(lines[0]) != "go test fuzz v1" {
		return nil, os.ErrInvalid
	}
	v := strings.TrimSpace(lines[1])
	v = strings.TrimPrefix(v, "[]byte(")
	v = strings.TrimSuffix(v, ")")
	s, err := strconv.Unquote(v)
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// TestDerivedChecker is the differential test of the derived checker:
// over every fixture, example and fuzz input, the compiler gives the same
// diagnostics (texts, positions, order) and the same manifest with it as
// with CUE alone; and every object it accepts, CUE accepts.
func TestDerivedChecker(t *testing.T) {
	fast, slow := newTestCompiler(t), newCUEOnlyCompiler(t)
	accepted := 0
	for name, fsys := range differentialProjects(t) {
		got, want := mustCompile(t, fast, fsys), mustCompile(t, slow, fsys)
		if diff := cmp.Diff(want.Diagnostics, got.Diagnostics); diff != "" {
			t.Errorf("%s: diagnostics differ with the derived checker (-CUE +derived):\n%s", name, diff)
		}
		if (got.Manifest == nil) != (want.Manifest == nil) || got.Manifest != nil && got.Manifest.Hash != want.Manifest.Hash {
			t.Errorf("%s: manifests differ with the derived checker", name)
		}
		// Object by object: what the derived checker accepts, CUE accepts.
		l := load(context.Background(), fsys, DefaultLimits(), nil, &diagSink{})
		objs := l.objects
		if l.project != nil {
			objs = append(objs, object{kind: KindProject, node: l.project})
		}
		for _, o := range objs {
			if !slow.schema.derived[o.kind].accepts(o.node) {
				continue
			}
			accepted++
			issues, err, internal := slow.schema.validate(context.Background(), o.kind, o.node)
			if internal != nil || err != nil || len(issues) > 0 {
				t.Errorf("%s: %s %q: the derived checker accepts it, CUE does not: %v %v", name, o.kind, o.name, err, issues)
			}
		}
	}
	if accepted == 0 {
		t.Fatal("the derived checker accepted no object")
	}
}

// TestDerivedExact: every definition of the schema is one the derived
// checker can express, so no kind of object always needs CUE.
func TestDerivedExact(t *testing.T) {
	s := newTestCompiler(t).schema
	for kind, d := range s.derived {
		if !d.exact {
			t.Errorf("%s: the derived checker cannot express its definition", kind)
		}
	}
}

// leafValues are scalars to hold against every leaf of the schema: each
// enum value, pattern and bound is met, missed and straddled by some.
var leafValues = func() []*Node {
	var out []*Node
	for _, s := range []string{"", "x", "a", "A", "line", "bar", "funnel", "select", "hour", "year", "postgres", "duckdb",
		"-a", "-", "a-b", "Bad Name", "a b", "a/b", "sales/revenue", "/b", "EUR", "eur", "EURO", "30m", "1d", "0s", "30", "m",
		"${env:PASSWORD}", "${env:1X}", "$PASSWORD", "a@b", "a@@b", "@b", "a@", "latest", "skip", "drop", "png", "both",
		"previous_period", "number", "currency", "percent", "true", "time", "=", "!=", ">=", "in", "not_null", "==",
		"webhook", "slack", "email", "verify-full", "jwt", "a\x00", "\xff", "é", "_a", "a_1", "1a", "ab\n"} {
		out = append(out, &Node{Kind: KindString, Str: s})
	}
	for _, i := range []int64{0, 1, -1, 2, 10, 11, 12, 13, 99, 100, 101, 999, 1000, 1001, 65535, 65536, 1000000, 1000001, 1 << 40, -(1 << 62)} {
		out = append(out, &Node{Kind: KindInt, Int: i})
	}
	for _, f := range []float64{0, 0.5, -0.5, 1, 1.5, 1e-300, -1e-300, 1e300, 12.000001, 1000000.5} {
		out = append(out, &Node{Kind: KindFloat, Float: f})
	}
	return append(out, &Node{Kind: KindBool, Bool: true}, &Node{Kind: KindBool}, &Node{Kind: KindNull})
}()

// TestDerivedLeaves holds every scalar leaf of every definition against
// leafValues: the derived checker and CUE must agree on each, both ways.
func TestDerivedLeaves(t *testing.T) {
	s := newCUEOnlyCompiler(t).schema
	ctx := s.root.Context()
	checked := 0
	var visit func(path string, sh *shape, d *derived, depth int)
	visit = func(path string, sh *shape, d *derived, depth int) {
		if depth > 12 {
			return
		}
		switch {
		case len(sh.alts) > 0:
			for i, a := range sh.alts {
				visit(path+"|"+strconv.Itoa(i), a, d.alts[i], depth+1)
			}
			if sh.kinds&(cue.StructKind|cue.ListKind) != 0 {
				return
			}
		case sh.fields != nil:
			for _, name := range sh.names {
				visit(path+"."+name, sh.fields[name].shape, d.fields[name].d, depth+1)
			}
			if sh.pattern != nil {
				visit(path+".*", sh.pattern, d.pattern, depth+1)
			}
			return
		case sh.elem != nil:
			visit(path+"[]", sh.elem, d.elem, depth+1)
			return
		}
		for _, v := range leafValues {
			want := sh.value.Unify(ctx.Encode(v.Any())).Validate(cue.Concrete(true)) == nil
			if got := d.accepts(v); got && !want || !got && want && validUTF8(v) {
				t.Errorf("%s: %s: derived checker says %v, CUE %v", path, v.Describe(), got, want)
			}
			checked++
		}
	}
	for _, kind := range []Kind{KindProject, KindDataset, KindDashboard, KindAlert, KindReport} {
		visit(string(kind), s.shapes[kind], s.derived[kind], 0)
	}
	if checked < 1000 {
		t.Fatalf("only %d leaf checks", checked)
	}
}

// validUTF8: the derived checker leaves strings that are not UTF-8 to CUE.
func validUTF8(n *Node) bool { return n.Kind != KindString || strings.ToValidUTF8(n.Str, "") == n.Str }
