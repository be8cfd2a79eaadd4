// Package schema embeds the CUE definitions of bic's language.
package schema

import _ "embed"

// Source is the CUE text of every definition (#Project, #Dataset, …).
//
//go:embed bic.cue
var Source string

// Version changes whenever the definitions change in a way that can change a
// compiled object; it is part of every content hash.
const Version = "1"
