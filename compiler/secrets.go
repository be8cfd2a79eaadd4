package compiler

import "regexp"

var (
	// secretRE is a value that is one ${env:NAME} reference, nothing else.
	secretRE = regexp.MustCompile(`^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$`)
	// envRefRE finds ${env:NAME} references; the group is NAME.
	envRefRE = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// ExpandEnv replaces the ${env:NAME} references in s with lookup's values.
// Secrets are expanded only at run time, by whoever connects; missing is
// the first NAME that lookup does not know ("" when all are known).
func ExpandEnv(s string, lookup func(name string) (string, bool)) (out, missing string) {
	out = envRefRE.ReplaceAllStringFunc(s, func(ref string) string {
		name := envRefRE.FindStringSubmatch(ref)[1]
		if lookup != nil {
			if v, ok := lookup(name); ok {
				return v
			}
		}
		if missing == "" {
			missing = name
		}
		return ref
	})
	return out, missing
}
