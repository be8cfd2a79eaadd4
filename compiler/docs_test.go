package compiler

// TestDocExamples compiles the examples of docs/language.md, so that the
// language reference cannot drift from the compiler.
//
// Every ```yaml and ```cue block of the page must be marked with an HTML
// comment, alone on the last non-blank line before its opening fence, which
// says how the block is checked:
//
//	<!-- bic:check MODE [ARG] -->
//
// Modes:
//
//	project NAME  The block is a whole file of project NAME; its path is named
//	              on its first line ("# datasets/orders.yaml" or
//	              "// bic.cue"; text after a ':' that follows the path is a
//	              comment). The blocks of a project are compiled together and
//	              must give no diagnostic, not even a warning. Project "doc"
//	              is the base of the modes below.
//	file [PATH]   A whole file laid over project "doc", at PATH, or at the
//	              path named on the block's first line. No diagnostics.
//	invalid [PATH]
//	              As file, but the result must be errors: exactly those shown by
//	              the "output" blocks that follow it, of which there is at
//	              least one.
//	output FORMAT The block (of any language) is what bic validate --format
//	              FORMAT prints for the last "invalid" block: text (with the
//	              count line), json or github.
//	connections   Entries inserted under "connections:" in project doc's
//	              bic.yaml. No diagnostics.
//	dashboard     Top-level keys of a dashboard (filters:, charts:, ...),
//	              wrapped as "dashboard: doc_LINE" with a title, in project
//	              doc. Without a charts: key, a table chart on dataset orders
//	              (metric orders) is added for the filters to apply to. No
//	              diagnostics.
//	chart         Keys of a chart (where:, ...), wrapped in a table chart on
//	              dataset orders (metric orders) of such a dashboard. No
//	              diagnostics.
//	layout PATH   Replaces the layout: key, which must be the file's last, of
//	              project doc's file PATH. No diagnostics.
//	skip REASON   Not checked.
//
// Every project gets the duckdb files of docDataFiles. Blocks of other
// languages (text, sh, json) need no marker; a marker before one must be
// "output" or "skip". The line numbers in failures are those of the page.

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

const docPath = "../docs/language.md"

// docDataFiles are the files the examples' duckdb connections name: they
// must exist, and their content is not read when compiling.
var docDataFiles = map[string]string{
	"data/orders.csv":    "order_id,ordered_at,amount\n",
	"data/customers.csv": "customer_id,signed_up_at\n",
}

// docBlock is one fenced block of the page.
type docBlock struct {
	line   int    // the line of the opening fence, 1-based
	lang   string // yaml, cue, text, ...
	body   string // the lines between the fences, each ending in \n
	mode   string // the marker's mode; "" without a marker
	arg    string // the rest of the marker
	marked bool
}

var (
	fenceRE  = regexp.MustCompile("^( *)```([A-Za-z0-9_-]*)\\s*$")
	markerRE = regexp.MustCompile(`^<!--\s*bic:check\s+(\S+)\s*(.*?)\s*-->$`)
	pathRE   = regexp.MustCompile(`^(?:#|//)\s*([A-Za-z0-9_./-]+\.(?:ya?ml|cue)):?(?:\s|$)`)
	chartsRE = regexp.MustCompile(`(?m)^charts:`)
	topKeyRE = regexp.MustCompile(`(?m)^\S`)
)

// parseDocBlocks splits markdown into its fenced blocks, with the marker
// found on the last non-blank line before each.
func parseDocBlocks(src string) ([]docBlock, error) {
	lines := strings.Split(src, "\n")
	var blocks []docBlock
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		b := docBlock{line: i + 1, lang: m[2]}
		indent := m[1]
		for k := i - 1; k >= 0; k-- {
			prev := strings.TrimSpace(lines[k])
			if prev == "" {
				continue
			}
			if mm := markerRE.FindStringSubmatch(prev); mm != nil {
				b.marked, b.mode, b.arg = true, mm[1], mm[2]
			}
			break
		}
		var body strings.Builder
		closed := false
		for i++; i < len(lines); i++ {
			if strings.TrimSpace(lines[i]) == "```" {
				closed = true
				break
			}
			body.WriteString(strings.TrimPrefix(lines[i], indent))
			body.WriteString("\n")
		}
		if !closed {
			return nil, fmt.Errorf("%s:%d: the block is not closed", docPath, b.line)
		}
		b.body = body.String()
		blocks = append(blocks, b)
	}
	return blocks, nil
}

// firstLinePath is the path a block names on its first line, if any.
func firstLinePath(body string) string {
	first, _, _ := strings.Cut(body, "\n")
	if m := pathRE.FindStringSubmatch(first); m != nil {
		return m[1]
	}
	return ""
}

func docProjectFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range docDataFiles {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

// docOutput prints diagnostics as bic validate --format does; text ends
// with the count line that the command adds when there are any.
func docOutput(t *testing.T, format string, res Result) string {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "text":
		err = WriteText(&buf, res.Diagnostics, res.Sources)
		if n := len(res.Diagnostics); n > 0 {
			errs := 0
			for _, d := range res.Diagnostics {
				if d.Severity == SeverityError {
					errs++
				}
			}
			fmt.Fprintf(&buf, "%d error(s), %d warning(s)\n", errs, n-errs)
		}
	case "json":
		err = WriteJSON(&buf, res.Diagnostics)
	case "github":
		err = WriteGitHub(&buf, res.Diagnostics)
	default:
		t.Fatalf("unknown output format %q: expected text, json or github", format)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestDocExamples(t *testing.T) {
	src, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parseDocBlocks(string(src))
	if err != nil {
		t.Fatal(err)
	}
	c := newTestCompiler(t)
	where := func(b docBlock) string { return fmt.Sprintf("%s:%d", docPath, b.line) }

	// First the projects, since the other blocks are laid over project doc.
	projects := map[string]map[string]string{}
	var projectNames []string
	for _, b := range blocks {
		if b.mode != "project" {
			continue
		}
		path := firstLinePath(b.body)
		if path == "" || b.arg == "" {
			t.Errorf("%s: a project block needs a project name and its path on its first line", where(b))
			continue
		}
		if projects[b.arg] == nil {
			projects[b.arg] = map[string]string{}
			projectNames = append(projectNames, b.arg)
		}
		if _, dup := projects[b.arg][path]; dup {
			t.Errorf("%s: project %s has two blocks for %s", where(b), b.arg, path)
		}
		projects[b.arg][path] = b.body
	}
	doc := projects["doc"]
	if doc == nil {
		t.Fatalf("%s: no block is marked <!-- bic:check project doc -->", docPath)
	}
	for _, name := range projectNames {
		t.Run("project_"+name, func(t *testing.T) {
			requireClean(t, fmt.Sprintf("%s: project %s", docPath, name), mustCompile(t, c, docProjectFS(projects[name])))
		})
	}

	// overDoc is project doc with files replaced or added.
	overDoc := func(extra map[string]string) fstest.MapFS {
		files := map[string]string{}
		for k, v := range doc {
			files[k] = v
		}
		for k, v := range extra {
			files[k] = v
		}
		return docProjectFS(files)
	}

	var (
		lastInvalid   *Result
		invalidBlock  docBlock
		invalidChecks int
		checked       int
	)
	finishInvalid := func() {
		if lastInvalid != nil && invalidChecks == 0 {
			t.Errorf("%s: an invalid example needs an output block after it", where(invalidBlock))
		}
		lastInvalid, invalidChecks = nil, 0
	}
	for _, b := range blocks {
		if b.lang != "yaml" && b.lang != "cue" {
			switch {
			case !b.marked, b.mode == "skip":
			case b.mode == "output":
				if lastInvalid == nil {
					t.Errorf("%s: an output block must follow an invalid example", where(b))
					continue
				}
				res := *lastInvalid
				invalidChecks++
				t.Run(fmt.Sprintf("line%d_output_%s", b.line, b.arg), func(t *testing.T) {
					got := docOutput(t, b.arg, res)
					if diff := cmp.Diff(b.body, got); diff != "" {
						t.Errorf("%s: bic validate --format %s prints something else (-doc +compiler):\n%s", where(b), b.arg, diff)
					}
				})
			default:
				t.Errorf("%s: a %s block can only be marked output or skip, found %q", where(b), b.lang, b.mode)
			}
			continue
		}
		if !b.marked {
			t.Errorf("%s: %s block without a <!-- bic:check ... --> marker; see compiler/docs_test.go", where(b), b.lang)
			continue
		}
		if b.mode == "project" {
			checked++
			continue
		}
		finishInvalid()
		name := fmt.Sprintf("line%d_%s", b.line, b.mode)
		wrapped := fmt.Sprintf("dashboard: doc_%d\ntitle: Doc\n", b.line)
		const docChart = "  - name: doc\n    type: table\n    dataset: orders\n    metrics: [orders]\n"
		var fsys fstest.MapFS
		switch b.mode {
		case "skip":
			continue
		case "file", "invalid":
			path := b.arg
			if path == "" {
				path = firstLinePath(b.body)
			}
			if path == "" {
				t.Errorf("%s: give the file's path in the marker or on the block's first line", where(b))
				continue
			}
			if _, ok := doc[path]; ok {
				t.Errorf("%s: %s is already a file of project doc", where(b), path)
				continue
			}
			fsys = overDoc(map[string]string{path: b.body})
		case "connections":
			bic, ok := doc["bic.yaml"]
			if !ok || !strings.Contains(bic, "\nconnections:\n") {
				t.Errorf("%s: project doc has no bic.yaml with a connections: key", where(b))
				continue
			}
			fsys = overDoc(map[string]string{"bic.yaml": strings.Replace(bic, "\nconnections:\n", "\nconnections:\n"+b.body, 1)})
		case "dashboard":
			body := wrapped + b.body
			if !chartsRE.MatchString(b.body) {
				body += "charts:\n" + docChart
			}
			fsys = overDoc(map[string]string{fmt.Sprintf("dashboards/doc_%d.yaml", b.line): body})
		case "chart":
			var ind strings.Builder
			for _, l := range strings.SplitAfter(b.body, "\n") {
				if strings.TrimSpace(l) != "" {
					ind.WriteString("    ")
				}
				ind.WriteString(l)
			}
			body := wrapped + "charts:\n" + docChart + ind.String()
			fsys = overDoc(map[string]string{fmt.Sprintf("dashboards/doc_%d.yaml", b.line): body})
		case "layout":
			file, ok := doc[b.arg]
			i := strings.Index(file, "\nlayout:\n")
			if !ok || i < 0 {
				t.Errorf("%s: project doc has no file %q with a layout: key", where(b), b.arg)
				continue
			}
			if rest := file[i+len("\nlayout:\n"):]; topKeyRE.MatchString(rest) {
				t.Errorf("%s: layout: must be the last key of %s", where(b), b.arg)
				continue
			}
			fsys = overDoc(map[string]string{b.arg: file[:i+1] + b.body})
		default:
			t.Errorf("%s: unknown bic:check mode %q", where(b), b.mode)
			continue
		}
		checked++
		res := mustCompile(t, c, fsys)
		if b.mode == "invalid" {
			if !res.Diagnostics.HasErrors(false) {
				t.Errorf("%s: the invalid example compiles without errors", where(b))
			}
			lastInvalid, invalidBlock = &res, b
			continue
		}
		t.Run(name, func(t *testing.T) { requireClean(t, where(b), res) })
	}
	finishInvalid()
	if checked == 0 {
		t.Fatal("no example was checked")
	}
}

// requireClean fails on any diagnostic, printed as bic validate prints it.
func requireClean(t *testing.T, where string, res Result) {
	t.Helper()
	if len(res.Diagnostics) > 0 {
		var buf bytes.Buffer
		_ = WriteText(&buf, res.Diagnostics, res.Sources)
		t.Fatalf("%s: the example does not compile cleanly:\n%s", where, buf.String())
	}
	if res.Manifest == nil {
		t.Fatalf("%s: no manifest", where)
	}
}
