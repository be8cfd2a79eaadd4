package compiler

import (
	"fmt"
	"io/fs"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"
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

// loadCUE evaluates all CUE files as one package, so users can share
// definitions across files, and turns each object into a Node tree.
func loadCUE(fsys fs.FS, files []string, l *loaded, sink *diagSink) {
	ctx := cuecontext.New()
	inst := build.NewContext().NewInstance(".", nil)
	parseFailed := false
	for _, name := range files {
		src, ok := readFile(fsys, name, l, sink)
		if !ok {
			continue
		}
		f, err := parser.ParseFile(name, src, parser.ParseComments)
		if err != nil {
			reportCUEErrors(err, sink, CodeSyntax, "invalid CUE: ", Pos{File: name})
			parseFailed = true
			continue
		}
		if err := inst.AddSyntax(f); err != nil {
			reportCUEErrors(err, sink, CodeSyntax, "", Pos{File: name})
		}
	}
	if inst.Err != nil {
		reportCUEErrors(inst.Err, sink, CodeSyntax, "", Pos{File: files[0]})
		return
	}
	if parseFailed {
		// Evaluating what is left would only report what is missing.
		return
	}
	v := ctx.BuildInstance(inst)
	// Errors inside one object are reported with that object below, so the
	// rest of the project is still checked.
	it, err := v.Fields()
	if err != nil {
		reportCUEErrors(err, sink, CodeInvalid, "", Pos{File: files[0]})
		return
	}
	known := append([]string{"project"}, sortedKeys(cueSections)...)
	for it.Next() {
		key := it.Selector().Unquoted()
		fv := it.Value()
		if err := fv.Validate(cue.Concrete(true), cue.All()); err != nil {
			// The user's own CUE does not evaluate; report it and check the
			// objects that do.
			if key == "project" || fv.Err() != nil {
				reportCUEErrors(err, sink, CodeInvalid, "", orFile(cuePos(fv.Pos()), files[0]))
				continue
			}
		}
		if key == "project" {
			if l.project != nil {
				sink.errorf(cuePos(fv.Pos()), CodeDuplicate, "the project is defined twice: in %s and here", l.project.Pos)
				continue
			}
			l.project = cueToNode(fv, 0)
			continue
		}
		kind, ok := cueSections[key]
		if !ok {
			sink.errorf(cuePos(fv.Pos()), CodeUnknownKey, "unknown top-level field %q in CUE files: expected %s (use _name or #Name for your own helpers)%s", key, joinOr(known), didYouMean(key, known))
			continue
		}
		objs, err := fv.Fields()
		if err != nil {
			reportCUEErrors(err, sink, CodeInvalid, "", orFile(cuePos(fv.Pos()), files[0]))
			continue
		}
		for objs.Next() {
			name := objs.Selector().Unquoted()
			if err := objs.Value().Validate(cue.Concrete(true), cue.All()); err != nil {
				reportCUEErrors(err, sink, CodeInvalid, "", orFile(cuePos(objs.Value().Pos()), files[0]))
				continue
			}
			n := cueToNode(objs.Value(), 0)
			if field := n.Get(string(kind)); field != nil && field.String() != name {
				sink.errorf(field.Pos, CodeInvalid, "%s %q sets %s: %q; the key names the object in CUE, so leave the field out or make it %q", kind, name, kind, field.String(), name)
				continue
			}
			if n.Kind == KindMap && n.Get(string(kind)) == nil {
				// The key names the object; the schema expects it as a field too.
				n.Keys = append([]string{string(kind)}, n.Keys...)
				n.Values = append([]*Node{{Kind: KindString, Str: name, Pos: n.Pos, KeyPos: n.Pos}}, n.Values...)
			}
			l.objects = append(l.objects, object{kind: kind, name: name, node: n})
		}
	}
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
		msg := prefix + strings.TrimSpace(fmt.Sprintf(format, args...))
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
			msg = strings.Join(path, ".") + ": " + msg
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

// cueToNode converts an evaluated CUE value to a Node tree, keeping positions.
func cueToNode(v cue.Value, depth int) *Node {
	n := &Node{Pos: cuePos(v.Pos())}
	n.KeyPos = n.Pos
	if depth > maxDepth {
		return n
	}
	switch v.Kind() {
	case cue.StructKind:
		n.Kind = KindMap
		it, err := v.Fields()
		if err != nil {
			return n
		}
		for it.Next() {
			n.Keys = append(n.Keys, it.Selector().Unquoted())
			n.Values = append(n.Values, cueToNode(it.Value(), depth+1))
		}
	case cue.ListKind:
		n.Kind = KindList
		n.Items = []*Node{}
		it, err := v.List()
		if err != nil {
			return n
		}
		for it.Next() {
			n.Items = append(n.Items, cueToNode(it.Value(), depth+1))
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
