//go:build unix

package compiler

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNamedPipeIsRefused: a named pipe hung validate until SIGKILL (opening
// one blocks); it is refused by its type, before it is opened. A folder
// named like a file is walked, not read.
func TestNamedPipeIsRefused(t *testing.T) {
	dir := hostileTree(t, nil, nil)
	if err := syscall.Mkfifo(filepath.Join(dir, "datasets", "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "dashboards", "folder.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := compileRoot(t, newTestCompiler(t), dir)
	want := []string{
		`datasets/fifo.yaml: error: cannot read: a named pipe (FIFO), not a regular file; bic reads only regular files`,
	}
	if diff := cmp.Diff(want, diagnosticsOf(res, "datasets/fifo")); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if got := diagnosticsOf(res, "dashboards/"); len(got) != 0 {
		t.Errorf("a folder named folder.yaml is walked, not read: %v", got)
	}
}
