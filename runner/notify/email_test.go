package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const (
	smtpUser     = "bic"
	smtpPassword = "smtp-pa55word-very-secret"
)

// selfSigned is a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bic test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// delivered is one message the test SMTP server accepted.
type delivered struct {
	user string
	tls  bool
	from string
	to   []string
	data []byte
}

// smtpServer is a real SMTP server (emersion/go-smtp) on loopback that
// offers STARTTLS (when it has a certificate), takes AUTH PLAIN only over
// TLS, and keeps what it receives.
type smtpServer struct {
	addr     string
	mu       sync.Mutex
	messages []delivered
	dataErrs []error // Data's answers, in turn; nil accepts
	dataSeen int
}

func newSMTPServer(t *testing.T, cert *tls.Certificate, dataErrs ...error) *smtpServer {
	t.Helper()
	s := &smtpServer{dataErrs: dataErrs}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = false
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *smtpServer) received() []delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivered(nil), s.messages...)
}

func (s *smtpServer) config(t *testing.T, pool *x509.CertPool) SMTPConfig {
	host, port, _ := net.SplitHostPort(s.addr)
	p, _ := strconv.Atoi(port)
	return SMTPConfig{
		Host: host, Port: p, Username: smtpUser, Password: smtpPassword,
		From: "bic@example.com", TLS: TLSStartTLS, TLSConfig: &tls.Config{RootCAs: pool},
	}
}

type session struct {
	srv  *smtpServer
	conn *smtp.Conn
	user string
	msg  delivered
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != smtpUser || password != smtpPassword {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg = delivered{from: from, user: s.user}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	n := s.srv.dataSeen
	s.srv.dataSeen++
	if n < len(s.srv.dataErrs) && s.srv.dataErrs[n] != nil {
		return s.srv.dataErrs[n]
	}
	_, s.msg.tls = s.conn.TLSConnectionState()
	s.msg.data = data
	s.srv.messages = append(s.srv.messages, s.msg)
	return nil
}

func (s *session) Reset()        { s.msg = delivered{} }
func (s *session) Logout() error { return nil }

// part is a leaf of a MIME message, decoded.
type part struct {
	contentType, contentID, disposition, filename string
	body                                          []byte
}

// leaves walks a MIME entity down to its leaves.
func leaves(t *testing.T, header map[string][]string, body io.Reader) []part {
	t.Helper()
	get := func(k string) string {
		if v := header[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	mt, params, err := mime.ParseMediaType(get("Content-Type"))
	if err != nil {
		t.Fatalf("content type %q: %v", get("Content-Type"), err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		var out []part
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, leaves(t, p.Header, p)...)
		}
	}
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	switch strings.ToLower(get("Content-Transfer-Encoding")) {
	case "base64":
		data, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(data)), ""))
		if err != nil {
			t.Fatalf("base64 part: %v", err)
		}
	case "quoted-printable":
		data, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatal(err)
		}
	}
	p := part{contentType: mt, contentID: get("Content-Id"), body: data}
	if d, dp, err := mime.ParseMediaType(get("Content-Disposition")); err == nil {
		p.disposition, p.filename = d, dp["filename"]
	}
	return []part{p}
}

// TestEmailSTARTTLS: a real SMTP server on loopback, STARTTLS with a
// self-signed certificate and AUTH PLAIN, receives one message: subject,
// Message-ID from the idempotency key, the PNG inline under a Content-ID
// that the HTML part references, the CSV attached, a plain-text part.
func TestEmailSTARTTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	srv := newSMTPServer(t, &cert)
	e, err := NewEmail(srv.config(t, pool), []string{"ops@example.com", "cfo@example.com"}, "Revenue alert", Options{Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage("")
	if err := e.Notify(context.Background(), m); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	d := got[0]
	if !d.tls || d.user != smtpUser || d.from != "bic@example.com" || strings.Join(d.to, ",") != "ops@example.com,cfo@example.com" {
		t.Errorf("envelope: tls %v user %q from %q to %v", d.tls, d.user, d.from, d.to)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(d.data))
	if err != nil {
		t.Fatal(err)
	}
	if s := msg.Header.Get("Subject"); s != "Revenue alert" {
		t.Errorf("Subject = %q", s)
	}
	if id := msg.Header.Get("Message-Id"); id != "<"+e.MessageID(m)+">" || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID = %q, want <%s>", id, e.MessageID(m))
	}
	if k := msg.Header.Get("X-Bic-Idempotency-Key"); k != m.IdempotencyKey {
		t.Errorf("X-Bic-Idempotency-Key = %q, want %q", k, m.IdempotencyKey)
	}
	parts := leaves(t, msg.Header, msg.Body)
	var plain, html string
	var png, csv *part
	for i, p := range parts {
		switch {
		case p.contentType == "text/plain" && p.disposition == "":
			plain = string(p.body)
		case p.contentType == "text/html":
			html = string(p.body)
		case p.contentType == "image/png":
			png = &parts[i]
		case p.contentType == "text/csv":
			csv = &parts[i]
		}
	}
	if !strings.Contains(plain, "revenue fell 23.4% (€10,234 vs €13,360)") || !strings.Contains(plain, m.URL) {
		t.Errorf("plain part = %q", plain)
	}
	if png == nil {
		t.Fatalf("no image/png part in %d parts", len(parts))
	}
	if !bytes.Equal(png.body, pngBytes) {
		t.Errorf("the inline PNG's bytes differ")
	}
	if png.disposition != "inline" {
		t.Errorf("PNG disposition %q, want inline", png.disposition)
	}
	cid := strings.Trim(png.contentID, "<>")
	if cid == "" || !strings.Contains(html, `src="cid:`+cid+`"`) {
		t.Errorf("the HTML part does not show the PNG's Content-ID %q:\n%s", png.contentID, html)
	}
	if !strings.Contains(html, "&lt;b&gt;") {
		t.Errorf("the HTML part does not escape the text:\n%s", html)
	}
	if csv == nil || !bytes.Equal(csv.body, m.Files[0].Data) || csv.disposition != "attachment" || csv.filename != "revenue.csv" {
		t.Errorf("CSV attachment = %+v", csv)
	}
}

// TestEmailFailures: STARTTLS is mandatory by default; a wrong password
// and a 5xx reply are not retried; a 4xx reply is, and the message then
// arrives once. No error holds the password.
func TestEmailFailures(t *testing.T) {
	cert, pool := selfSigned(t)
	for _, tc := range []struct {
		name      string
		noTLS     bool // the server offers no STARTTLS
		password  string
		dataErrs  []error
		wantErr   string // "" for delivered
		attempts  int
		permanent bool
		messages  int
	}{
		{name: "no STARTTLS offered", noTLS: true, wantErr: "STARTTLS", attempts: 1, permanent: true},
		{name: "wrong password", password: "wrong-" + smtpPassword, wantErr: "535", attempts: 1, permanent: true},
		{
			name:     "rejected data",
			dataErrs: []error{&smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "rejected " + smtpPassword}},
			wantErr:  "554", attempts: 1, permanent: true,
		},
		{
			name:     "temporary failure then accepted",
			dataErrs: []error{&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}},
			messages: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &cert
			if tc.noTLS {
				c = nil
			}
			srv := newSMTPServer(t, c, tc.dataErrs...)
			cfg := srv.config(t, pool)
			if tc.password != "" {
				cfg.Password = tc.password
			}
			e, err := NewEmail(cfg, []string{"ops@example.com"}, "", Options{Retry: fastRetry})
			if err != nil {
				t.Fatal(err)
			}
			err = e.Notify(context.Background(), testMessage(""))
			if n := len(srv.received()); n != tc.messages {
				t.Errorf("%d messages received, want %d", n, tc.messages)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Notify: %v", err)
				}
				return
			}
			var ne *Error
			if !errors.As(err, &ne) {
				t.Fatalf("Notify = %v, want an *Error", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || ne.Attempts != tc.attempts || ne.Permanent != tc.permanent {
				t.Errorf("error %q attempts %d permanent %v, want %q %d %v", err, ne.Attempts, ne.Permanent, tc.wantErr, tc.attempts, tc.permanent)
			}
			t.Logf("error: %v", err)
			assertNoSecret(t, []string{smtpPassword}, err.Error())
		})
	}
}
