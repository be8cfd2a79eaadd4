package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bic-dev/bic/compiler"
)

// Flags that bound what compiling a project may read and how long its CUE
// may evaluate; every command that compiles honours them.
const (
	flagMaxFileSize    = "max-file-size"
	flagMaxProjectSize = "max-project-size"
	flagStepTimeout    = "step-timeout"
)

func addLimitFlags(fs *pflag.FlagSet) {
	def := compiler.DefaultLimits()
	fileSize, projectSize := sizeFlag(def.MaxFileSize), sizeFlag(def.MaxTotalSize)
	fs.Var(&fileSize, flagMaxFileSize, "the largest project file to read, such as 64MiB")
	fs.Var(&projectSize, flagMaxProjectSize, "the most bytes of project files to read in all")
	fs.Duration(flagStepTimeout, def.StepTimeout, "how long one step of compiling that cannot be interrupted (parsing a file, evaluating the CUE files) may take")
}

// projectLimits reads the limit flags of cmd's root.
func projectLimits(cmd *cobra.Command) (compiler.Limits, error) {
	l := compiler.DefaultLimits()
	fs := cmd.Root().PersistentFlags()
	if f, ok := fs.Lookup(flagMaxFileSize).Value.(*sizeFlag); ok {
		l.MaxFileSize = int64(*f)
	}
	if f, ok := fs.Lookup(flagMaxProjectSize).Value.(*sizeFlag); ok {
		l.MaxTotalSize = int64(*f)
	}
	if d, err := fs.GetDuration(flagStepTimeout); err == nil {
		l.StepTimeout = d
	}
	if err := l.Validate(); err != nil {
		return l, usageErrorf("%v", err)
	}
	return l, nil
}

// sizeFlag is a number of bytes, written as 1048576, 512KiB, 32MiB or 1GiB
// (KB, MB and GB are read as powers of 1024 too).
type sizeFlag int64

func (s *sizeFlag) String() string {
	n := int64(*s)
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.name)
		}
	}
	return strconv.FormatInt(n, 10)
}

func (s *sizeFlag) Set(v string) error {
	num := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GiB", 1 << 30}, {"GB", 1 << 30}, {"G", 1 << 30}, {"MiB", 1 << 20}, {"MB", 1 << 20}, {"M", 1 << 20}, {"KiB", 1 << 10}, {"KB", 1 << 10}, {"K", 1 << 10}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.size
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return fmt.Errorf("expected a size such as 32MiB, 512KiB or 1048576")
	}
	*s = sizeFlag(n * mult)
	return nil
}

func (s *sizeFlag) Type() string { return "SIZE" }
