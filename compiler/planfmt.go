package compiler

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// listLimit is how many changes of one kind and action a plan lists before
// it summarizes the rest: a first apply of 10,000 charts stays readable.
const listLimit = 50

var actionSigns = map[Action]string{ActionCreate: "+", ActionUpdate: "~", ActionDelete: "-"}

// WritePlanText prints a plan for a terminal, as terraform does.
func WritePlanText(w io.Writer, p *Plan) error {
	var b strings.Builder
	switch {
	case !p.HasChanges() && p.BaseRevision == 0 && p.Against != "":
		fmt.Fprintf(&b, "No changes from %s: %s starts as a copy of it, with nothing to compute.\n", p.Against, p.Env)
		_, err := io.WriteString(w, b.String())
		return err
	case !p.HasChanges():
		fmt.Fprintf(&b, "No changes: %s is up to date at revision %d.\n", p.Env, p.BaseRevision)
		_, err := io.WriteString(w, b.String())
		return err
	}
	if p.Against != "" {
		fmt.Fprintf(&b, "Plan for %s, against %s:\n\n", p.Env, p.Against)
	} else {
		fmt.Fprintf(&b, "Plan for %s (revision %d → %d):\n\n", p.Env, p.BaseRevision, p.BaseRevision+1)
	}
	forEachListed(p, func(c Change) {
		fmt.Fprintf(&b, "  %s %s %s", actionSigns[c.Action], c.Action, c.ID)
		if len(c.Because) > 0 {
			fmt.Fprintf(&b, "  (because %s changed)", strings.Join(c.Because, ", "))
		}
		b.WriteString("\n")
		for _, f := range c.Fields {
			fmt.Fprintf(&b, "      %s: %s → %s\n", f.Path, jsonText(f.Old), jsonText(f.New))
		}
	}, func(action Action, kind string, more int) {
		fmt.Fprintf(&b, "  %s … and %d more %s to %s\n", actionSigns[action], more, plural(more, kind), action)
	})
	create, update, del := p.Counts()
	fmt.Fprintf(&b, "\nJobs: %s\n", jobSummary(p.Jobs))
	if s := precomputedSummary(p); s != "" {
		fmt.Fprintf(&b, "Filter states precomputed: %s\n", s)
	}
	fmt.Fprintf(&b, "Plan: %d to create, %d to update, %d to delete.\n", create, update, del)
	_, err := io.WriteString(w, b.String())
	return err
}

// WritePlanMarkdown prints a plan as a pull-request comment.
func WritePlanMarkdown(w io.Writer, p *Plan) error {
	var b strings.Builder
	create, update, del := p.Counts()
	if !p.HasChanges() {
		fmt.Fprintf(&b, "### bic plan for `%s`: no changes\n\n`%s` is up to date at revision %d.\n", p.Env, p.Env, p.BaseRevision)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "### bic plan for `%s`: %d to create, %d to update, %d to delete\n\n", p.Env, create, update, del)
	b.WriteString("| | object | what changes |\n|---|---|---|\n")
	forEachListed(p, func(c Change) {
		var what []string
		for _, f := range c.Fields {
			what = append(what, fmt.Sprintf("`%s`: %s → %s", f.Path, mdCode(jsonText(f.Old)), mdCode(jsonText(f.New))))
		}
		if len(c.Because) > 0 {
			what = append(what, "because "+mdList(c.Because)+" changed")
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s |\n", actionSigns[c.Action], c.ID, strings.Join(what, "<br>"))
	}, func(action Action, kind string, more int) {
		fmt.Fprintf(&b, "| %s | … | %d more %s |\n", actionSigns[action], more, plural(more, kind))
	})
	fmt.Fprintf(&b, "\n**Jobs:** %s\n", jobSummary(p.Jobs))
	if s := precomputedSummary(p); s != "" {
		fmt.Fprintf(&b, "\n**Filter states precomputed:** %s\n", s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WritePlanJSON prints the whole plan as JSON.
func WritePlanJSON(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p)
}

// forEachListed calls list for each change, up to listLimit per action and
// kind, and more once per group for the rest.
func forEachListed(p *Plan, list func(Change), more func(Action, string, int)) {
	type group struct {
		action Action
		kind   string
	}
	seen := map[group]int{}
	var order []group
	for _, c := range p.Changes {
		g := group{c.Action, c.Kind}
		if seen[g] == 0 {
			order = append(order, g)
		}
		seen[g]++
		if seen[g] <= listLimit {
			list(c)
		}
	}
	for _, g := range order {
		if n := seen[g] - listLimit; n > 0 {
			more(g.action, g.kind, n)
		}
	}
}

func jobSummary(jobs []Job) string {
	if len(jobs) == 0 {
		return "none"
	}
	counts := map[string]int{}
	for _, j := range jobs {
		counts[string(j.Kind)]++
	}
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	return fmt.Sprintf("%d (%s)", len(jobs), strings.Join(parts, ", "))
}

func jsonText(v any) string {
	if v == nil {
		return "(none)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func mdCode(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }

func mdList(items []string) string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = "`" + it + "`"
	}
	return strings.Join(out, ", ")
}

// precomputedSummary lists each dashboard's precomputed filter states,
// "sales 9, marketing 4", or "" for a project without dashboards.
func precomputedSummary(p *Plan) string {
	var parts []string
	for _, name := range sortedKeys(p.Precomputed) {
		parts = append(parts, fmt.Sprintf("%s %d", name, p.Precomputed[name]))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ") + " (other states are computed when a viewer asks)"
}
