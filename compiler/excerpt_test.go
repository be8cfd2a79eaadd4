package compiler

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQuoteAndBoundMessage(t *testing.T) {
	for _, tc := range []struct{ name, got, want string }{
		{"short", quote("revenue"), `"revenue"`},
		{"control", quote("a\x1b[31mb\u202e"), `"a\x1b[31mb\u202e"`},
		{"long", quote(strings.Repeat("é", 100)), `"` + strings.Repeat("é", maxExcerpt) + `…"`},
		{"invalid utf-8", excerpt("a\xffb", 10), `a\xffb`},
		{"cut", excerpt("abcdef", 3), "abc…"},
		{"message", boundMessage("key \x1b]0;title\a here"), `key \x1b]0;title\a here`},
		{"long message", boundMessage(strings.Repeat("m", 5000)), strings.Repeat("m", maxMessage) + "…"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

// TestWriteTextBoundsTheSourceLine: the line under a message is escaped
// and cut to a window around the column, with the caret still under it.
func TestWriteTextBoundsTheSourceLine(t *testing.T) {
	long := "title: " + strings.Repeat("a", 1000) + "X" + strings.Repeat("b", 1000)
	src := Sources{"f.yaml": []byte("first\n" + long + "\n\tx: \x1b[2Jy\nlast\n")}
	ds := Diagnostics{
		{Pos: Pos{File: "f.yaml", Line: 2, Col: 1008}, Message: "at X"},
		{Pos: Pos{File: "f.yaml", Line: 3, Col: 5}, Message: "at ESC"},
		{Pos: Pos{File: "f.yaml", Line: 4, Col: 6}, Message: "past the end"},
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, ds, src); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	if len(lines[1]) > maxSourceWidth+20 {
		t.Errorf("the source line is %d bytes long", len(lines[1]))
	}
	// The caret is under the X.
	text, under := []rune(lines[1]), []rune(lines[2])
	caret := strings.IndexRune(string(under), '^')
	if caret < 0 || caret >= len(text) || text[caret] != 'X' {
		t.Errorf("the caret is not under the X:\n%s\n%s", lines[1], lines[2])
	}
	want := []string{
		"f.yaml:3:5: error: at ESC",
		`    3 |  x: \x1b[2Jy`,
		"      |     ^",
		"f.yaml:4:6: error: past the end",
		"    4 | last",
		"      |      ^",
		"",
	}
	if diff := cmp.Diff(want, lines[3:]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	checkPrintable(t, buf.String())
}
