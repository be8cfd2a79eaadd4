// Package benchkit is what the bench commands share: building the bic
// binary, copying a project, running bic on its embedded defaults, and
// printing figures.
package benchkit

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// BuildBic builds the module's cmd/bic into a temporary folder, which the
// returned function removes.
func BuildBic(ctx context.Context) (string, func(), error) {
	dir, err := os.MkdirTemp("", "bic-bench-bin-*")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "bic")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/bic-dev/bic/cmd/bic")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("go build ./cmd/bic: %w\n%s", err, out)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// EmbeddedEnv is this process's environment without bic's settings, so
// that bic uses its embedded defaults.
func EmbeddedEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BIC_") {
			env = append(env, kv)
		}
	}
	return env
}

// CopyProject copies the files of src to dst, leaving out .bic.
func CopyProject(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".bic" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}

// Dur prints a duration with three significant digits in s or ms.
func Dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
}

// Mark says whether a goal was met, for a table cell.
func Mark(ok bool) string {
	if ok {
		return "(met)"
	}
	return "(**not met**)"
}

// LoadAverage is /proc/loadavg's 1, 5 and 15 minute figures, "" where
// /proc has none.
func LoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// Median is the middle of ds (the upper one of an even count), 0 for none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
