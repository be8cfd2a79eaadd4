package notify

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bic-dev/bic/compiler"
)

// Error is a delivery that failed: to which channel (redacted), after how
// many attempts, with which last HTTP status or SMTP code, and why. Its
// message never holds a URL's path, query or userinfo, nor a password.
type Error struct {
	Channel   string // the channel, redacted: a scheme and host, or addresses
	Attempts  int
	Status    int  // the last HTTP status or SMTP reply code; 0 when there was none
	Permanent bool // the receiver refused (a 4xx other than 429, a 5xx SMTP reply): not retried
	Err       error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("notify %s: ", e.Channel)
	if e.Attempts > 1 {
		s += fmt.Sprintf("%d attempts: ", e.Attempts)
	}
	return s + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// describeURL is a URL for messages: its scheme and host only. A webhook's
// secret may be anywhere else (a Slack webhook's is its path), so nothing
// else is shown.
func describeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid url)"
	}
	return compiler.RedactURL(u.Scheme + "://" + u.Host)
}

// urlSecrets are the parts of a URL to hide from messages: the URL as
// written and as parsed, its path, query and password.
func urlSecrets(raw string) []string {
	s := []string{raw}
	if u, err := url.Parse(raw); err == nil {
		s = append(s, u.String(), u.RawQuery, u.EscapedPath(), u.Path)
		if p, ok := u.User.Password(); ok {
			s = append(s, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	var out []string
	for _, v := range s {
		if v != "" && v != "/" {
			out = append(out, v)
		}
	}
	return out
}

// excerpt is the start of a response body, for an error: at most n bytes,
// cut at a rune, with the secrets replaced and quoted so that it cannot
// forge lines in a log.
func excerpt(body []byte, n int, secrets []string) string {
	s := compiler.RedactError(errors.New(string(body)), secrets...).Error()
	cut := false
	if len(s) > n {
		// Back to the start of the rune the cut splits; invalid bytes
		// elsewhere are strconv.Quote's to escape.
		i := n
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s, cut = s[:i], true
	}
	q := strconv.Quote(strings.TrimSpace(s))
	if cut {
		q += "…"
	}
	return q
}
