package compiler

import (
	"context"
	"fmt"
	"strings"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/scanner"
	"cuelang.org/go/cue/token"
)

// cueSections are the top-level fields of a project's CUE files and the
// kind of object each holds, keyed by name.
var cueSections = map[string]Kind{
	"datasets":   KindDataset,
	"dashboards": KindDashboard,
	"alerts":     KindAlert,
	"reports":    KindReport,
}

// cueFile is a CUE file as the loader read it: CUE never reads the disk
// itself (no cue/load, no imports but the standard library, no @embed).
type cueFile struct {
	name string
	src  []byte
}

// cueStep is the part of the CUE evaluation under way, for the message
// when it takes too long.
type cueStep struct {
	what string
	pos  Pos
}

// cueResult is what the CUE files add to the project.
type cueResult struct {
	project *Node
	objects []object
	sink    diagSink
	panic   any
}

// loadCUE evaluates all CUE files as one package, so users can share
// definitions across files, and turns each object into a Node tree.
//
// CUE cannot be interrupted, so the evaluation runs on a goroutine of its
// own that reports each step (a file, the package, an object). It is
// abandoned when ctx is done or a step takes longer than timeout: it then
// stops at its next step, and what it found is dropped.
func loadCUE(ctx context.Context, files []cueFile, timeout time.Duration, l *loaded, sink *diagSink) {
	progress := make(chan cueStep)
	abandon := make(chan struct{})
	done := make(chan *cueResult, 1)
	var projectAt *Pos
	if l.project != nil {
		p := l.project.Pos
		projectAt = &p
	}
	go func() {
		r := &cueResult{}
		defer func() {
			if p := recover(); p != nil {
				r.panic = withStack(p)
			}
			done <- r
		}()
		step := func(s cueStep) bool {
			select {
			case progress <- s:
				return true
			case <-abandon:
				return false
			}
		}
		evalCUE(files, projectAt, step, r)
	}()
	cur := cueStep{what: "the CUE files", pos: Pos{File: files[0].name}}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case r := <-done:
			if r.panic != nil {
				panic(r.panic)
			}
			sink.list = append(sink.list, r.sink.list...)
			if r.project != nil {
				l.project = r.project
			}
			l.objects = append(l.objects, r.objects...)
			return
		case s := <-progress:
			cur = s
			timer.Reset(timeout)
		case <-ctx.Done():
			close(abandon)
			return
		case <-timer.C:
			close(abandon)
			sink.errorf(cur.pos, CodeLimit, "CUE: evaluating %s took more than %s and was stopped: a comprehension or a list too large?", cur.what, timeout)
			return
		}
	}
}

// maxCUEValues bounds the values of all objects the CUE files define, as
// maxAliasValues bounds what YAML aliases expand to.
const maxCUEValues = 4_000_000

// evalCUE does the work of loadCUE; step reports progress and returns
// false when the evaluation is abandoned.
func evalCUE(files []cueFile, projectAt *Pos, step func(cueStep) bool, r *cueResult) {
	sink := &r.sink
	ctx := cuecontext.New()
	inst := build.NewContext().NewInstance(".", nil)
	parseFailed := false
	for _, file := range files {
		if !step(cueStep{what: file.name, pos: Pos{File: file.name}}) {
			return
		}
		if lexCUE(file, sink) {
			parseFailed = true
			continue
		}
		f, err := parser.ParseFile(file.name, file.src, parser.ParseComments)
		if err != nil {
			reportCUEErrors(err, sink, CodeSyntax, "invalid CUE: ", Pos{File: file.name})
			parseFailed = true
			continue
		}
		if err := inst.AddSyntax(f); err != nil {
			reportCUEErrors(err, sink, CodeSyntax, "", Pos{File: file.name})
		}
	}
	first := files[0].name
	if inst.Err != nil {
		reportCUEErrors(inst.Err, sink, CodeSyntax, "", Pos{File: first})
		return
	}
	if parseFailed {
		// Evaluating what is left would only report what is missing.
		return
	}
	if !step(cueStep{what: "the CUE package", pos: Pos{File: first}}) {
		return
	}
	v := ctx.BuildInstance(inst)
	// Errors inside one object are reported with that object below, so the
	// rest of the project is still checked.
	it, err := v.Fields()
	if err != nil {
		reportCUEErrors(err, sink, CodeInvalid, "", Pos{File: first})
		return
	}
	known := append([]string{"project"}, sortedKeys(cueSections)...)
	conv := &cueConverter{budget: maxCUEValues}
	for it.Next() {
		key := it.Selector().Unquoted()
		fv := it.Value()
		if !step(cueStep{what: excerpt(key, maxExcerpt), pos: orFile(cuePos(fv.Pos()), first)}) {
			return
		}
		if err := fv.Validate(cue.Concrete(true), cue.All()); err != nil {
			// The user's own CUE does not evaluate; report it and check the
			// objects that do.
			if key == "project" || fv.Err() != nil {
				reportCUEErrors(err, sink, CodeInvalid, "", orFile(cuePos(fv.Pos()), first))
				continue
			}
		}
		if key == "project" {
			if projectAt != nil {
				sink.errorf(cuePos(fv.Pos()), CodeDuplicate, "the project is defined twice: in %s and here", *projectAt)
				continue
			}
			if n, ok := conv.node(fv, "project", sink); ok {
				r.project = n
			}
			continue
		}
		kind, ok := cueSections[key]
		if !ok {
			sink.errorf(cuePos(fv.Pos()), CodeUnknownKey, "unknown top-level field %s in CUE files: expected %s (use _name or #Name for your own helpers)%s", quote(key), joinOr(known), didYouMean(key, known))
			continue
		}
		objs, err := fv.Fields()
		if err != nil {
			reportCUEErrors(err, sink, CodeInvalid, "", orFile(cuePos(fv.Pos()), first))
			continue
		}
		for objs.Next() {
			name := objs.Selector().Unquoted()
			ov := objs.Value()
			if !step(cueStep{what: key + "." + excerpt(name, maxExcerpt), pos: orFile(cuePos(ov.Pos()), first)}) {
				return
			}
			if err := ov.Validate(cue.Concrete(true), cue.All()); err != nil {
				reportCUEErrors(err, sink, CodeInvalid, "", orFile(cuePos(ov.Pos()), first))
				continue
			}
			n, ok := conv.node(ov, key+"."+name, sink)
			if !ok {
				continue
			}
			if field := n.Get(string(kind)); field != nil && field.String() != name {
				sink.errorf(field.Pos, CodeInvalid, "%s %s sets %s: %s; the key names the object in CUE, so leave the field out or make it %s", kind, quote(name), kind, quote(field.String()), quote(name))
				continue
			}
			if n.Kind == KindMap && n.Get(string(kind)) == nil {
				// The key names the object; the schema expects it as a field too.
				n.Keys = append([]string{string(kind)}, n.Keys...)
				n.Values = append([]*Node{{Kind: KindString, Str: name, Pos: n.Pos, KeyPos: n.Pos}}, n.Values...)
			}
			r.objects = append(r.objects, newObject(kind, name, n))
		}
	}
}

// maxCUESyntaxErrors is how many errors of the CUE scanner a file may have
// before it is not parsed: CUE's parser takes time that grows with the
// square of their number (a line of 40,000 stray bytes took 8 s).
const maxCUESyntaxErrors = 10

// lexCUE scans file and, when it has more than maxCUESyntaxErrors errors
// (illegal characters, strings without an end: a binary file), reports
// the first and returns true.
func lexCUE(file cueFile, sink *diagSink) bool {
	type lexError struct {
		pos Pos
		msg string
	}
	var errs []lexError
	var s scanner.Scanner
	s.Init(token.NewFile(file.name, -1, len(file.src)), file.src, func(p token.Pos, msg string, args []any) {
		if len(errs) <= maxCUESyntaxErrors {
			errs = append(errs, lexError{pos: cuePos(p), msg: fmt.Sprintf(msg, excerptArgs(args)...)})
		}
	}, scanner.ScanComments)
	// An interpolation's expression is scanned as tokens, up to the ')'
	// that closes it; then the string goes on, as the parser drives it.
	var open []int // the parenthesis depth at which each open interpolation closes
	depth := 0
	for len(errs) <= maxCUESyntaxErrors {
		_, tok, lit := s.Scan()
		switch tok {
		case token.INTERPOLATION:
			if strings.HasSuffix(lit, "(") {
				open = append(open, depth)
			}
		case token.LPAREN:
			depth++
		case token.RPAREN:
			depth--
			if n := len(open); n > 0 && depth == open[n-1] {
				open = open[:n-1]
				if strings.HasSuffix(s.ResumeInterpolation(), "(") {
					open = append(open, depth)
				}
			}
		}
		if tok == token.EOF {
			break
		}
	}
	if len(errs) <= maxCUESyntaxErrors {
		return false
	}
	sink.errorf(orFile(errs[0].pos, file.name), CodeSyntax, "invalid CUE: %s; the file has more than %d such errors and is not read further", errs[0].msg, maxCUESyntaxErrors)
	return true
}

func cuePos(p token.Pos) Pos {
	if !p.IsValid() {
		return Pos{}
	}
	return Pos{File: p.Filename(), Line: p.Line(), Col: p.Column()}
}

func reportCUEErrors(err error, sink *diagSink, code, prefix string, fallback Pos) {
	for _, e := range cueerrors.Errors(err) {
		format, args := e.Msg()
		msg := prefix + strings.TrimSpace(fmt.Sprintf(format, excerptArgs(args)...))
		pos := cuePos(e.Position())
		if !pos.isSet() {
			for _, p := range cueerrors.Positions(e) {
				if pos = cuePos(p); pos.isSet() {
					break
				}
			}
		}
		if !pos.isSet() {
			pos = fallback
		}
		if path := e.Path(); len(path) > 0 {
			msg = excerptPath(path) + ": " + msg
		}
		// A conflict has two sides; name the other places too.
		var others []string
		for _, p := range cueerrors.Positions(e) {
			if op := cuePos(p); op.isSet() && op != pos {
				others = append(others, op.String())
			}
		}
		if len(others) > 0 {
			msg += " (see also " + strings.Join(dedupe(others), ", ") + ")"
		}
		sink.errorf(pos, code, "%s", msg)
	}
}

func (p Pos) isSet() bool { return p.File != "" }

// orFile is p, or the whole of file when CUE gave no position.
func orFile(p Pos, file string) Pos {
	if p.isSet() {
		return p
	}
	return Pos{File: file}
}

// excerptArgs cuts the values in a CUE message's arguments short.
func excerptArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case string:
			out[i] = excerpt(a, maxExcerpt)
		case fmt.Stringer:
			out[i] = excerpt(a.String(), maxExcerpt)
		default:
			out[i] = a
		}
	}
	return out
}

// excerptPath joins a CUE path for a message, each part cut short.
func excerptPath(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = excerpt(p, maxExcerpt)
	}
	return strings.Join(parts, ".")
}

// cueConverter converts evaluated CUE values to Node trees, within a
// budget of values for all of them: a comprehension can make millions.
type cueConverter struct {
	budget int
}

// node converts the object v, named what, or reports that it is too large.
func (c *cueConverter) node(v cue.Value, what string, sink *diagSink) (*Node, bool) {
	n := c.convert(v, 0)
	if c.budget < 0 {
		sink.errorf(cuePos(v.Pos()), CodeLimit, "CUE: %s makes the CUE files define more than %d values; it is not read", excerpt(what, 2*maxExcerpt), maxCUEValues)
		return nil, false
	}
	return n, true
}

// convert turns an evaluated CUE value into a Node tree, keeping positions.
func (c *cueConverter) convert(v cue.Value, depth int) *Node {
	n := &Node{Pos: cuePos(v.Pos())}
	n.KeyPos = n.Pos
	if c.budget--; depth > maxDepth || c.budget < 0 {
		return n
	}
	switch v.Kind() {
	case cue.StructKind:
		n.Kind = KindMap
		it, err := v.Fields()
		if err != nil {
			return n
		}
		for it.Next() && c.budget >= 0 {
			n.Keys = append(n.Keys, it.Selector().Unquoted())
			n.Values = append(n.Values, c.convert(it.Value(), depth+1))
		}
	case cue.ListKind:
		n.Kind = KindList
		n.Items = []*Node{}
		it, err := v.List()
		if err != nil {
			return n
		}
		for it.Next() && c.budget >= 0 {
			n.Items = append(n.Items, c.convert(it.Value(), depth+1))
		}
	case cue.StringKind:
		n.Kind = KindString
		n.Str, _ = v.String()
	case cue.IntKind:
		n.Kind = KindInt
		if i, err := v.Int64(); err == nil {
			n.Int = i
		} else {
			n.Kind = KindFloat
			n.Float, _ = v.Float64()
		}
	case cue.FloatKind:
		n.Kind = KindFloat
		n.Float, _ = v.Float64()
	case cue.BoolKind:
		n.Kind = KindBool
		n.Bool, _ = v.Bool()
	}
	return n
}
