package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestPreviewTTLIsTheSchemasDuration: --ttl is read by the one duration
// parser of the language (compiler.ParseDuration, as in a connection's
// timeout or an alert's cooldown), not by a second one of the CLI; a
// duration that is not positive, or not of that form, is a usage error.
func TestPreviewTTLIsTheSchemasDuration(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "proj")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"init", dir}, &out, &errOut); code != 0 {
		t.Fatalf("bic init: exit %d: %s", code, errOut.String())
	}
	for _, c := range []struct {
		ttl  string
		code int
	}{
		{"7d", 0},
		{"12h", 0},
		{"90m", 0},
		{"0d", exitUsage},
		{"-1d", exitUsage},
		{"1.5d", exitUsage},
		{"7 days", exitUsage},
		{"d", exitUsage},
		{"", exitUsage},
	} {
		out.Reset()
		errOut.Reset()
		code := run(context.Background(), []string{"preview", "-p", dir, "--env", "pr-1", "--ttl", c.ttl}, &out, &errOut)
		if code != c.code {
			t.Errorf("--ttl %q: exit %d, want %d: %s%s", c.ttl, code, c.code, out.String(), errOut.String())
			continue
		}
		if c.code == exitUsage && !strings.Contains(errOut.String(), "expected a duration such as 12h or 7d") {
			t.Errorf("--ttl %q: message %q", c.ttl, errOut.String())
		}
	}
}
