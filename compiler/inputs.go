package compiler

// What a chart's or an alert's hash covers besides its own spec and its
// dataset: the settings its SQL is generated from. A change to any of them
// changes the SQL or its arguments, so it must change the hash, or the
// plan would imply no job and the precomputed results go stale.

// ProjectSettings is the project as an object of a snapshot: the bic.yaml
// settings that define what is computed. The addresses of the metadata DB,
// NATS and storage are left out: they say where bic runs, not what it
// computes, and may carry credentials. Connections are objects of their own.
type ProjectSettings struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Defaults    Defaults `json:"defaults"`
	Schedules   []string `json:"schedules,omitempty"`
}

// projectInputs are the project settings that generated SQL reads.
type projectInputs struct {
	Timezone string `json:"timezone"`
}

// chartInputs is what a chart's hash is taken of: its spec, every filter
// of its dashboard (their defaults are the state its job precomputes, and
// the state's key covers them all) and the project's time zone.
type chartInputs struct {
	Spec    Chart         `json:"spec"`
	Filters []Filter      `json:"filters,omitempty"`
	Project projectInputs `json:"project"`
	// Precompute is the dashboard's bound on precomputed states: with the
	// filters' values it says which states the chart's jobs compute.
	Precompute *int `json:"precompute,omitempty"`
}

// alertInputs is what an alert's hash is taken of: its spec and the
// project's time zone, which its data's wall-clock times are in.
type alertInputs struct {
	Spec    Alert         `json:"spec"`
	Project projectInputs `json:"project"`
}

func (p Project) inputs() projectInputs { return projectInputs{Timezone: p.Defaults.Timezone} }

// hashedFilters are a dashboard's filters as a chart's hash covers them:
// labels only show, so they are left out.
func hashedFilters(fs []Filter) []Filter {
	out := make([]Filter, len(fs))
	for i, f := range fs {
		f.Label = ""
		out[i] = f
	}
	return out
}

// projectObject is the project as an object of the manifest.
func (m *Manifest) projectObject() (Meta, ProjectSettings, bool) {
	if m.Project.Name == "" {
		return Meta{}, ProjectSettings{}, false
	}
	s := ProjectSettings{Name: m.Project.Name, Description: m.Project.Description, Defaults: m.Project.Defaults, Schedules: m.Project.Schedules}
	return Meta{ID: string(ProjectID(s.Name)), Hash: contentHash(KindProject, s, nil)}, s, true
}
