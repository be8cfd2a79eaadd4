package compiler

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits bound what one compilation reads and evaluates. A project is often
// a pull request's files, so a hostile one must not be able to make the
// compiler read a device, exhaust memory or run for ever.
type Limits struct {
	// MaxFileSize is the size of the largest project file read, in bytes.
	MaxFileSize int64
	// MaxTotalSize bounds the bytes of all project files together.
	MaxTotalSize int64
	// StepTimeout bounds each step of the compiler that cannot be
	// interrupted: parsing one YAML file, evaluating the CUE package,
	// converting one CUE object. A step that takes longer is abandoned
	// with a diagnostic (the parsers and CUE take time that grows with the
	// square of some inputs).
	StepTimeout time.Duration
}

// DefaultLimits are generous for real projects: a 20 MB dashboard file
// compiles.
func DefaultLimits() Limits {
	return Limits{
		MaxFileSize:  32 << 20,
		MaxTotalSize: 256 << 20,
		StepTimeout:  time.Minute,
	}
}

// Validate reports limits that would refuse every project.
func (l Limits) Validate() error {
	var errs []error
	if l.MaxFileSize <= 0 {
		errs = append(errs, fmt.Errorf("compiler limits: the file size limit must be positive, got %d", l.MaxFileSize))
	}
	if l.MaxTotalSize < l.MaxFileSize {
		errs = append(errs, fmt.Errorf("compiler limits: the total size limit (%d) must be at least the file size limit (%d)", l.MaxTotalSize, l.MaxFileSize))
	}
	if l.StepTimeout <= 0 {
		errs = append(errs, fmt.Errorf("compiler limits: the step timeout must be positive, got %s", l.StepTimeout))
	}
	return errors.Join(errs...)
}

// CodeLimit is the code of a step the compiler abandons because it took
// longer than Limits allow. A file it refuses to read (too large, not a
// regular file, outside the project) is CodeMissingFile, like any file that
// cannot be read: what it would define is missing.
const CodeLimit = "limit"

// formatSize writes a byte count for a message: 32 MiB, 1.5 KiB, 12 bytes.
func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	s := strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + [...]string{"KiB", "MiB", "GiB", "TiB"}[exp]
}
