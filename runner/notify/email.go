package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/bic-dev/bic/compiler"
)

// Email sends a message through an SMTP server: a plain-text part, an
// HTML part showing the images inline (by Content-ID), and the files as
// attachments.
type Email struct {
	cfg     SMTPConfig
	to      []string
	subject string
	retry   Retry
	now     func() time.Time
}

// NewEmail is a notifier for the addresses to, through cfg's server;
// subject overrides the message's title as the subject line.
func NewEmail(cfg SMTPConfig, to []string, subject string, o Options) (*Email, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(to) == 0 {
		return nil, errors.New("notify: email: no recipients")
	}
	for _, a := range to {
		if _, err := mail.ParseAddress(a); err != nil {
			return nil, fmt.Errorf("notify: email: %q is not an address", a)
		}
	}
	if err := o.Retry.Validate(); err != nil {
		return nil, err
	}
	return &Email{cfg: cfg, to: append([]string(nil), to...), subject: subject, retry: o.Retry, now: o.now}, nil
}

func (e *Email) desc() string { return "email " + strings.Join(e.to, ", ") + " via " + e.cfg.String() }

// MessageID is the Message-ID of m's email, without angle brackets: the
// hash of the idempotency key at the From address's domain, so that a
// redelivered email has the same Message-ID and mail systems can drop it.
func (e *Email) MessageID(m Message) string {
	domain := "bic.invalid"
	if a, err := mail.ParseAddress(e.cfg.From); err == nil {
		if i := strings.LastIndex(a.Address, "@"); i >= 0 {
			domain = a.Address[i+1:]
		}
	}
	return "bic." + m.keyHash() + "@" + domain
}

// contentID is the Content-ID of the i-th image, without angle brackets.
func contentID(m Message, i int) string {
	return fmt.Sprintf("img%d.%s@bic", i, m.keyHash())
}

var emailHTML = template.Must(template.New("email").Parse(`<!doctype html>
<html><body style="font-family:sans-serif;color:#222">
<h2>{{.Title}}</h2>
{{if .Text}}<p>{{.Text}}</p>{{end}}
{{if .URL}}<p><a href="{{.URL}}">Open in bic</a></p>{{end}}
{{range .Images}}{{if .CID}}<p><img src="cid:{{.CID}}" alt="{{.Name}}"></p>{{else}}<p><a href="{{.URL}}">{{.Name}}</a></p>{{end}}
{{end}}{{if .Footer}}<p style="color:#777;font-size:12px">{{.Footer}}</p>{{end}}
</body></html>
`))

type emailImage struct {
	CID, Name string
	URL       template.URL
}

// compose builds the email of m.
func (e *Email) compose(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(e.cfg.From); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := msg.To(e.to...); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	subject := e.subject
	if subject == "" {
		subject = m.title()
	}
	msg.Subject(subject)
	msg.SetMessageIDWithValue(e.MessageID(m))
	msg.SetDateWithValue(e.now())
	msg.SetGenHeader(gomail.Header(HeaderIdempotencyKey), m.IdempotencyKey)
	msg.SetUserAgent(userAgent)

	var footer []string
	if m.Env != "" {
		footer = append(footer, "env "+m.Env)
	}
	if !m.Tick.IsZero() {
		footer = append(footer, m.Tick.UTC().Format("2006-01-02 15:04 UTC"))
	}
	var plain strings.Builder
	plain.WriteString(m.title() + "\n\n")
	if m.Text != "" {
		plain.WriteString(m.Text + "\n\n")
	}
	if m.URL != "" {
		plain.WriteString("Open in bic: " + m.URL + "\n\n")
	}
	data := struct {
		Title, Text, Footer string
		URL                 template.URL
		Images              []emailImage
	}{Title: m.title(), Text: m.Text, Footer: strings.Join(footer, " · "), URL: safeURL(m.URL)}
	for i, img := range m.Images {
		switch {
		case len(img.Data) > 0:
			cid := contentID(m, i)
			ct := img.ContentType
			if ct == "" {
				ct = "image/png"
			}
			if err := msg.EmbedReader(img.Name, bytes.NewReader(img.Data),
				gomail.WithFileContentID("<"+cid+">"), gomail.WithFileContentType(gomail.ContentType(ct))); err != nil {
				return nil, fmt.Errorf("embed %s: %w", img.Name, err)
			}
			data.Images = append(data.Images, emailImage{CID: cid, Name: img.Name})
		case img.URL != "":
			data.Images = append(data.Images, emailImage{Name: img.Name, URL: safeURL(img.URL)})
			plain.WriteString(img.Name + ": " + img.URL + "\n")
		}
	}
	for _, f := range m.Files {
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if err := msg.AttachReader(f.Name, bytes.NewReader(f.Data), gomail.WithFileContentType(gomail.ContentType(ct))); err != nil {
			return nil, fmt.Errorf("attach %s: %w", f.Name, err)
		}
	}
	if len(footer) > 0 {
		plain.WriteString("-- \n" + strings.Join(footer, " · ") + "\n")
	}
	var html bytes.Buffer
	if err := emailHTML.Execute(&html, data); err != nil {
		return nil, fmt.Errorf("html part: %w", err)
	}
	msg.SetBodyString(gomail.TypeTextPlain, plain.String())
	msg.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return msg, nil
}

// safeURL lets http and https links into the HTML part, nothing else.
func safeURL(u string) template.URL {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return template.URL(u)
	}
	return ""
}

// client is a go-mail client for one attempt.
func (e *Email) client(timeout time.Duration) (*gomail.Client, error) {
	tc := &tls.Config{ServerName: e.cfg.Host, MinVersion: tls.VersionTLS12}
	if e.cfg.TLSConfig != nil {
		tc = e.cfg.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = e.cfg.Host
		}
	}
	opts := []gomail.Option{
		gomail.WithPort(e.cfg.Port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(tc),
	}
	switch e.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if e.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(e.cfg.Username), gomail.WithPassword(e.cfg.Password))
	}
	return gomail.NewClient(e.cfg.Host, opts...)
}

// Notify sends m, retrying network errors and temporary (4xx) SMTP replies.
func (e *Email) Notify(ctx context.Context, m Message) error {
	_, err := e.notify(ctx, m)
	return err
}

func (e *Email) notify(ctx context.Context, m Message) (int, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	secrets := []string{e.cfg.Password}
	n, res := e.retry.run(ctx, func(ctx context.Context) result {
		msg, err := e.compose(m)
		if err != nil {
			return result{err: compiler.RedactError(fmt.Errorf("compose: %w", err), secrets...)}
		}
		timeout := e.cfg.Timeout
		if d, ok := ctx.Deadline(); ok && (timeout == 0 || time.Until(d) < timeout) {
			timeout = time.Until(d)
		}
		if timeout <= 0 {
			return result{err: context.DeadlineExceeded}
		}
		c, err := e.client(timeout)
		if err != nil {
			return result{err: compiler.RedactError(fmt.Errorf("smtp client: %w", err), secrets...)}
		}
		if err := c.DialAndSendWithContext(ctx, msg); err != nil {
			res := classifySMTP(err)
			res.err = compiler.RedactError(err, secrets...)
			return res
		}
		return result{}
	})
	if res.err == nil {
		return n, nil
	}
	return n, &Error{Channel: e.desc(), Attempts: n, Status: res.status, Permanent: !res.retryable, Err: res.err}
}

// classifySMTP says whether an SMTP failure is worth another attempt: a
// network error or a 4xx reply is, a 5xx reply or a TLS failure is not.
func classifySMTP(err error) result {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return result{status: se.ErrorCode(), retryable: se.IsTemp()}
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return result{status: te.Code, retryable: te.Code >= 400 && te.Code < 500}
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return result{retryable: true}
	}
	return result{}
}
