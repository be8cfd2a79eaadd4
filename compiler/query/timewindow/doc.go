// Package timewindow reads bic's time ranges (last_30_days, this_month,
// 2024-01-01..2024-12-31) and resolves them to wall-clock windows in a
// time zone, as of a given time: relative ranges round to their unit, so
// every as-of time within the same hour or day gives the same window.
//
// It is a leaf of the standard library: the compiler checks ranges with
// it, the query planner resolves them, and filterstate (which the server
// imports) checks a viewer's choice, all with the same rules.
package timewindow
