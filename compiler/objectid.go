package compiler

import "strings"

// ObjectID names an object of a manifest or a snapshot: KIND/NAME, where a
// chart's NAME is DASHBOARD/CHART. It is written as a plain string in JSON
// and in the metadata DB; build one with the constructors below and read
// it with Kind and Name, so the spelling lives in one place.
type ObjectID string

// objectID is the ID of an object of a kind the loader found.
func objectID(kind Kind, name string) ObjectID { return ObjectID(string(kind) + "/" + name) }

// ProjectID is the project's settings, which every chart's SQL reads.
func ProjectID(name string) ObjectID { return ObjectID("project/" + name) }

// ConnectionID names a connection.
func ConnectionID(name string) ObjectID { return ObjectID("connection/" + name) }

// DatasetID names a dataset.
func DatasetID(name string) ObjectID { return ObjectID("dataset/" + name) }

// DashboardID names a dashboard.
func DashboardID(name string) ObjectID { return ObjectID("dashboard/" + name) }

// ChartID names a chart of a dashboard.
func ChartID(dashboard, chart string) ObjectID {
	return ObjectID("chart/" + dashboard + "/" + chart)
}

// AlertID names an alert.
func AlertID(name string) ObjectID { return ObjectID("alert/" + name) }

// ReportID names a report.
func ReportID(name string) ObjectID { return ObjectID("report/" + name) }

// EnvironmentID names an environment, the object of its publish jobs.
func EnvironmentID(name string) ObjectID { return ObjectID("environment/" + name) }

// Kind is the part before the first slash: chart, dataset, …
func (id ObjectID) Kind() string {
	kind, _, _ := strings.Cut(string(id), "/")
	return kind
}

// Name is the part after the first slash: a chart's is DASHBOARD/CHART.
func (id ObjectID) Name() string {
	_, name, _ := strings.Cut(string(id), "/")
	return name
}

func (id ObjectID) String() string { return string(id) }
