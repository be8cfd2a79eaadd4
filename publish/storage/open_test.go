package storage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpen(t *testing.T) {
	t.Chdir(t.TempDir())
	abs := t.TempDir()
	for _, c := range []struct {
		url, want string // want: the store's String, or "" for an error
	}{
		{"file://.bic/artifacts", "file://.bic/artifacts"},
		{"file://" + abs, "file://" + abs},
		{"s3://bucket", "s3://bucket"},
		{"s3://bucket/prefix?endpoint=127.0.0.1:7070&insecure=1", "s3://bucket/prefix/?endpoint=127.0.0.1%3A7070&insecure=1"},
		{"s3://bucket/a/b/?region=eu-west-1", "s3://bucket/a/b/?region=eu-west-1"},
		{"s3://bucket?insecure=0", "s3://bucket"},
		{"file://", ""},
		{"file://dir?x=1", ""},
		{"s3://", ""},
		{"s3:///prefix", ""},
		{"s3://bucket/../x", ""},
		{"s3://bucket/a//b", ""},
		{"s3://bucket?secure=0", ""},
		{"s3://bucket?insecure=maybe", ""},
		{"s3://bucket?endpoint=host/path", ""},
		{"gs://bucket", ""},
		{".bic/artifacts", ""},
	} {
		t.Run(c.url, func(t *testing.T) {
			s, err := Open(t.Context(), c.url)
			if c.want == "" {
				if err == nil {
					s.Close()
					t.Fatalf("Open(%q) = %s, want an error", c.url, s)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", c.url, err)
			}
			defer s.Close()
			if got := s.String(); got != c.want {
				t.Errorf("Open(%q).String() = %q, want %q", c.url, got, c.want)
			}
		})
	}
	if fi, err := os.Stat(filepath.Join(".bic", "artifacts")); err != nil || !fi.IsDir() {
		t.Errorf("Open(file://.bic/artifacts) did not create the directory: %v", err)
	}
}

// TestOpenHidesSecrets: a URL with credentials is refused, and no error
// repeats the secret.
func TestOpenHidesSecrets(t *testing.T) {
	const secret = "s3cr3tVALUE"
	for _, url := range []string{
		"s3://AKIAEXAMPLE:" + secret + "@bucket/prefix",
		"s3://AKIAEXAMPLE:" + secret + "@bucket/prefix?bad=1",
		"s3://AKIAEXAMPLE:" + secret + "@bucket/%zz",
		"gs://AKIAEXAMPLE:" + secret + "@bucket",
		"gs://AKIAEXAMPLE:" + secret + "@bucket/%zz",
	} {
		s, err := Open(t.Context(), url)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) accepted credentials in the URL", url)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open's error repeats the secret: %v", err)
		}
	}
}

func TestCheckKey(t *testing.T) {
	for _, key := range []string{"envs/prod/current", "blobs/ab/cdef", "releases/r-1.json", "a b", "ü/ö", "a..b", "a.", strings.Repeat("k", maxKeyLen)} {
		if err := CheckKey(key); err != nil {
			t.Errorf("CheckKey(%q) = %v, want nil", key, err)
		}
	}
}
