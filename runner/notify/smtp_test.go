package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseSMTPURL(t *testing.T) {
	const secret = "p@ss/w0rd#secret"
	for _, tc := range []struct {
		name    string
		url     string
		want    SMTPConfig
		wantErr string
	}{
		{
			name: "starttls by default",
			url:  "smtp://user:pa55word@mail.example.com?from=bic@example.com",
			want: SMTPConfig{Host: "mail.example.com", Port: 587, Username: "user", Password: "pa55word", From: "bic@example.com", TLS: TLSStartTLS},
		},
		{
			name: "percent-encoded password, port, timeout",
			url:  "smtp://user%40corp:p%40ss%2Fw0rd%23secret@mail.example.com:2525?from=Bic+%3Cbic@example.com%3E&tls=starttls&timeout=5s",
			want: SMTPConfig{Host: "mail.example.com", Port: 2525, Username: "user@corp", Password: secret, From: "Bic <bic@example.com>", TLS: TLSStartTLS, Timeout: 5 * time.Second},
		},
		{
			name: "smtps is implicit tls on 465",
			url:  "smtps://u:pw@mail.example.com?from=bic@example.com",
			want: SMTPConfig{Host: "mail.example.com", Port: 465, Username: "u", Password: "pw", From: "bic@example.com", TLS: TLSImplicit},
		},
		{
			name: "loopback relay without auth or tls",
			url:  "smtp://127.0.0.1:1025?from=bic@example.com&tls=none",
			want: SMTPConfig{Host: "127.0.0.1", Port: 1025, From: "bic@example.com", TLS: TLSNone},
		},
		{name: "no from", url: "smtp://u:p%40ss%2Fw0rd%23secret@mail.example.com", wantErr: "no from"},
		{name: "unencoded password", url: "smtp://u:" + secret + "@mail.example.com?from=bic@example.com", wantErr: "percent-encode"},
		{name: "unencoded ? in password", url: "smtp://u:1025?qzx9k@mail.example.com?from=bic@example.com", wantErr: "unknown parameter"},
		{name: "unencoded / in password", url: "smtp://u:25/secretpw@mail.example.com?from=bic@example.com", wantErr: "percent-encode"},
		{name: "scheme", url: "http://u:p%40ss%2Fw0rd%23secret@mail.example.com?from=bic@example.com", wantErr: "smtp or smtps"},
		{name: "tls mode", url: "smtp://u:p%40ss%2Fw0rd%23secret@mail.example.com?from=bic@example.com&tls=maybe", wantErr: `tls "maybe"`},
		{name: "unknown parameter", url: "smtp://u:p%40ss%2Fw0rd%23secret@mail.example.com?from=bic@example.com&password=x", wantErr: `unknown parameter`},
		{name: "bad port", url: "smtp://u:p%40ss%2Fw0rd%23secret@mail.example.com:99999?from=bic@example.com", wantErr: "out of range"},
		{name: "bad from", url: "smtp://u:p%40ss%2Fw0rd%23secret@mail.example.com?from=nobody", wantErr: `from "nobody"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSMTPURL(tc.url)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSMTPURL = %v, want an error containing %q", err, tc.wantErr)
				}
				assertNoSecret(t, []string{secret, "p%40ss%2Fw0rd%23secret", "w0rd", "qzx9k", "secretpw"}, err.Error())
				return
			}
			if err != nil {
				t.Fatalf("ParseSMTPURL: %v", err)
			}
			if d := cmp.Diff(tc.want, got, cmpopts.IgnoreUnexported(SMTPConfig{})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			assertNoSecret(t, []string{got.Password}, got.String())
		})
	}
}
