package compiler

// The compiler checks time zone names itself, so it must not depend on the
// machine's zoneinfo files: the same project validates the same everywhere.
import _ "time/tzdata"
