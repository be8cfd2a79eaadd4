package compiler

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Pos is a place in a project file. Line and Col start at 1; a zero Line
// means the whole file.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"column,omitempty"`
}

func (p Pos) String() string {
	switch {
	case p.File == "":
		return "-"
	case p.Line == 0:
		return p.File
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}

// Severity says whether a diagnostic fails a run.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// MarshalJSON writes the severity as its name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Diagnostic codes, stable for tools that read --format json.
const (
	CodeSyntax        = "syntax"
	CodeUnknownKey    = "unknown-key"
	CodeMissingKey    = "missing-key"
	CodeType          = "type"
	CodeInvalid       = "invalid-value"
	CodeUnknownRef    = "unknown-reference"
	CodeDuplicate     = "duplicate-name"
	CodeCycle         = "cycle"
	CodeEmptyProject  = "empty-project"
	CodeMissingFile   = "missing-file"
	CodeUnknownObject = "unknown-object"
	CodeLayout        = "layout"
)

// Diagnostic is one problem found in a project, at a position.
type Diagnostic struct {
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Message)
}

// Diagnostics is every problem of one run, sorted by position.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error; with strict, warnings count too.
func (ds Diagnostics) HasErrors(strict bool) bool {
	for _, d := range ds {
		if d.Severity == SeverityError || strict {
			return true
		}
	}
	return false
}

// Sort orders diagnostics so that a cause is read before what it causes,
// and drops exact repeats:
//
//  1. Files that did not load (a syntax error, or a file that cannot be
//     read) come first: the objects they would define are what others
//     refer to.
//  2. Then files in the order objects depend on each other: the project's
//     own files at the root (bic.yaml, root CUE files), then datasets/,
//     dashboards/, and alerts/ and reports/ last; any other path after
//     them. Files of the same rank go by path.
//  3. Within a file, errors come before warnings (a note about the
//     references an error left unchecked follows that error); each by
//     line, column and message.
func (ds Diagnostics) Sort() Diagnostics {
	unloaded := map[string]bool{}
	for _, d := range ds {
		if d.Severity == SeverityError && (d.Code == CodeSyntax || d.Code == CodeMissingFile) {
			unloaded[d.Pos.File] = true
		}
	}
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Pos.File != b.Pos.File {
			if unloaded[a.Pos.File] != unloaded[b.Pos.File] {
				return unloaded[a.Pos.File]
			}
			if ra, rb := fileRank(a.Pos.File), fileRank(b.Pos.File); ra != rb {
				return ra < rb
			}
			return a.Pos.File < b.Pos.File
		}
		if a.Severity != b.Severity {
			return a.Severity < b.Severity
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		return a.Message < b.Message
	})
	out := ds[:0]
	for i, d := range ds {
		if i > 0 && d == ds[i-1] {
			continue
		}
		out = append(out, d)
	}
	return out
}

// fileRank places a file in the order objects depend on each other: the
// project, datasets, dashboards, then alerts and reports.
func fileRank(file string) int {
	dir, _, nested := strings.Cut(file, "/")
	switch {
	case !nested:
		return 0
	case dir == "datasets":
		return 1
	case dir == "dashboards":
		return 2
	case dir == "alerts" || dir == "reports":
		return 3
	}
	return 4
}

// diagSink collects diagnostics; stages append to it instead of stopping.
type diagSink struct {
	list Diagnostics
}

func (s *diagSink) errorf(pos Pos, code, format string, args ...any) {
	s.list = append(s.list, Diagnostic{Pos: pos, Severity: SeverityError, Code: code, Message: boundMessage(fmt.Sprintf(format, args...))})
}

func (s *diagSink) errorCount() int {
	n := 0
	for _, d := range s.list {
		if d.Severity == SeverityError {
			n++
		}
	}
	return n
}

// positions returns the places of the diagnostics with code, so a later
// stage can tell what an earlier one reported.
func (s *diagSink) positions(code string) map[Pos]bool {
	out := map[Pos]bool{}
	for _, d := range s.list {
		if d.Code == code {
			out[d.Pos] = true
		}
	}
	return out
}

func (s *diagSink) warnf(pos Pos, code, format string, args ...any) {
	s.list = append(s.list, Diagnostic{Pos: pos, Severity: SeverityWarning, Code: code, Message: boundMessage(fmt.Sprintf(format, args...))})
}

// Sources maps a file name to its content, so diagnostics can show the line.
type Sources map[string][]byte

// WriteText prints diagnostics like a compiler: position, severity and
// message, then the source line with a caret under the column. Only the
// diagnostic's own line is shown, escaped and cut to a window around the
// column, so a hostile file cannot flood the output or reach the terminal.
func WriteText(w io.Writer, ds Diagnostics, src Sources) error {
	var b strings.Builder
	lines := newSourceLines(src)
	for _, d := range ds {
		fmt.Fprintf(&b, "%s: %s: %s\n", boundMessage(d.Pos.String()), d.Severity, boundMessage(d.Message))
		text, caret, ok := lines.excerpt(d.Pos.File, d.Pos.Line, d.Pos.Col)
		if !ok {
			continue
		}
		gutter := fmt.Sprintf("%5d | ", d.Pos.Line)
		fmt.Fprintf(&b, "%s%s\n", gutter, text)
		fmt.Fprintf(&b, "%s| %s^\n", strings.Repeat(" ", len(gutter)-2), strings.Repeat(" ", caret))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints diagnostics as one JSON array.
func WriteJSON(w io.Writer, ds Diagnostics) error {
	if ds == nil {
		ds = Diagnostics{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ds)
}

// WriteGitHub prints diagnostics as GitHub Actions workflow commands, which
// become annotations on a pull request's diff.
func WriteGitHub(w io.Writer, ds Diagnostics) error {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "::%s file=%s", d.Severity, escapeGitHubProperty(d.Pos.File))
		if d.Pos.Line > 0 {
			fmt.Fprintf(&b, ",line=%d,col=%d", d.Pos.Line, d.Pos.Col)
		}
		fmt.Fprintf(&b, ",title=bic %s::%s\n", d.Code, escapeGitHubData(d.Message))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// The escapes follow GitHub's workflow command rules.
func escapeGitHubData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeGitHubProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
