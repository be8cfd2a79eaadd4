package compiler

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
)

// fileReader reads project files within Limits: only regular files, each
// at most MaxFileSize, all of them together at most MaxTotalSize.
//
// The file system decides what "inside the project" means: cmd/bic gives
// an os.Root, which refuses any path or symbolic link that leaves the
// folder. The reader also refuses a link whose target leaves the folder
// on its face, so that the message says so, whatever the file system.
type fileReader struct {
	fsys   fs.FS
	limits Limits
	used   int64 // bytes admitted so far, against MaxTotalSize
}

// admit decides whether file may be read, before anything is opened:
// opening a named pipe blocks, and a device never ends. d is the file's
// directory entry, which says whether it is a symbolic link.
func (fr *fileReader) admit(file string, d fs.DirEntry, sink *diagSink) bool {
	pos := Pos{File: file}
	link := d != nil && d.Type()&fs.ModeSymlink != 0
	if link {
		if target, outside := linkLeaves(fr.fsys, file); outside {
			sink.errorf(pos, CodeMissingFile, "cannot read: a symbolic link to %s, outside the project folder; bic reads only files inside it", quoteN(target, 4*maxExcerpt))
			return false
		}
	}
	info, err := fs.Stat(fr.fsys, file)
	switch {
	case err != nil && link:
		sink.errorf(pos, CodeMissingFile, "cannot read: a symbolic link that cannot be followed inside the project folder: %v", pathError(err))
		return false
	case err != nil:
		sink.errorf(pos, CodeMissingFile, "cannot read: %v", err)
		return false
	case !info.Mode().IsRegular():
		sink.errorf(pos, CodeMissingFile, "cannot read: %s, not a regular file; bic reads only regular files", describeMode(info.Mode()))
		return false
	case info.Size() > fr.limits.MaxFileSize:
		sink.errorf(pos, CodeMissingFile, "cannot read: the file is %s, more than the limit of %s for one project file", formatSize(info.Size()), formatSize(fr.limits.MaxFileSize))
		return false
	case fr.used+info.Size() > fr.limits.MaxTotalSize:
		sink.errorf(pos, CodeMissingFile, "cannot read: the project's files come to more than the limit of %s for all of them together", formatSize(fr.limits.MaxTotalSize))
		return false
	}
	fr.used += info.Size()
	return true
}

// read reads an admitted file, never more than MaxFileSize bytes of it.
func (fr *fileReader) read(file string, sink *diagSink) ([]byte, bool) {
	pos := Pos{File: file}
	f, err := fr.fsys.Open(file)
	if err != nil {
		sink.errorf(pos, CodeMissingFile, "cannot read: %v", err)
		return nil, false
	}
	defer f.Close()
	var size int64
	if info, err := f.Stat(); err == nil {
		// The file may have been replaced since it was admitted.
		if !info.Mode().IsRegular() {
			sink.errorf(pos, CodeMissingFile, "cannot read: %s, not a regular file; bic reads only regular files", describeMode(info.Mode()))
			return nil, false
		}
		size = info.Size()
	}
	var buf bytes.Buffer
	buf.Grow(int(min(size, fr.limits.MaxFileSize)) + bytes.MinRead)
	if _, err := buf.ReadFrom(io.LimitReader(f, fr.limits.MaxFileSize+1)); err != nil {
		sink.errorf(pos, CodeMissingFile, "cannot read: %v", err)
		return nil, false
	}
	if int64(buf.Len()) > fr.limits.MaxFileSize {
		sink.errorf(pos, CodeMissingFile, "cannot read: the file is more than the limit of %s for one project file", formatSize(fr.limits.MaxFileSize))
		return nil, false
	}
	return buf.Bytes(), true
}

// linkLeaves reads the symbolic link name and reports whether its target
// is outside the folder of fsys as written: absolute, or climbing above it.
func linkLeaves(fsys fs.FS, name string) (target string, outside bool) {
	rl, ok := fsys.(fs.ReadLinkFS)
	if !ok {
		return "", false
	}
	target, err := rl.ReadLink(name)
	if err != nil {
		return "", false
	}
	if path.IsAbs(target) || filepath.IsAbs(target) || filepath.VolumeName(target) != "" {
		return target, true
	}
	t := path.Clean(path.Join(path.Dir(name), filepath.ToSlash(target)))
	return target, t == ".." || strings.HasPrefix(t, "../")
}

// pathError is an error without the operation and path an *fs.PathError
// adds, where the message names the file and the link already.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// describeMode names what a path that is not a regular file is.
func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a folder"
	default:
		return "an irregular file"
	}
}
