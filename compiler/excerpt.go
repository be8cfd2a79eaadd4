package compiler

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A project is untrusted input (a pull request's files), and its values
// reach terminals and CI logs through messages. Messages therefore quote a
// short excerpt of a value, never all of it, and escape every control
// character, so a file cannot flood a log or send escape sequences to a
// terminal.
const (
	// maxExcerpt is how many runes of a value a message quotes.
	maxExcerpt = 48
	// maxMessage bounds a whole message, whatever its arguments.
	maxMessage = 1000
	// maxSourceWidth is about how many columns of a source line WriteText
	// shows around the caret.
	maxSourceWidth = 200
)

// excerpt is s cut to n runes, with "…" when cut, and with control
// characters and invalid UTF-8 escaped as Go does (\x1b, \n, \u202e).
func excerpt(s string, n int) string {
	var b strings.Builder
	runes := 0
	for i := 0; i < len(s); {
		if runes == n {
			b.WriteString("…")
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteString(escapeRune(r, s[i:i+size]))
		i += size
		runes++
	}
	return b.String()
}

// quote is a message's way of naming a value: double-quoted, escaped, at
// most maxExcerpt runes.
func quote(s string) string { return quoteN(s, maxExcerpt) }

// quoteN is quote with room for n runes.
func quoteN(s string, n int) string {
	cut := false
	runes := 0
	for i := range s {
		if runes == n {
			s, cut = s[:i], true
			break
		}
		runes++
	}
	q := strconv.Quote(s)
	if cut {
		q = q[:len(q)-1] + `…"`
	}
	return q
}

// escapeRune returns r as it is when printable, else its Go escape; raw is
// the bytes r was decoded from, for invalid UTF-8.
func escapeRune(r rune, raw string) string {
	switch {
	case r == utf8.RuneError && len(raw) == 1:
		return fmt.Sprintf(`\x%02x`, raw[0])
	case r == ' ' || unicode.IsPrint(r):
		return raw
	default:
		q := strconv.QuoteRune(r) // '\x1b', '\n', '\u202e'
		return q[1 : len(q)-1]
	}
}

// boundMessage escapes the control characters of a formatted message and
// cuts it to maxMessage runes.
func boundMessage(msg string) string {
	clean := true
	for _, r := range msg {
		if r == utf8.RuneError || r != ' ' && !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean && len(msg) <= maxMessage {
		return msg
	}
	return excerpt(msg, maxMessage)
}

// sourceLines finds source lines for WriteText. It indexes each file's
// lines once, and the runes of each long line, so that many diagnostics
// in a large file (or on one long line) do not each read it from the start.
type sourceLines struct {
	src    Sources
	starts map[string][]int // byte offsets of each line's start
	// runes holds, for a long line, the byte offset of every runeStep-th rune.
	runes map[Pos][]int
}

const runeStep = 1024

func newSourceLines(src Sources) *sourceLines {
	return &sourceLines{src: src, starts: map[string][]int{}, runes: map[Pos][]int{}}
}

// line returns line n (1-based) of file, without its line ending.
func (sl *sourceLines) line(file string, n int) ([]byte, bool) {
	src, ok := sl.src[file]
	if !ok || n < 1 {
		return nil, false
	}
	starts, ok := sl.starts[file]
	if !ok {
		starts = []int{0}
		for i, c := range src {
			if c == '\n' {
				starts = append(starts, i+1)
			}
		}
		sl.starts[file] = starts
	}
	if n > len(starts) {
		return nil, false
	}
	end := len(src)
	if n < len(starts) {
		end = starts[n] - 1
	}
	return bytes.TrimRight(src[starts[n-1]:end], "\r"), true
}

// excerpt is the text and caret offset WriteText prints for line n of file
// at column col (1-based, in runes).
func (sl *sourceLines) excerpt(file string, n, col int) (string, int, bool) {
	line, ok := sl.line(file, n)
	if !ok {
		return "", 0, false
	}
	at := max(col-1, 0)
	// Find the column's byte offset, then cut a window of runes around it.
	off, r := 0, 0
	if len(line) > runeStep {
		key := Pos{File: file, Line: n}
		marks, ok := sl.runes[key]
		if !ok {
			for i := range string(line) {
				if r%runeStep == 0 {
					marks = append(marks, i)
				}
				r++
			}
			sl.runes[key] = marks
		}
		k := min(at/runeStep, len(marks)-1)
		off, r = marks[k], k*runeStep
	}
	for r < at && off < len(line) {
		_, size := utf8.DecodeRune(line[off:])
		off += size
		r++
	}
	past := at - r // columns beyond the end of the line
	lo, hi := off, off
	for k := 0; k < maxSourceWidth && lo > 0; k++ {
		_, size := utf8.DecodeLastRune(line[:lo])
		lo -= size
	}
	for k := 0; k < maxSourceWidth && hi < len(line); k++ {
		_, size := utf8.DecodeRune(line[hi:])
		hi += size
	}
	text, caret := sourceExcerpt(string(line[lo:hi]), utf8.RuneCount(line[lo:off])+past+1, lo > 0, hi < len(line))
	return text, caret, true
}

// sourceExcerpt prepares a source line for printing under a message: control
// characters escaped, tabs as one space, and a line wider than
// maxSourceWidth cut to a window around col (1-based, counted in runes)
// with "…" where it was cut. moreBefore and moreAfter say that line is
// itself cut from a longer one. It returns the text and the caret's offset
// in it.
func sourceExcerpt(line string, col int, moreBefore, moreAfter bool) (string, int) {
	var pieces []string
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		p := line[i : i+size]
		if r == '\t' {
			p = " "
		} else {
			p = escapeRune(r, p)
		}
		pieces = append(pieces, p)
		i += size
	}
	at := min(max(col-1, 0), len(pieces))
	width := func(p string) int { return utf8.RuneCountInString(p) }
	// Take up to half the width before the caret, then fill after it, then
	// give what is left over to the part before.
	lo, hi, used := at, at, 0
	for lo > 0 && used+width(pieces[lo-1]) <= maxSourceWidth/2 {
		lo--
		used += width(pieces[lo])
	}
	for hi < len(pieces) && used+width(pieces[hi]) <= maxSourceWidth {
		used += width(pieces[hi])
		hi++
	}
	for lo > 0 && used+width(pieces[lo-1]) <= maxSourceWidth {
		lo--
		used += width(pieces[lo])
	}
	var b strings.Builder
	caret := 0
	if lo > 0 || moreBefore {
		b.WriteString("…")
		caret = 1
	}
	for i := lo; i < hi; i++ {
		if i < at {
			caret += width(pieces[i])
		}
		b.WriteString(pieces[i])
	}
	if hi < len(pieces) || moreAfter {
		b.WriteString("…")
	}
	if col-1 > len(pieces) {
		// The column is past the end of the line (CUE reports EOF so).
		caret += min(col-1-len(pieces), maxSourceWidth/2)
	}
	return b.String(), caret
}
