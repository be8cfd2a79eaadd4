//go:build race

package compiler

// raceEnabled: the race detector makes CUE about ten times slower, so the
// largest inputs are smaller under it.
const raceEnabled = true
