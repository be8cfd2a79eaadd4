package superset

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// Limits bound what an export may hold, against ZIP bombs and huge files.
// They apply to a folder as to a ZIP.
type Limits struct {
	MaxEntries   int   // files and folders in the export
	MaxFileSize  int64 // bytes of one file, uncompressed
	MaxTotalSize int64 // bytes of all files read, uncompressed
	MaxRatio     int64 // uncompressed size / compressed size of one ZIP entry
}

// DefaultLimits are far above what Superset writes: an export of a few
// hundred dashboards is some megabytes.
func DefaultLimits() Limits {
	return Limits{MaxEntries: 20_000, MaxFileSize: 16 << 20, MaxTotalSize: 256 << 20, MaxRatio: 200}
}

// ErrUnsafeArchive is returned (wrapped, with the entry's name) for a ZIP
// entry that could read or write outside the export or is over a limit.
var ErrUnsafeArchive = errors.New("unsafe archive")

// OpenZip checks every entry of a ZIP archive before anything is read:
// names must be relative paths inside the archive (no "..", no leading
// "/", no drive letter or backslash), entries must be files or folders
// (not symbolic links), and the count, the sizes and each entry's
// compression ratio must be within lim. The result is the archive as an
// fs.FS for Import.
func OpenZip(r io.ReaderAt, size int64, lim Limits) (fs.FS, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("read zip: %w", err)
	}
	if zr == nil {
		return nil, fmt.Errorf("read zip: %w", err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, fmt.Errorf("%w: %d entries, more than the limit of %d", ErrUnsafeArchive, len(zr.File), lim.MaxEntries)
	}
	var total uint64
	seen := map[string]bool{}
	for _, f := range zr.File {
		if err := checkEntryName(f.Name); err != nil {
			return nil, fmt.Errorf("%w: entry %q: %v", ErrUnsafeArchive, excerpt(f.Name), err)
		}
		mode := f.Mode()
		if mode&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("%w: entry %q is a symbolic link", ErrUnsafeArchive, excerpt(f.Name))
		}
		if !mode.IsRegular() && !mode.IsDir() {
			return nil, fmt.Errorf("%w: entry %q is not a regular file (%v)", ErrUnsafeArchive, excerpt(f.Name), mode.Type())
		}
		name := strings.TrimSuffix(f.Name, "/")
		if seen[name] {
			return nil, fmt.Errorf("%w: entry %q appears twice", ErrUnsafeArchive, excerpt(f.Name))
		}
		seen[name] = true
		if mode.IsDir() {
			continue
		}
		if f.UncompressedSize64 > uint64(lim.MaxFileSize) {
			return nil, fmt.Errorf("%w: entry %q is %d bytes, more than the limit of %d", ErrUnsafeArchive, excerpt(f.Name), f.UncompressedSize64, lim.MaxFileSize)
		}
		if f.UncompressedSize64 > 1<<16 && f.UncompressedSize64/max(f.CompressedSize64, 1) > uint64(lim.MaxRatio) {
			return nil, fmt.Errorf("%w: entry %q compresses %d bytes into %d, a ratio above %d (a ZIP bomb?)", ErrUnsafeArchive,
				excerpt(f.Name), f.UncompressedSize64, f.CompressedSize64, lim.MaxRatio)
		}
		total += f.UncompressedSize64
		if total > uint64(lim.MaxTotalSize) {
			return nil, fmt.Errorf("%w: entries add up to more than %d bytes", ErrUnsafeArchive, lim.MaxTotalSize)
		}
	}
	return zr, nil
}

// checkEntryName refuses names that lead out of the archive's root.
func checkEntryName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case strings.ContainsRune(name, '\\'):
		return errors.New("backslash in the name")
	case strings.ContainsRune(name, 0):
		return errors.New("NUL in the name")
	case strings.HasPrefix(name, "/"):
		return errors.New("absolute path")
	case len(name) >= 2 && name[1] == ':':
		return errors.New("drive letter in the name")
	}
	for _, part := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if part == ".." {
			return errors.New("\"..\" in the path")
		}
	}
	if !fs.ValidPath(path.Clean(strings.TrimSuffix(name, "/"))) {
		return errors.New("not a valid relative path")
	}
	return nil
}

// readLimited reads one file of the export, refusing symbolic links and
// files over the limit whatever their declared size.
func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than the limit of %d bytes", limit)
	}
	return b, nil
}

// excerpt shortens a name from the export for a message (which quotes it
// with %q, escaping control characters).
func excerpt(s string) string {
	const max = 80
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}
