// Package filterstate is the canonical form of what a dashboard's viewer
// chose: Normalize applies the filters' defaults, checks every name and
// value, sorts multi-select values and gives the state's key, the key a
// release maps (chart, state) to a blob by. The runner side and the server
// both compute it, so it lives here, in a leaf.
//
// It imports only the standard library: the server imports it and must not
// import the compiler. A dashboard's filters reach it as a Dashboard, which
// the compiler fills from the manifest.
package filterstate
