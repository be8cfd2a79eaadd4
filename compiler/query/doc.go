// Package query plans what a chart or an alert of a compiled Manifest
// asks of its warehouse: PlanChart takes a filter state and an as-of time
// (relative time ranges resolve against it, rounded to their unit) and
// gives a dialect-neutral Query, which SQL writes in its connection's
// dialect with every value bound as a parameter. InputKey is the one
// function that keys a query's result for the cache.
//
// Its leaves, which import nothing of the compiler: filterstate (a
// viewer's choice normalised, and its key; the server imports it),
// timewindow (time ranges as wall-clock windows) and dialect (the SQL that
// differs between warehouses, one type each).
//
// Like the compiler it is pure: no I/O, no drivers. The runner executes
// its queries (runner.RunChart).
package query
