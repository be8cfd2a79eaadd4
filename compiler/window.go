package compiler

import (
	"context"
	"fmt"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/errors"
)

// cueWindow is how many list items or mapping keys of one list or mapping
// are unified with the schema at once. CUE's unification slows down with
// the square of a list's length (20,000 charts take seconds, 150,000
// minutes), so a longer list or mapping is checked a window at a time.
// The schema has no constraint between the items of a list, so checking
// them apart finds the same errors.
const cueWindow = 256

// cueIssue is one complaint of CUE about a value of an object, at its path
// in the object's Node tree.
type cueIssue struct {
	path []any
	msg  string
}

// cuePass is one unification of a windowed view of an object. The first
// pass shows the first window of every large list and mapping; each later
// one shows window win of the large list or mapping at target, with what
// leads to it, and reports only what is inside it.
type cuePass struct {
	first  bool
	target []any
	win    int
}

// validate unifies n with the definition of kind and returns CUE's
// complaints, and the first error CUE returned, for a message that has no
// path; internal is an error of the compiler itself. The passes of a large object run on every core, each on a worker
// of its own; the caller must not hold a worker, or two checks could wait
// for each other's.
func (s *Schema) validate(ctx context.Context, kind Kind, n *Node) (issues []cueIssue, firstErr, internal error) {
	seen := map[string]bool{}
	round := []cuePass{{first: true}}
	for len(round) > 0 && ctx.Err() == nil {
		results := make([]cuePassResult, len(round))
		run := func(i int) {
			w, err := s.worker()
			if err != nil {
				results[i].internal = err
				return
			}
			results[i] = w.runPass(kind, n, round[i])
			s.workers <- w
		}
		if len(round) == 1 {
			run(0)
		} else {
			parallel(ctx, len(round), run)
		}
		var next []cuePass
		for _, r := range results {
			if r.internal != nil {
				return nil, nil, r.internal
			}
			if firstErr == nil {
				firstErr = r.err
			}
			issues = append(issues, r.issues...)
			for _, c := range r.large {
				if key := pathKey(c.path); !seen[key] {
					seen[key] = true
					for win := 1; win*cueWindow < c.count; win++ {
						next = append(next, cuePass{target: c.path, win: win})
					}
				}
			}
		}
		round = next
	}
	return issues, firstErr, nil
}

// cuePassResult is what one pass found: CUE's complaints, and the large
// lists and mappings it saw, whose other windows need passes of their own.
type cuePassResult struct {
	issues   []cueIssue
	err      error // CUE's
	internal error // no worker to run the pass on
	large    []cueLarge
}

type cueLarge struct {
	path  []any
	count int
}

func (w *cueWorker) runPass(kind Kind, n *Node, p cuePass) cuePassResult {
	view := &cueView{pass: p, offsets: map[string]int{}}
	data := view.encode(n, nil)
	res := cuePassResult{large: view.large}
	err := w.defs[kind].Unify(w.ctx.Encode(data)).Validate(cue.Concrete(true), cue.All())
	if err == nil {
		return res
	}
	res.err = err
	for _, e := range errors.Errors(err) {
		path := view.realPath(dataPath(e.Path()))
		if !p.first && !hasPathPrefix(path, p.target) {
			continue
		}
		format, args := e.Msg()
		res.issues = append(res.issues, cueIssue{path: path, msg: fmt.Sprintf(format, excerptArgs(args)...)})
	}
	return res
}

// cueView encodes a Node tree for one pass.
type cueView struct {
	pass  cuePass
	large []cueLarge
	// offsets maps a windowed list's path to the index of its first item shown.
	offsets map[string]int
}

func (v *cueView) encode(n *Node, path []any) any {
	if n.Kind != KindMap && n.Kind != KindList {
		return n.Any()
	}
	count := len(n.Items)
	if n.Kind == KindMap {
		count = len(n.Keys)
	}
	lo, hi := 0, count
	if count > cueWindow {
		key := pathKey(path)
		v.large = append(v.large, cueLarge{path: path, count: count})
		win := -1 // none of it
		switch {
		case !v.pass.first && len(path) == len(v.pass.target) && hasPathPrefix(path, v.pass.target):
			win = v.pass.win
		case !v.pass.first && len(path) < len(v.pass.target) && hasPathPrefix(v.pass.target, path):
			win = childIndex(n, v.pass.target[len(path)]) / cueWindow
		case v.pass.first || hasPathPrefix(path, v.pass.target):
			win = 0
		}
		if win < 0 {
			lo, hi = 0, 0
		} else {
			lo, hi = win*cueWindow, min((win+1)*cueWindow, count)
		}
		if n.Kind == KindList {
			v.offsets[key] = lo
		}
	}
	if n.Kind == KindMap {
		m := make(map[string]any, hi-lo)
		for i := lo; i < hi; i++ {
			m[n.Keys[i]] = v.encode(n.Values[i], append(path[:len(path):len(path)], n.Keys[i]))
		}
		return m
	}
	l := make([]any, 0, hi-lo)
	for i := lo; i < hi; i++ {
		l = append(l, v.encode(n.Items[i], append(path[:len(path):len(path)], i)))
	}
	return l
}

// realPath turns a path in the view into a path in the Node tree.
func (v *cueView) realPath(path []any) []any {
	out := make([]any, 0, len(path))
	for _, p := range path {
		if i, ok := p.(int); ok {
			if off, windowed := v.offsets[pathKey(out)]; windowed {
				p = i + off
			}
		}
		out = append(out, p)
	}
	return out
}

// childIndex is the position of the child named by p (a key or an index) in n.
func childIndex(n *Node, p any) int {
	switch p := p.(type) {
	case int:
		return p
	case string:
		for i, k := range n.Keys {
			if k == p {
				return i
			}
		}
	}
	return 0
}

func hasPathPrefix(path, prefix []any) bool {
	if len(prefix) > len(path) {
		return false
	}
	for i := range prefix {
		if path[i] != prefix[i] {
			return false
		}
	}
	return true
}
