package compiler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bic-dev/bic/compiler/query/filterstate"
	"github.com/bic-dev/bic/compiler/query/timewindow"
	"github.com/bic-dev/bic/schema"
)

// Manifest is a compiled project: every object normalized, with defaults
// filled in and references checked, each carrying a content hash. It is
// immutable once built and serializes deterministically.
type Manifest struct {
	SchemaVersion string             `json:"schema_version"`
	Project       Project            `json:"project"`
	Hash          string             `json:"hash"`
	Connections   []ConnectionObject `json:"connections"`
	Datasets      []DatasetObject    `json:"datasets"`
	Charts        []ChartObject      `json:"charts"`
	Dashboards    []DashboardObject  `json:"dashboards"`
	Alerts        []AlertObject      `json:"alerts"`
	Reports       []ReportObject     `json:"reports"`

	index atomic.Pointer[manifestIndex]
}

// Meta is what every manifest object carries besides its spec.
type Meta struct {
	ID   string `json:"id"` // kind/name, or chart/DASHBOARD/CHART
	Hash string `json:"hash"`
	// DependsOn lists the IDs whose hashes are part of this one's.
	DependsOn []string `json:"depends_on,omitempty"`
	// Reads lists the IDs whose settings, not whole hashes, are part of
	// this one's: a chart reads its dashboard's filters and the project's
	// time zone.
	Reads []string `json:"reads,omitempty"`
	// Source is where the object is defined; it is not hashed, so moving a
	// definition to another file changes nothing.
	Source Pos `json:"source"`
}

type ConnectionObject struct {
	Meta
	Spec Connection `json:"spec"`
}

type DatasetObject struct {
	Meta
	Spec Dataset `json:"spec"`
}

type ChartObject struct {
	Meta
	Dashboard string `json:"dashboard"`
	Spec      Chart  `json:"spec"`
}

type DashboardObject struct {
	Meta
	Spec Dashboard `json:"spec"`
}

type AlertObject struct {
	Meta
	Spec Alert `json:"spec"`
}

type ReportObject struct {
	Meta
	Spec Report `json:"spec"`
}

// Objects lists the meta of every object in a fixed order, for diffs.
func (m *Manifest) Objects() []Meta {
	var out []Meta
	if p, _, ok := m.projectObject(); ok {
		out = append(out, p)
	}
	for _, o := range m.Connections {
		out = append(out, o.Meta)
	}
	for _, o := range m.Datasets {
		out = append(out, o.Meta)
	}
	for _, o := range m.Charts {
		out = append(out, o.Meta)
	}
	for _, o := range m.Dashboards {
		out = append(out, o.Meta)
	}
	for _, o := range m.Alerts {
		out = append(out, o.Meta)
	}
	for _, o := range m.Reports {
		out = append(out, o.Meta)
	}
	return out
}

// Alert returns the alert called name.
func (m *Manifest) Alert(name string) (AlertObject, bool) {
	i, ok := m.lookup().alerts[name]
	if !ok {
		return AlertObject{}, false
	}
	return m.Alerts[i], true
}

// Report returns the report called name.
func (m *Manifest) Report(name string) (ReportObject, bool) {
	i, ok := m.lookup().reports[name]
	if !ok {
		return ReportObject{}, false
	}
	return m.Reports[i], true
}

// Chart returns the chart with id DASHBOARD/CHART.
func (m *Manifest) Chart(ref string) (ChartObject, bool) {
	i, ok := m.lookup().charts[ref]
	if !ok {
		return ChartObject{}, false
	}
	return m.Charts[i], true
}

// Dataset returns the dataset called name.
func (m *Manifest) Dataset(name string) (DatasetObject, bool) {
	i, ok := m.lookup().datasets[name]
	if !ok {
		return DatasetObject{}, false
	}
	return m.Datasets[i], true
}

// Connection returns the connection called name.
func (m *Manifest) Connection(name string) (ConnectionObject, bool) {
	i, ok := m.lookup().connections[name]
	if !ok {
		return ConnectionObject{}, false
	}
	return m.Connections[i], true
}

// Dashboard returns the dashboard called name.
func (m *Manifest) Dashboard(name string) (DashboardObject, bool) {
	i, ok := m.lookup().dashboards[name]
	if !ok {
		return DashboardObject{}, false
	}
	return m.Dashboards[i], true
}

// manifestIndex finds objects by name: planning every chart of a large
// project would otherwise scan the lists once per chart.
type manifestIndex struct {
	charts, datasets, connections, dashboards, alerts, reports map[string]int

	// filters describes each dashboard's filters to filterstate, and
	// defaults holds each one's default state, both built on first use:
	// planning a chart would otherwise rebuild its dashboard's description
	// and normalise its defaults every time.
	filtersOnce sync.Once
	filters     map[string]filterstate.Dashboard
	defaults    map[string]defaultState
}

// defaultState is a dashboard's normalised default state, or why its
// defaults do not normalise.
type defaultState struct {
	state filterstate.State
	err   error
}

// filterDashboards returns every dashboard's filterstate description,
// building them on first use.
func (x *manifestIndex) filterDashboards(m *Manifest) map[string]filterstate.Dashboard {
	x.filtersOnce.Do(func() {
		x.filters = make(map[string]filterstate.Dashboard, len(m.Dashboards))
		x.defaults = make(map[string]defaultState, len(m.Dashboards))
		for _, d := range m.Dashboards {
			fd := m.filterDashboard(d)
			x.filters[d.Spec.Name] = fd
			st, err := filterstate.Normalize(fd, nil)
			x.defaults[d.Spec.Name] = defaultState{st, err}
		}
	})
	return x.filters
}

func (x *manifestIndex) covers(m *Manifest) bool {
	return len(x.charts) == len(m.Charts) && len(x.datasets) == len(m.Datasets) &&
		len(x.connections) == len(m.Connections) && len(x.dashboards) == len(m.Dashboards) &&
		len(x.alerts) == len(m.Alerts) && len(x.reports) == len(m.Reports)
}

// lookup returns the index, building it on first use (and again if the
// manifest has grown since, as it does while the resolver builds it).
func (m *Manifest) lookup() *manifestIndex {
	if x := m.index.Load(); x != nil && x.covers(m) {
		return x
	}
	x := &manifestIndex{charts: map[string]int{}, datasets: map[string]int{}, connections: map[string]int{}, dashboards: map[string]int{},
		alerts: map[string]int{}, reports: map[string]int{}}
	for i, c := range m.Charts {
		x.charts[ChartID(c.Dashboard, c.Spec.Name).Name()] = i
	}
	for i, d := range m.Datasets {
		x.datasets[d.Spec.Name] = i
	}
	for i, c := range m.Connections {
		x.connections[c.Spec.Name] = i
	}
	for i, d := range m.Dashboards {
		x.dashboards[d.Spec.Name] = i
	}
	for i, a := range m.Alerts {
		x.alerts[a.Spec.Name] = i
	}
	for i, r := range m.Reports {
		x.reports[r.Spec.Name] = i
	}
	m.index.Store(x)
	return x
}

// JSON is the manifest's canonical, indented JSON.
func (m *Manifest) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return buf.Bytes(), nil
}

// contentHash is the sha256 of the canonical JSON of the schema version,
// the object's kind, its spec and the hashes of what it depends on. A
// change in a dependency therefore changes every dependent's hash.
func contentHash(kind Kind, spec any, deps map[string]string) string {
	doc := map[string]any{
		"schema": schema.Version,
		"kind":   kind,
		"spec":   spec,
		"deps":   deps,
	}
	b, err := CanonicalJSON(doc)
	if err != nil {
		// Specs are plain data built by this package; failing to encode one is a bug.
		panic(fmt.Sprintf("compiler: hash %s: %v", kind, err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// manifestHash is the hash of all object IDs and hashes: it changes when
// anything in the project does.
func manifestHash(m *Manifest) string {
	objs := m.Objects()
	sort.Slice(objs, func(i, j int) bool { return objs[i].ID < objs[j].ID })
	h := sha256.New()
	fmt.Fprintf(h, "schema %s\nproject %s\n", schema.Version, contentHash(KindProject, m.Project, nil))
	buf := make([]byte, 0, 256)
	for _, o := range objs {
		buf = append(append(append(append(buf[:0], o.ID...), ' '), o.Hash...), '\n')
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Location is the project's time zone: queries' wall-clock times are in it.
func (m *Manifest) Location() (*time.Location, error) {
	tz := m.Project.Defaults.Timezone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := timewindow.Location(tz)
	if err != nil {
		return nil, fmt.Errorf("project time zone: %w", err)
	}
	return loc, nil
}
