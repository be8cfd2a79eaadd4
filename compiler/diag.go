package compiler

import (
	"bytes"
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

// Sort orders diagnostics by file, line, column and message, and drops exact repeats.
func (ds Diagnostics) Sort() Diagnostics {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
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

// diagSink collects diagnostics; stages append to it instead of stopping.
type diagSink struct {
	list Diagnostics
}

func (s *diagSink) errorf(pos Pos, code, format string, args ...any) {
	s.list = append(s.list, Diagnostic{Pos: pos, Severity: SeverityError, Code: code, Message: fmt.Sprintf(format, args...)})
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

func (s *diagSink) warnf(pos Pos, code, format string, args ...any) {
	s.list = append(s.list, Diagnostic{Pos: pos, Severity: SeverityWarning, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Sources maps a file name to its content, so diagnostics can show the line.
type Sources map[string][]byte

// line returns line n (1-based) of file, without its newline.
func (s Sources) line(file string, n int) (string, bool) {
	src, ok := s[file]
	if !ok || n < 1 {
		return "", false
	}
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return "", false
		}
		src = src[j+1:]
	}
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	return strings.TrimRight(string(src), "\r"), true
}

// WriteText prints diagnostics like a compiler: position, severity and
// message, then the source line with a caret under the column.
func WriteText(w io.Writer, ds Diagnostics, src Sources) error {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%s: %s: %s\n", d.Pos, d.Severity, d.Message)
		text, ok := src.line(d.Pos.File, d.Pos.Line)
		if !ok || d.Pos.Line == 0 {
			continue
		}
		text = strings.ReplaceAll(text, "\t", " ")
		gutter := fmt.Sprintf("%5d | ", d.Pos.Line)
		fmt.Fprintf(&b, "%s%s\n", gutter, text)
		col := d.Pos.Col
		if col < 1 {
			col = 1
		}
		fmt.Fprintf(&b, "%s| %s^\n", strings.Repeat(" ", len(gutter)-2), strings.Repeat(" ", col-1))
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
