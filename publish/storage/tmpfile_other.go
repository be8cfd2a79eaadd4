//go:build !linux

package storage

import (
	"errors"
	"os"
)

var errNoUnnamed = errors.New("no unnamed temporary files on this system")

// openUnnamed is Linux's O_TMPFILE; elsewhere temporary files have names.
func openUnnamed(*os.File) (*os.File, error) { return nil, errNoUnnamed }

func linkUnnamed(_, _ *os.File, _ string) error { return errNoUnnamed }
