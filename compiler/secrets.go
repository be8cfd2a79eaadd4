package compiler

import (
	"errors"
	"regexp"
	"slices"
	"strings"
)

var (
	// secretRE is a value that is one ${env:NAME} reference, nothing else.
	secretRE = regexp.MustCompile(`^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$`)
	// envRefRE finds ${env:NAME} references; the group is NAME.
	envRefRE = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}`)
	// secretParamRE finds the query parameters of a URL that hold secrets.
	secretParamRE = regexp.MustCompile(`(?i)([?&](?:password|sslpassword|secret|secret_key|token|access_key_secret)=)[^&#]*`)
)

// EnvRefs lists the NAMEs of the ${env:NAME} references in s, once each,
// in the order they first appear: what must be set before s is used.
func EnvRefs(s string) []string {
	var out []string
	for _, m := range envRefRE.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

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

// URL parts, for escaping what an ${env:…} reference brings into each.
const (
	partOpaque   = iota // not a URL: values go in as they are
	partUserinfo        // user and password
	partHost            // host, port, a list of hosts
	partRest            // path, query and fragment
)

// ExpandURL expands the ${env:NAME} references of a URL template such as
// postgres://bic:${env:PGPASSWORD}@db:5432/shop, percent-encoding each value
// for the part of the URL it lands in: a password holding @ / : # ? % or a
// space stays the password, instead of moving the host, the database or the
// query (and sending part of it to DNS). The parts are found in the
// template with its references still in place, so a value cannot change
// them. A template that is one reference is the whole URL and is used as it
// is; so is text without "://", which is not a URL.
func ExpandURL(tmpl string, lookup func(name string) (string, bool)) (out, missing string) {
	if secretRE.MatchString(tmpl) {
		return ExpandEnv(tmpl, lookup)
	}
	parts := urlParts(tmpl)
	var b strings.Builder
	last := 0
	for _, m := range envRefRE.FindAllStringSubmatchIndex(tmpl, -1) {
		b.WriteString(tmpl[last:m[0]])
		last = m[1]
		name := tmpl[m[2]:m[3]]
		v, ok := "", false
		if lookup != nil {
			v, ok = lookup(name)
		}
		if !ok {
			if missing == "" {
				missing = name
			}
			b.WriteString(tmpl[m[0]:m[1]])
			continue
		}
		switch parts[m[0]] {
		case partOpaque:
			b.WriteString(v)
		case partHost:
			// A host may be host:port, a list of them, or [IPv6].
			b.WriteString(percentEncode(v, ":,[]"))
		default:
			b.WriteString(percentEncode(v, ""))
		}
	}
	b.WriteString(tmpl[last:])
	return b.String(), missing
}

// urlParts maps the start of each reference in tmpl to the URL part it is
// in. References are opaque: their own ':' and '{' do not count.
func urlParts(tmpl string) map[int]int {
	refs := envRefRE.FindAllStringIndex(tmpl, -1)
	out := make(map[int]int, len(refs))
	// literal is tmpl with every reference blanked out to a letter, so
	// that the separators found in it are the template's own.
	literal := []byte(tmpl)
	for _, r := range refs {
		for i := r[0]; i < r[1]; i++ {
			literal[i] = 'x'
		}
	}
	lit := string(literal)
	start := strings.Index(lit, "://")
	if start < 0 {
		for _, r := range refs {
			out[r[0]] = partOpaque
		}
		return out
	}
	start += len("://")
	end := len(lit)
	if i := strings.IndexAny(lit[start:], "/?#"); i >= 0 {
		end = start + i
	}
	at := strings.LastIndex(lit[start:end], "@")
	for _, r := range refs {
		switch {
		case r[0] < start:
			out[r[0]] = partUserinfo // in the scheme: encode everything
		case at >= 0 && r[0] < start+at:
			out[r[0]] = partUserinfo
		case r[0] < end:
			out[r[0]] = partHost
		default:
			out[r[0]] = partRest
		}
	}
	return out
}

// percentEncode writes every byte of s but the unreserved characters of
// RFC 3986 (letters, digits, - . _ ~) and those in keep as %XX, which is
// valid in every part of a URL and decodes back to s.
func percentEncode(s, keep string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// RedactURL writes a URL for a message without its userinfo, user and
// password: everything between "://" and the last "@" becomes xxxxx, and so
// do the values of query parameters such as password. It parses nothing, so
// a URL whose password holds an unencoded @, / or # (which a URL parser
// would split in the wrong place) is redacted as well as a valid one.
func RedactURL(raw string) string {
	prefix, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		prefix, rest = raw[:i+len("://")], raw[i+len("://"):]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "xxxxx" + rest[at:]
	}
	return prefix + secretParamRE.ReplaceAllString(rest, "${1}xxxxx")
}

// ErrAmbiguousURL marks a URL with an "@" after its host: a user or
// password holding an unencoded @, /, ?, # or %, which would be read as
// part of the host, the path or the query.
var ErrAmbiguousURL = errors.New("an @ follows the host: percent-encode @ / ? # % and spaces in the user and password (@ is %40), or give the password as ${env:NAME}")

// CheckURLAuthority reports ErrAmbiguousURL for a URL in which an "@"
// follows the end of the host, such as postgres://u:a@b/c@db/shop: a
// connector would look up the host "b" and open the database "c@db/shop",
// sending part of the password to DNS and into its messages.
func CheckURLAuthority(raw string) error {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 && strings.Contains(rest[i:], "@") {
		return ErrAmbiguousURL
	}
	return nil
}

// RedactError hides secrets (expanded passwords) in err's message; the
// result still unwraps to err, for errors.Is. Secrets shorter than four
// bytes are left: replacing every "a" would garble the message, and hide
// nothing worth hiding.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
