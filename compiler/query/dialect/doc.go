// Package dialect writes the parts of SQL that differ between warehouses:
// parameter markers, identifier quoting, time zones, truncation to a grain,
// interval arithmetic and parameter casts. Each warehouse is one type
// implementing Dialect; For finds it by connection type, so a missing
// method is a compile error, not a panic at run time.
//
// It is a leaf: the query package writes whole statements over it.
package dialect
