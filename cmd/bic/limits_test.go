package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestLimitFlags: --max-file-size and --max-project-size bound what any
// command that compiles reads; a size that is not one is a usage error.
func TestLimitFlags(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"bic.yaml":             slowBase,
		"datasets/orders.yaml": "dataset: orders\ntable: orders\ndimensions:\n  country: {type: string}\nmetrics:\n  revenue: {expr: sum(amount)}\n# " + strings.Repeat("x", 2000) + "\n",
	})
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"validate", "--max-file-size", "1KiB", dir}, exitInvalid, "datasets/orders.yaml: error: cannot read: the file is 2.1 KiB, more than the limit of 1 KiB for one project file"},
		{[]string{"--max-project-size", "2KiB", "--max-file-size", "2KiB", "validate", dir}, exitInvalid, "datasets/orders.yaml: error: cannot read: the file is 2.1 KiB, more than the limit of 2 KiB for one project file"},
		{[]string{"validate", "--max-file-size", "3KiB", "--max-project-size", "2KiB", dir}, exitUsage, "the total size limit (2048) must be at least the file size limit (3072)"},
		{[]string{"validate", "--max-file-size", "lots", dir}, exitUsage, "expected a size such as 32MiB, 512KiB or 1048576"},
		{[]string{"validate", "--step-timeout", "0s", dir}, exitUsage, "the step timeout must be positive"},
		{[]string{"validate", "--max-file-size", "64MiB", dir}, exitOK, "is valid"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("%v: exit %d, want %d; stderr:\n%s\nwant it to contain %q", tc.args, code, tc.code, stderr.String(), tc.stderr)
		}
	}
	var s sizeFlag
	for in, want := range map[string]string{"32MiB": "32MiB", "1048576": "1MiB", "1500": "1500", "2G": "2GiB", "512 KB": "512KiB"} {
		if err := s.Set(in); err != nil || s.String() != want {
			t.Errorf("%q: %v %q, want %q", in, err, s.String(), want)
		}
	}
}
