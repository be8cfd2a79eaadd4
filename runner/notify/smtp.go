package notify

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bic-dev/bic/compiler"
)

// TLSMode is how the SMTP connection is protected.
type TLSMode string

// The TLS modes.
const (
	// TLSStartTLS upgrades a plain connection with STARTTLS, and fails when
	// the server does not offer it: the default, on port 587.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS, port 465).
	TLSImplicit TLSMode = "tls"
	// TLSNone uses STARTTLS only when the server offers it, else sends in
	// the clear: for a relay on loopback only, never across a network.
	TLSNone TLSMode = "none"
)

// SMTPConfig is where email goes. The binary reads it from BIC_SMTP_URL
// with ParseSMTPURL.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string // empty: no AUTH
	Password string
	From     string // the From address
	TLS      TLSMode
	// TLSConfig overrides the TLS settings (e.g. the roots of a private CA,
	// or a test's self-signed certificate); nil verifies against the
	// system roots with Host as the server name.
	TLSConfig *tls.Config
	// Timeout bounds one connection's dial and each SMTP command; 0 is the
	// Retry's PerAttempt.
	Timeout time.Duration
}

// Validate checks that the configuration can send.
func (c SMTPConfig) Validate() error {
	if err := c.check(); err != nil {
		return fmt.Errorf("notify: smtp: %w", err)
	}
	return nil
}

func (c SMTPConfig) check() error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("no host"))
	}
	if c.Port <= 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d is out of range", c.Port))
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("from %q is not an address", c.From))
	}
	switch c.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		errs = append(errs, fmt.Errorf("tls %q is not starttls, tls or none", c.TLS))
	}
	if c.Password != "" && c.Username == "" {
		errs = append(errs, errors.New("a password without a user"))
	}
	if len(errs) > 0 {
		return compiler.RedactError(errors.Join(errs...), c.Password)
	}
	return nil
}

// String names the server without its credentials.
func (c SMTPConfig) String() string {
	return "smtp://" + net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// ParseSMTPURL reads an SMTP URL:
//
//	smtp://user:pass@host:587?from=bic@example.com&tls=starttls
//	smtps://user:pass@host:465?from=bic@example.com
//
// smtp defaults to port 587 and tls=starttls, smtps to port 465 and
// tls=tls; timeout (a Go duration) bounds one connection. from is
// required, and may hold an @ as it is; the user and password must be
// percent-encoded (@ / ? # % as %40 %2F %3F %23 %25). Its errors show no
// part of the URL but the host: a password mistyped into another part
// stays out of them.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	fail := func(format string, args ...any) (SMTPConfig, error) {
		return SMTPConfig{}, compiler.RedactError(fmt.Errorf("notify: smtp url: "+format, args...))
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url's errors quote the URL, password and all.
		return fail("not a URL (percent-encode @ / ? # %% and spaces in the user and password)")
	}
	var c SMTPConfig
	switch u.Scheme {
	case "smtp":
		c.Port, c.TLS = 587, TLSStartTLS
	case "smtps":
		c.Port, c.TLS = 465, TLSImplicit
	default:
		return fail("the scheme must be smtp or smtps")
	}
	// An unencoded / ? or # in a password ends the authority early: what
	// follows it lands in the path, the query or the fragment.
	if (u.Path != "" && u.Path != "/") || u.Fragment != "" || u.Opaque != "" || u.Host == "" {
		return fail("it must be smtp://user:password@host:port?from=address (percent-encode @ / ? # %% in the user and password)")
	}
	c.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return fail("the port is not a number (percent-encode @ / ? # %% in the user and password)")
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fail("%s: the query is not valid", c.String())
	}
	for k := range q {
		switch k {
		case "from", "tls", "timeout":
		default:
			return fail("%s: unknown parameter (from, tls and timeout are known)", c.String())
		}
	}
	c.From = q.Get("from")
	if t := q.Get("tls"); t != "" {
		c.TLS = TLSMode(strings.ToLower(t))
	}
	if t := q.Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d < 0 {
			return fail("%s: timeout %q is not a duration", c.String(), t)
		}
		c.Timeout = d
	}
	if c.From == "" {
		return fail("%s: no from=address", c.String())
	}
	if err := c.check(); err != nil {
		return fail("%s: %w", c.String(), compiler.RedactError(err, c.Password))
	}
	return c, nil
}
