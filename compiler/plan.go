package compiler

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/bic-dev/bic/compiler/query/filterstate"
)

// Snapshot is what an environment holds now, as the metadata DB read it:
// every object's hash and, for the diff, its canonical spec.
type Snapshot struct {
	Env      string
	Revision int // 0 when the environment has none yet
	Objects  map[string]SnapshotObject
}

// SnapshotObject is one object of a snapshot.
type SnapshotObject struct {
	Hash string
	Spec json.RawMessage // fetched only for objects that the plan updates
}

// Action is what a plan does to an object.
type Action string

const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
)

// Change is one object that differs between the manifest and the snapshot.
type Change struct {
	ID      string      `json:"id"`
	Kind    string      `json:"kind"`
	Action  Action      `json:"action"`
	OldHash string      `json:"old_hash,omitempty"`
	NewHash string      `json:"new_hash,omitempty"`
	Fields  []FieldDiff `json:"fields,omitempty"`
	// Because names the changed dependencies of an object whose own spec
	// did not change.
	Because []string `json:"because,omitempty"`
}

// FieldDiff is one changed value of an updated object, by path.
type FieldDiff struct {
	Path string `json:"path"`
	Old  any    `json:"old,omitempty"`
	New  any    `json:"new,omitempty"`
}

// JobKind is what a job computes.
type JobKind string

const (
	// JobChartData runs a chart's query for one filter state and writes its
	// JSON result and its CSV from one pass over the rows.
	JobChartData JobKind = "chart_data"
	// JobThumbnail renders a dashboard's image once its chart data is done.
	JobThumbnail JobKind = "thumbnail"
	// JobSchedule (re)registers an alert's or a report's schedule.
	JobSchedule JobKind = "schedule"
	// JobPublish writes the revision's release and flips the environment's
	// pointer once every other job of the revision is done. Every revision
	// has one, even a revision with no other job.
	JobPublish JobKind = "publish"
)

func (k JobKind) String() string { return string(k) }

// Job is work a change implies for the runners. Its key is content-addressed:
// the same work always gives the same key, so a job is never done twice.
type Job struct {
	Key        string  `json:"key"`
	Kind       JobKind `json:"kind"`
	ObjectID   string  `json:"object_id"`
	InputsHash string  `json:"inputs_hash"`
	// StateKey and State are a chart_data job's filter state: its canonical
	// key and its normalised values.
	StateKey string          `json:"state_key,omitempty"`
	State    json.RawMessage `json:"state,omitempty"`
	// DependsOn holds the keys of jobs of the same plan that must be done
	// before this one can run (a thumbnail waits for its charts' data). A
	// publish job waits for every other job of its revision without naming them.
	DependsOn []string `json:"depends_on,omitempty"`
}

// PublishJob is the publish job of the revision that applying p writes.
// Its key names the environment and the revision, so a rollback to the
// definitions of an earlier revision is published again.
func PublishJob(p *Plan) Job {
	return Job{Key: fmt.Sprintf("publish:%s@%d", p.Env, p.BaseRevision+1), Kind: JobPublish,
		ObjectID: string(EnvironmentID(p.Env)), InputsHash: p.ManifestHash}
}

// Plan is the difference between a manifest and an environment's snapshot.
type Plan struct {
	Env          string `json:"env"`
	BaseRevision int    `json:"base_revision"`
	// Against names the environment a new preview was diffed against.
	Against      string   `json:"against,omitempty"`
	ManifestHash string   `json:"manifest_hash"`
	Changes      []Change `json:"changes"`
	Jobs         []Job    `json:"jobs"`
	// Precomputed counts, for each dashboard, the filter states its
	// release serves precomputed (the default included); viewers' other
	// states are computed when asked.
	Precomputed map[string]int `json:"precomputed,omitempty"`
}

// HasChanges reports whether applying the plan would change anything.
func (p *Plan) HasChanges() bool { return len(p.Changes) > 0 }

// WritesRevision reports whether applying the plan writes a revision: when
// it changes something, or when the environment has none yet (a preview
// of an unchanged project still needs one to serve). It is the one place
// that decides: apply, preview and rollback skip what it refuses, and the
// metadata store answers it with ErrNoChanges.
func (p *Plan) WritesRevision() bool { return p.HasChanges() || p.BaseRevision == 0 }

// Counts returns how many objects the plan creates, updates and deletes.
func (p *Plan) Counts() (create, update, del int) {
	for _, c := range p.Changes {
		switch c.Action {
		case ActionCreate:
			create++
		case ActionUpdate:
			update++
		case ActionDelete:
			del++
		}
	}
	return
}

// Diff compares the manifest with a snapshot by content hash. It is pure:
// the caller reads the snapshot (and the specs of objects whose hash
// changed) from the metadata DB.
func Diff(m *Manifest, snap Snapshot) *Plan {
	p := &Plan{Env: snap.Env, BaseRevision: snap.Revision, ManifestHash: m.Hash, Changes: []Change{}, Jobs: []Job{}}
	want := m.ObjectSpecs()
	changed := map[string]bool{}
	for _, id := range sortedKeys(want) {
		w := want[id]
		old, ok := snap.Objects[id]
		switch {
		case !ok:
			p.Changes = append(p.Changes, Change{ID: id, Kind: w.Kind, Action: ActionCreate, NewHash: w.Hash})
			changed[id] = true
		case old.Hash != w.Hash:
			c := Change{ID: id, Kind: w.Kind, Action: ActionUpdate, OldHash: old.Hash, NewHash: w.Hash}
			if old.Spec != nil {
				c.Fields = diffJSON(old.Spec, w.JSON())
			}
			p.Changes = append(p.Changes, c)
			changed[id] = true
		}
	}
	for _, id := range sortedKeys(snap.Objects) {
		if _, ok := want[id]; !ok {
			p.Changes = append(p.Changes, Change{ID: id, Kind: ObjectID(id).Kind(), Action: ActionDelete, OldHash: snap.Objects[id].Hash})
		}
	}
	// An update whose own fields are equal changed because a dependency
	// did, or a setting it reads: an object it reads counts only when its
	// own fields changed (a dashboard whose charts changed has not changed
	// the filters its charts read).
	ownChange := map[string]bool{}
	for _, c := range p.Changes {
		ownChange[c.ID] = c.Action != ActionUpdate || len(c.Fields) > 0 || snap.Objects[c.ID].Spec == nil
	}
	metas := m.metas()
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == ActionUpdate && len(c.Fields) == 0 {
			meta := metas[c.ID]
			for _, d := range meta.DependsOn {
				if changed[d] {
					c.Because = append(c.Because, d)
				}
			}
			for _, d := range meta.Reads {
				if changed[d] && ownChange[d] {
					c.Because = append(c.Because, d)
				}
			}
		}
	}
	p.Jobs = jobsFor(m, changed)
	for _, d := range m.Dashboards {
		if sts, err := m.PrecomputedStates(d.Spec.Name); err == nil {
			if p.Precomputed == nil {
				p.Precomputed = map[string]int{}
			}
			p.Precomputed[d.Spec.Name] = len(sts)
		}
	}
	return p
}

// NeedsSpec lists the objects whose old spec Diff needs to describe an
// update: those present in both with different hashes.
func NeedsSpec(m *Manifest, snap Snapshot) []string {
	var out []string
	for id, w := range m.ObjectSpecs() {
		if old, ok := snap.Objects[id]; ok && old.Hash != w.Hash {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// jobsFor derives the runners' work from the changed objects: a chart's
// query result and CSV for its dashboard's default filter state, a
// dashboard's thumbnail, an alert's or a report's schedule. An unchanged
// object implies nothing.
func jobsFor(m *Manifest, changed map[string]bool) []Job {
	jobs := []Job{}
	add := func(j Job) string {
		if j.Key == "" {
			j.Key = string(j.Kind) + ":" + j.ObjectID + "@" + j.InputsHash[:16]
		}
		jobs = append(jobs, j)
		return j.Key
	}
	states := map[string][]PrecomputedState{} // dashboard → its precomputed states
	for _, d := range m.Dashboards {
		if st, err := m.PrecomputedStates(d.Spec.Name); err == nil {
			states[d.Spec.Name] = st
		}
	}
	chartJobs := map[ObjectID]string{} // chart → its default state's chart_data job's key
	for _, c := range m.Charts {
		if !changed[c.ID] {
			continue
		}
		sts := states[c.Dashboard]
		if len(sts) == 0 {
			sts = []PrecomputedState{{}}
		}
		for i, st := range sts {
			key := add(ChartDataJob(c, st.State))
			if i == 0 {
				chartJobs[ObjectID(c.ID)] = key
			}
		}
	}
	for _, d := range m.Dashboards {
		if changed[d.ID] {
			var deps []string
			for _, c := range d.Spec.Charts {
				if key, ok := chartJobs[ChartID(d.Spec.Name, c.Name)]; ok {
					deps = append(deps, key)
				}
			}
			add(Job{Kind: JobThumbnail, ObjectID: d.ID, InputsHash: d.Hash, DependsOn: deps})
		}
	}
	for _, a := range m.Alerts {
		if changed[a.ID] {
			add(Job{Kind: JobSchedule, ObjectID: a.ID, InputsHash: a.Hash})
		}
	}
	for _, r := range m.Reports {
		if changed[r.ID] {
			add(Job{Kind: JobSchedule, ObjectID: r.ID, InputsHash: r.Hash})
		}
	}
	return jobs
}

// ChartDataJob computes a chart for a filter state. Its key names what it
// computes: the chart, its hash and the state's key. (The input key, what
// the warehouse is asked, needs the job's as_of, so the runner computes it
// with InputKey.)
func ChartDataJob(c ChartObject, state filterstate.State) Job {
	j := Job{Kind: JobChartData, ObjectID: c.ID, InputsHash: c.Hash}
	if state != nil {
		j.State, j.StateKey = state.JSON(), state.Key()
	}
	j.Key = string(j.Kind) + ":" + c.ID + "@" + c.Hash[:16]
	if j.StateKey != "" {
		j.Key += "/" + j.StateKey[:16]
	}
	return j
}

// ObjectSpec is one object of a manifest as the metadata DB stores it.
type ObjectSpec struct {
	Kind string
	Hash string
	spec any
}

// JSON is the object's spec as canonical JSON. It is computed on demand:
// a plan needs it only for the objects that changed.
func (o ObjectSpec) JSON() json.RawMessage {
	b, err := CanonicalJSON(o.spec)
	if err != nil {
		// Specs are plain data built by this package.
		panic(fmt.Sprintf("compiler: encode %s spec: %v", o.Kind, err))
	}
	return b
}

// ObjectSpecs returns every object by ID.
func (m *Manifest) ObjectSpecs() map[string]ObjectSpec {
	out := map[string]ObjectSpec{}
	add := func(kind string, meta Meta, spec any) {
		out[meta.ID] = ObjectSpec{Kind: kind, Hash: meta.Hash, spec: spec}
	}
	if meta, spec, ok := m.projectObject(); ok {
		add("project", meta, spec)
	}
	for _, o := range m.Connections {
		add("connection", o.Meta, o.Spec)
	}
	for _, o := range m.Datasets {
		add("dataset", o.Meta, o.Spec)
	}
	for _, o := range m.Charts {
		add("chart", o.Meta, o.Spec)
	}
	for _, o := range m.Dashboards {
		add("dashboard", o.Meta, o.Spec)
	}
	for _, o := range m.Alerts {
		add("alert", o.Meta, o.Spec)
	}
	for _, o := range m.Reports {
		add("report", o.Meta, o.Spec)
	}
	return out
}

// metas indexes the objects' meta by ID.
func (m *Manifest) metas() map[string]Meta {
	out := map[string]Meta{}
	for _, o := range m.Objects() {
		out[o.ID] = o
	}
	return out
}

// diffJSON lists the leaves that differ between two JSON documents.
func diffJSON(oldRaw, newRaw json.RawMessage) []FieldDiff {
	var a, b any
	if json.Unmarshal(oldRaw, &a) != nil || json.Unmarshal(newRaw, &b) != nil {
		return nil
	}
	var out []FieldDiff
	diffValue("", a, b, &out)
	return out
}

func diffValue(path string, a, b any, out *[]FieldDiff) {
	am, aMap := a.(map[string]any)
	bm, bMap := b.(map[string]any)
	if aMap && bMap {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for _, k := range sortedKeys(keys) {
			diffValue(joinPath(path, k), am[k], bm[k], out)
		}
		return
	}
	al, aList := a.([]any)
	bl, bList := b.([]any)
	if aList && bList {
		diffList(path, al, bl, out)
		return
	}
	if !jsonEqual(a, b) {
		*out = append(*out, FieldDiff{Path: path, Old: a, New: b})
	}
}

// diffList reports the elements that differ, not the whole list: named
// elements (charts, filters) are matched by name, so adding a chart shows
// charts[new_chart]; other lists are matched by position around their
// common beginning and end, so an inserted value shows alone.
func diffList(path string, a, b []any, out *[]FieldDiff) {
	if an, ok := byName(a); ok {
		if bn, ok := byName(b); ok {
			for _, elem := range a {
				name := elemName(elem)
				diffValue(fmt.Sprintf("%s[%s]", path, name), elem, bn[name], out)
			}
			for _, elem := range b {
				if name := elemName(elem); an[name] == nil {
					diffValue(fmt.Sprintf("%s[%s]", path, name), nil, elem, out)
				}
			}
			return
		}
	}
	prefix := 0
	for prefix < len(a) && prefix < len(b) && jsonEqual(a[prefix], b[prefix]) {
		prefix++
	}
	suffix := 0
	for suffix < len(a)-prefix && suffix < len(b)-prefix && jsonEqual(a[len(a)-1-suffix], b[len(b)-1-suffix]) {
		suffix++
	}
	oldMid, newMid := a[prefix:len(a)-suffix], b[prefix:len(b)-suffix]
	switch {
	case len(oldMid) == len(newMid):
		for i := range oldMid {
			diffValue(fmt.Sprintf("%s[%d]", path, prefix+i), oldMid[i], newMid[i], out)
		}
	case len(oldMid) == 0 || len(newMid) == 0:
		for i, v := range oldMid {
			*out = append(*out, FieldDiff{Path: fmt.Sprintf("%s[%d]", path, prefix+i), Old: v})
		}
		for i, v := range newMid {
			*out = append(*out, FieldDiff{Path: fmt.Sprintf("%s[%d]", path, prefix+i), New: v})
		}
	default:
		*out = append(*out, FieldDiff{Path: fmt.Sprintf("%s[%d:%d]", path, prefix, len(a)-suffix), Old: oldMid, New: newMid})
	}
}

// byName indexes a list whose elements are all objects with a distinct name.
func byName(list []any) (map[string]any, bool) {
	if len(list) == 0 {
		return map[string]any{}, true
	}
	idx := make(map[string]any, len(list))
	for _, elem := range list {
		name := elemName(elem)
		if name == "" || idx[name] != nil {
			return nil, false
		}
		idx[name] = elem
	}
	return idx, true
}

func elemName(elem any) string {
	m, _ := elem.(map[string]any)
	name, _ := m["name"].(string)
	return name
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
